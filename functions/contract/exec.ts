// What the API and the CLI share about `exec`. No Node-only imports: the console runs this too.
import type { InstanceState } from './wire.ts';

/** Instances a command can run in; crashed, stopping and stopped ones have no process to join. */
export const JOINABLE_STATES: ReadonlySet<InstanceState> = new Set(['healthy', 'unhealthy', 'starting']);

/**
 * The command as one shell line: plain words as they are, every other argument single-quoted, so a
 * shell sees each argument as typed (ECS ExecuteCommand's command string; the CLI's next steps).
 */
export function shellWords(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

// The exec WebSocket's messages (JSON text frames, bytes as base64), shared by the embedded server
// (functions/embedded/exec-session.ts) and the CLI (cli/core/exec-client.ts).
/** client → server: `start` first (the argv the ticket was issued for), then the rest. */
export type ExecClientMessage =
  | { type: 'start'; argv: string[] }
  | { type: 'stdin'; data: string }
  | { type: 'eof' }
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'signal'; name: string };

/** Which instance a session joined: said first, so a user always knows where they are. */
export interface ExecStarted {
  instance: string;
  workload: string;
  release: string;
}

/** server → client. */
export type ExecServerMessage =
  | ({ type: 'started' } & ExecStarted)
  | { type: 'stdout' | 'stderr'; data: string }
  | { type: 'exit'; code: number; signal: string | null }
  | { type: 'error'; code: string; message: string };
