// The deploy receipt, as people read it.
import type { ChangeSet, DeployReceipt } from '../../functions/contract/responses.ts';
import type { Style } from './output.ts';

export type Receipt = DeployReceipt;

const short = (digest: string | null) => (digest ? `${digest.slice(0, 19)}…` : 'none');

function changes(c: ChangeSet): string {
  const parts = [...c.added.map((n) => `+ ${n}`), ...c.changed.map((x) => `~ ${x.name} (${x.fields.join(', ')})`), ...c.removed.map((n) => `- ${n}`)];
  return parts.length ? parts.join('   ') : 'no change';
}

/** `head`: the first lines, when the command words them its own way (rollback). */
export function renderReceipt(r: Receipt, style: Style, head?: string): string {
  const d = r.diff;
  head ??= r.dryRun
    ? `${style.yellow('Dry run')}: ${r.releaseId} would be created for ${r.env} (nothing was applied)`
    : `${style.green('Release')} ${style.bold(r.releaseId)} accepted for ${r.env}; rolling out as ${r.operationId}`;
  const secretText = d.secrets.length ? d.secrets.map((s) => `${s.bundle} ${s.from === null ? 'new' : `v${s.from}`} → ${s.to === null ? 'removed' : `v${s.to}`}`).join(', ') : 'no change';
  return [
    head,
    `  previous   ${r.previousReleaseId ?? 'none (first release)'}`,
    `  artifact   ${short(d.artifact.to)}${d.artifact.from === d.artifact.to ? ' (unchanged)' : d.artifact.from ? ` (was ${short(d.artifact.from)})` : ''}`,
    `  config     v${d.config.to}${d.config.keys.length ? ` (changed: ${d.config.keys.join(', ')})` : ' (no change)'}`,
    `  secrets    ${secretText}`,
    `  workloads  ${changes(d.workloads)}`,
    `  endpoints  ${changes(d.endpoints)}`,
    `  volumes    ${changes(d.volumes)}`,
    ...(r.notes ?? []).map((n) => `  ${style.yellow('note')}       ${n}`),
    '',
    'Next:',
    ...r.next.map((n) => `  ${n}`),
  ].join('\n');
}
