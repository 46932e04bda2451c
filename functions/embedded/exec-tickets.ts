// The embedded exec gateway: `POST …/exec-sessions` gets a one-time ticket for the exec WebSocket.
// A ticket is what lets a browser (the console) join, since a browser's WebSocket cannot send an
// Authorization header; it binds the env, the instance, the command and the TTY choice, lives for
// a minute and is used once. Tickets live in memory: the socket is served by this same process.
import { randomBytes } from 'node:crypto';
import type { EnvRef, ExecChannel, ExecGateway, InstanceStatus } from '../core/ports.ts';

export interface ExecTicket {
  env: EnvRef;
  instance: string;
  argv: string[];
  tty: boolean;
  expiresAt: number;
}

const TICKET_TTL_MS = 60_000;

export class ExecTickets implements ExecGateway {
  private readonly tickets = new Map<string, ExecTicket>();

  constructor(private readonly now: () => number = Date.now) {}

  async open(env: EnvRef, instance: InstanceStatus, request: { argv: string[]; tty: boolean }): Promise<ExecChannel> {
    this.sweep();
    const ticket = randomBytes(24).toString('base64url');
    this.tickets.set(ticket, { env, instance: instance.id, argv: request.argv, tty: request.tty, expiresAt: this.now() + TICKET_TTL_MS });
    const path = ['orgs', env.org, 'projects', env.project, 'apps', env.app, 'envs', env.env].map(encodeURIComponent).join('/');
    return { transport: 'websocket', path: `/v1/${path}/exec?ticket=${ticket}` };
  }

  /** The ticket's grant, once; undefined when unknown, used or expired. */
  redeem(ticket: string): ExecTicket | undefined {
    const found = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    return found && found.expiresAt > this.now() ? found : undefined;
  }

  private sweep(): void {
    const now = this.now();
    for (const [ticket, grant] of this.tickets) if (grant.expiresAt <= now) this.tickets.delete(ticket);
  }
}
