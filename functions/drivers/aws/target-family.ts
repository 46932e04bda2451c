// The address family an endpoint's target group reaches its targets over, in one place: the NLB
// driver creates the target group with it, and the task's health probe checks the app over the
// same family, so an app that passes Berth's gate also passes the NLB's health check. (An app
// listening on 0.0.0.0 only answers 127.0.0.1 but not the target group's IPv6 health checks.)
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-target-groups.html#target-group-ip-address-type
export const TARGET_IP_ADDRESS_TYPE = 'ipv6' as const;

/** The loopback address of that family, as a host in a URL and as a bare address. */
export const TARGET_LOOPBACK = { url: '[::1]', address: '::1' } as const;
