// The dual-stack VPC Berth's tasks, NLBs and EFS mount targets live in, and the two security groups
// the drivers attach: one on every task, one on every EFS mount target.
//
// Where tasks run depends on `natGateways`:
// - 0 (default): in the public subnets, beside the NLBs. Egress to IPv6 destinations leaves over
//   IPv6 through the internet gateway; each task also gets a public IPv4 address
//   (ASSIGN_PUBLIC_IPV4=true) because Fargate pulls images, ships awslogs and reads Secrets Manager
//   over IPv4 in a dual-stack subnet. Inbound is refused by the task security group, not by routing.
// - n > 0: in private subnets: IPv6 egress through the egress-only internet gateway (nothing from
//   the internet can open a connection in), IPv4 egress through n NAT gateways, no public address.
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EC2_REQUIRE_PRIVATE_SUBNETS_FOR_EGRESSONLYINTERNETGATEWAY } from 'aws-cdk-lib/cx-api';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface BerthNetworkProps {
  /** Availability zones. */
  readonly maxAzs: number;
  /** NAT gateways; 0 runs tasks in the public subnets with a public IPv4 address each. */
  readonly natGateways: number;
  /** Retention of the VPC flow log. */
  readonly logRetention: logs.RetentionDays;
}

export class BerthNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /** Dual-stack subnets with a route to the internet gateway: NLBs (and tasks when there is no NAT). */
  readonly publicSubnets: ec2.ISubnet[];
  /** Where tasks and EFS mount targets go. */
  readonly taskSubnets: ec2.ISubnet[];
  /** Whether tasks need a public IPv4 address to reach IPv4-only destinations. */
  readonly assignPublicIpv4: boolean;
  /** On every task ENI: all egress; ingress only from endpoint NLBs (rules added by the driver). */
  readonly taskSecurityGroup: ec2.SecurityGroup;
  /** On every EFS mount target: NFS from tasks, nothing else. */
  readonly volumeSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: BerthNetworkProps) {
    super(scope, id);
    // An egress-only internet gateway only when private subnets route through it (CDK's default
    // creates one even without them).
    this.node.setContext(EC2_REQUIRE_PRIVATE_SUBNETS_FOR_EGRESSONLYINTERNETGATEWAY, true);
    const privateTasks = props.natGateways > 0;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipProtocol: ec2.IpProtocol.DUAL_STACK,
      maxAzs: props.maxAzs,
      natGateways: props.natGateways,
      subnetConfiguration: [
        // No address is handed out by the subnet: a task asks for one (ASSIGN_PUBLIC_IPV4), an NLB has its own.
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 20, mapPublicIpOnLaunch: false },
        ...(privateTasks ? [{ name: 'Tasks', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 }] : []),
      ],
      // Berth attaches its own groups to every ENI and never the default one; restricting it would
      // add a custom-resource Lambda to the stack for no gain.
      restrictDefaultSecurityGroup: false,
    });
    this.publicSubnets = this.vpc.publicSubnets;
    this.taskSubnets = privateTasks ? this.vpc.privateSubnets : this.vpc.publicSubnets;
    this.assignPublicIpv4 = !privateTasks;

    this.createFlowLog(props.logRetention);
    this.taskSecurityGroup = this.createTaskSecurityGroup();
    this.volumeSecurityGroup = this.createVolumeSecurityGroup(this.taskSecurityGroup);
  }

  private createFlowLog(retention: logs.RetentionDays): void {
    // Rejected and accepted flows, for incident response; a quiet platform writes little.
    const logGroup = new logs.LogGroup(this, 'FlowLog', { retention });
    this.vpc.addFlowLog('FlowLogToCloudWatch', { destination: ec2.FlowLogDestination.toCloudWatchLogs(logGroup) });
  }

  private createTaskSecurityGroup(): ec2.SecurityGroup {
    // No ingress here: the endpoint driver admits each env's NLB security group into this one when
    // it creates the NLB (nlb-security-group.ts), so a task is reachable only through an endpoint.
    // CloudFormation owns no ingress rule of this group, so a stack update never removes theirs.
    return new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: 'Berth app tasks: any egress; ingress only from the NLBs of Berth endpoints (added at runtime)',
      allowAllOutbound: true,
      allowAllIpv6Outbound: true,
    });
  }

  private createVolumeSecurityGroup(tasks: ec2.SecurityGroup): ec2.SecurityGroup {
    const group = new ec2.SecurityGroup(this, 'VolumeSecurityGroup', {
      vpc: this.vpc,
      description: 'Berth EFS mount targets: NFS from app tasks only',
      allowAllOutbound: false,
    });
    group.addIngressRule(tasks, ec2.Port.tcp(2049), 'NFS from Berth app tasks');
    return group;
  }
}
