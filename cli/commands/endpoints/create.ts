import type { Endpoint } from '../../../functions/contract/manifest.ts';
import { defineCommand } from '../../core/command.ts';
import { flag } from '../../core/flags.ts';
import { cliError } from '../../core/errors.ts';
import { intFlag } from '../scale/render.ts';
import { reportEndpointChange, type EndpointReceipt } from './render.ts';

export default defineCommand({
  description: 'The endpoint lives on the env and applies to every release. Endpoints declared in berth.yaml are changed there and deployed.',
  positionals: [{ name: 'name', description: 'Endpoint name (a DNS label)', required: true }],
  flags: {
    ...flag('workload', 'Workload that receives the traffic'),
    port: { type: 'string', valueName: 'port', description: 'Public port' },
    'target-port': { type: 'string', valueName: 'port', description: 'Container port to forward to (default: --port)' },
    ipv4: { type: 'boolean', description: 'Also accept IPv4 (default: IPv6 only)' },
    'proxy-protocol': { type: 'string', valueName: 'v2', description: 'Prepend a PROXY protocol v2 header so the app sees the client address' },
    ...flag('wait'),
  },
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth endpoints create admin --workload web --port 9443 --target-port 8443', 'berth endpoints create public --workload web --port 80 --target-port 8080 --ipv4 --proxy-protocol v2 --wait'],
  async handler(ctx) {
    const name = ctx.positionals[0];
    const workload = ctx.flags.workload;
    const port = intFlag('port', ctx.flags.port);
    if (!workload || port === undefined) {
      throw cliError('invalid-input', 'endpoint-flags-missing', `endpoints create needs ${[!workload && '--workload', port === undefined && '--port'].filter(Boolean).join(' and ')}`, [
        `berth endpoints create ${name} --workload <workload> --port <port>`,
      ]);
    }
    const targetPort = intFlag('target-port', ctx.flags['target-port']);
    const proxyProtocol = ctx.flags['proxy-protocol'];
    if (proxyProtocol !== undefined && proxyProtocol !== 'v2') {
      throw cliError('invalid-input', 'proxy-protocol-invalid', `--proxy-protocol ${JSON.stringify(proxyProtocol)} is not a PROXY protocol version; use v2 or leave it out`, [`berth endpoints create ${name} --proxy-protocol v2`]);
    }
    const endpoint: Endpoint = {
      workload,
      port,
      ...(targetPort !== undefined ? { targetPort } : {}),
      ...(ctx.flags.ipv4 ? { ipv4: true } : {}),
      ...(proxyProtocol !== undefined ? { proxyProtocol } : {}),
    };
    const { receipt } = await ctx.api.put<{ receipt: EndpointReceipt }>(ctx.api.envPath(ctx.target, `/endpoints/${encodeURIComponent(name)}`), endpoint);
    await reportEndpointChange(ctx, receipt);
  },
});
