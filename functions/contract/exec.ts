// What the API and the CLI share about `exec`. No Node-only imports: the console runs this too.
import type { InstanceState } from '../core/ports.ts';

/** Instances a command can run in; crashed, stopping and stopped ones have no process to join. */
export const JOINABLE_STATES: ReadonlySet<InstanceState> = new Set(['healthy', 'unhealthy', 'starting']);

/**
 * The command as one shell line: plain words as they are, every other argument single-quoted, so a
 * shell sees each argument as typed (ECS ExecuteCommand's command string; the CLI's next steps).
 */
export function shellWords(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
