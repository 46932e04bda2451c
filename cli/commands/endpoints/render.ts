// How endpoints read in the terminal, shared by list, show, create and delete.
import type { EndpointReceipt, EndpointView } from '../../../functions/contract/responses.ts';
import { endpointNotes } from '../../../functions/contract/endpoint-notes.ts';
import type { CommandContext } from '../../core/command.ts';
import type { SharedFlags } from '../../core/flags.ts';
import { watchOperation } from '../../core/watch-operation.ts';

export type { EndpointReceipt };

/** `[::1]:8080 127.0.0.1:8080`, or a word saying why nothing listens yet. */
export function addresses(e: EndpointView): string {
  if (!e.listeners.length) return 'not listening (no release yet)';
  return e.listeners.map((l) => (l.family === 'IPv6' ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`)).join(' ');
}

/** `web:8080 (2 targets)`: where the traffic goes and how many instances take it. */
export function workloadTargets(e: EndpointView): string {
  const n = e.targets.length;
  return `${e.endpoint.workload}:${e.endpoint.targetPort ?? e.endpoint.port} (${n} target${n === 1 ? '' : 's'})`;
}

/** The API's notes (they include the driver's, e.g. the NLB's IPv4 addresses on AWS). */
export function notesOf(e: EndpointView): string[] {
  return e.notes?.length ? e.notes : endpointNotes(e.endpoint);
}

export async function endpointView(ctx: CommandContext, name: string): Promise<EndpointView> {
  const { endpoint } = await ctx.api.get<{ endpoint: EndpointView }>(ctx.api.envPath(ctx.target, `/endpoints/${encodeURIComponent(name)}`));
  return endpoint;
}

/** Prints the receipt of an endpoint change and, with --wait, follows its operation. */
export async function reportEndpointChange(ctx: CommandContext<Pick<SharedFlags, 'wait'>>, receipt: EndpointReceipt): Promise<void> {
  if (ctx.out.json && ctx.flags.wait) ctx.out.jsonLine({ receipt });
  else
    ctx.out.result({ receipt }, () => {
      const e = receipt.endpoint;
      const lines = [`Endpoint ${receipt.name}: ${receipt.action} accepted for ${receipt.env}; applying as ${receipt.operationId}`];
      if (e) {
        const families = e.ipv4 ? 'IPv6 and IPv4' : 'IPv6 only';
        lines.push(`  port      ${e.port} → ${e.workload}:${e.targetPort ?? e.port} (${families}${e.proxyProtocol ? `, PROXY ${e.proxyProtocol}` : ''})`);
      }
      if (receipt.previous && receipt.action !== 'create') lines.push(`  was       ${receipt.previous.port} → ${receipt.previous.workload}:${receipt.previous.targetPort ?? receipt.previous.port}`);
      lines.push('', 'Next:', ...receipt.next.map((n) => `  ${n}`));
      return lines.join('\n');
    });
  if (ctx.flags.wait) await watchOperation(ctx, receipt.operationId, { afterReceipt: true });
}
