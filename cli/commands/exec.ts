import { JOINABLE_STATES, shellWords } from '../../functions/contract/exec.ts';
import type { EnvStatus, ExecSessionReceipt, InstanceSummary } from '../../functions/contract/responses.ts';
import { defineCommand, type CommandContext } from '../core/command.ts';
import { flag } from '../core/flags.ts';
import { cliError } from '../core/errors.ts';
import { execSession } from '../core/exec-client.ts';

type Candidate = InstanceSummary & { workload: string };

export default defineCommand({
  description:
    'Runs CMD in the instance’s working dir with its environment (config, PORT, BERTH_*, secrets in $BERTH_SECRETS_DIR) and exits with its exit code. ' +
    'Always says which instance it is in. With several instances, --instance picks one; without it a terminal gets a numbered choice and a script gets an error listing the --instance commands. ' +
    'On AWS it is ECS Exec, spoken by the CLI itself (no session-manager-plugin to install); ECS runs every session on a terminal, so without -t output still comes as a terminal writes it (\\r\\n, stdout and stderr together) and ECS does not carry the command’s exit code back, so berth exits 0 when the session ends cleanly.',
  flags: {
    ...flag('workload', 'Only instances of this workload'),
    ...flag('instance', 'This instance (see `berth status`)'),
    ...flag('tty'),
  },
  positionals: [{ name: 'cmd', description: 'The command and its arguments, after --', required: true, variadic: true }],
  requires: ['auth', 'org', 'project', 'app', 'env'],
  examples: ['berth exec -- ls -la', 'berth exec --workload web -t -- sh', 'berth exec --instance i-3f2a1b9c -- cat $BERTH_SECRETS_DIR/db.json'],
  async handler(ctx) {
    const instance = ctx.flags.instance ?? (await chooseInstance(ctx, ctx.flags.workload));
    const tty = Boolean(ctx.flags.tty);
    const { session } = await ctx.api.post<{ session: ExecSessionReceipt }>(ctx.api.envPath(ctx.target, '/exec-sessions'), { instance, argv: ctx.positionals, tty });
    // On stderr, and in every mode: stdout is the command's own.
    const connected = () => ctx.host.terminal.write('stderr', new TextEncoder().encode(`Connected to ${session.instance} (${session.workload}, ${session.release})\n`));
    const channel = session.channel;
    const code =
      channel.transport === 'websocket'
        ? await execSession(ctx.host, { url: `${ctx.api.baseUrl!.replace(/\/$/, '').replace(/^http/, 'ws')}${channel.path}`, instance, argv: ctx.positionals, tty }, connected)
        : // AWS: ECS Exec, spoken by the CLI itself; loaded only here, so other commands never parse it.
          await (await import('../core/ssm/session.ts')).ssmExecSession(ctx.host, channel, { tty, instance }, connected);
    if (code !== 0) await ctx.host.exit(code);
  },
});

async function chooseInstance(ctx: CommandContext, workload: string | undefined): Promise<string> {
  const { status } = await ctx.api.get<{ status: EnvStatus }>(ctx.api.envPath(ctx.target, '/status'));
  const workloads = status.workloads.filter((w) => !workload || w.name === workload);
  if (workload && !workloads.length) {
    const names = status.workloads.map((w) => w.name).join(', ') || 'none';
    throw cliError('not-found', 'workload-not-found', `workload ${JSON.stringify(workload)} is not in ${status.env} (workloads: ${names})`, ['berth status']);
  }
  const candidates: Candidate[] = workloads
    .flatMap((w) => w.instances.map((i) => ({ ...i, workload: w.name })))
    .filter((i) => JOINABLE_STATES.has(i.state))
    // Healthy first: the likeliest place to look, and the first choice in the picker.
    .sort((a, b) => Number(b.state === 'healthy') - Number(a.state === 'healthy'));
  if (!candidates.length) {
    throw cliError('not-found', 'no-running-instance', `no running instance${workload ? ` of workload ${workload}` : ''} in ${status.env}`, ['berth status', 'berth deploy --wait']);
  }
  if (candidates.length === 1) return candidates[0].id;
  const describe = (c: Candidate) => `${c.id} (${c.workload}, ${c.state}, ${c.releaseId})`;
  if (!ctx.host.stdinIsTTY) {
    throw cliError(
      'invalid-input',
      'instance-ambiguous',
      `${candidates.length} instances are running (${candidates.map(describe).join('; ')}); pick one with --instance`,
      candidates.map((c) => `berth exec --instance ${c.id} -- ${shellWords(ctx.positionals)}`),
    );
  }
  const menu = candidates.map((c, n) => `  ${n + 1}) ${describe(c)}`).join('\n');
  const answer = await ctx.host.terminal.readLine(`${candidates.length} instances are running:\n${menu}\nRun in which one? [1-${candidates.length}] `);
  const picked = answer?.trim() === '' ? candidates[0] : candidates[Number(answer) - 1];
  if (!picked) throw cliError('invalid-input', 'instance-choice-invalid', `${JSON.stringify(answer ?? '')} is not one of 1-${candidates.length}`, candidates.map((c) => `berth exec --instance ${c.id} -- ${shellWords(ctx.positionals)}`));
  return picked.id;
}
