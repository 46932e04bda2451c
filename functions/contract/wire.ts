// Types that travel on the wire and that the core's ports speak too: declared once here, as zod
// (for the OpenAPI document and response checks) with `z.infer` types of the same names.
// core/ports.ts re-exports them. No Node-only imports: the console runs this in the browser.
import { z } from 'zod';

/** Where an env lives; every runtime resource is tagged with it (berth:org … berth:env). */
export const EnvRef = z.object({ org: z.string(), project: z.string(), app: z.string(), env: z.string() });
export type EnvRef = z.infer<typeof EnvRef>;

export const LogSource = z.enum(['app', 'system']);
export type LogSource = z.infer<typeof LogSource>;
export const LogLevel = z.enum(['debug', 'info', 'warn', 'error']);
export type LogLevel = z.infer<typeof LogLevel>;

export const LogLine = z
  .object({
    ts: z.string().describe('ISO-8601 with milliseconds'),
    source: LogSource,
    workload: z.string(),
    instance: z.string().describe("Instance id, or '-' for system lines that are about the workload as a whole"),
    level: LogLevel,
    message: z.string(),
  })
  .meta({ id: 'LogLine' });
export type LogLine = z.infer<typeof LogLine>;

export const InstanceState = z.enum(['starting', 'healthy', 'unhealthy', 'crashed', 'stopping', 'stopped']);
export type InstanceState = z.infer<typeof InstanceState>;

/** What a client needs to join a command session in an instance (`berth exec`). */
export const ExecChannel = z.discriminatedUnion('transport', [
  /** Embedded: the API's own WebSocket; `path` carries a one-time ticket, so a browser can open it too. */
  z.object({ transport: z.literal('websocket'), path: z.string() }),
  /** AWS: an ECS ExecuteCommand session; the client speaks the Session Manager protocol to `streamUrl`. */
  z.object({ transport: z.literal('ssm'), sessionId: z.string(), streamUrl: z.string(), tokenValue: z.string(), container: z.string() }),
]);
export type ExecChannel = z.infer<typeof ExecChannel>;
