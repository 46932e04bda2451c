// What every client prints under an endpoint. It lives in the contract (no Node imports) so the CLI,
// the console and MCP say the same thing the embedded driver does.
import type { Endpoint } from './manifest.ts';

/** Notes on an endpoint: address families, PROXY protocol, and who does TLS. */
export function endpointNotes(endpoint: Endpoint): string[] {
  const notes = [
    endpoint.ipv4
      ? 'IPv6 and IPv4: accepts connections over both (ipv4: true)'
      : 'IPv6 only: IPv4 clients cannot connect; set `ipv4: true` on the endpoint in berth.yaml (or `berth endpoints create --ipv4`) to accept them',
  ];
  notes.push(
    endpoint.proxyProtocol === 'v2'
      ? 'PROXY protocol v2: every connection starts with a PROXY v2 header carrying the client address and port; the app must read it before its own protocol'
      : 'no PROXY protocol: the app sees the proxy as the peer; set `proxyProtocol: v2` (or `--proxy-protocol v2`) to receive the client address',
  );
  notes.push(`TLS is the app's job: raw TCP is forwarded to port ${endpoint.targetPort ?? endpoint.port} of workload "${endpoint.workload}"`);
  return notes;
}
