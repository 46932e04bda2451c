// The command table as a whole, in-process: every command has help and speaks JSON, errors
// included; commands are imported only when used; completion is generated from the table.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../cli/commands/index.ts';
import { runCli } from '../cli/core/run.ts';
import { nodeHost } from '../cli/lib/node-host.ts';
import { FileSettingsStore } from '../cli/lib/settings.ts';

let dir: string;

async function run(argv: string[], commands = COMMANDS): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    commands,
    version: 'test',
    // Nothing arrives on stdin (commands that read it, such as login, must not wait).
    host: { ...nodeHost(dir), readStdin: async () => '' },
    // An empty home and no variables: nothing is configured, as on a fresh machine.
    settings: new FileSettingsStore(join(dir, 'home'), {}),
    writers: { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stdoutIsTTY: false, stderrIsTTY: false, noColor: true },
  });
  return { code, stdout, stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('every command', () => {
  it.each(COMMANDS.map((c) => c.command))('%s has --help', async (command) => {
    const r = await run([...command.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: berth ${command}`);
    expect(r.stdout).toContain('--json');
  });

  it.each(COMMANDS.filter((c) => c.command !== 'init').map((c) => c.command))('%s --json prints only JSON, even when it fails', async (command) => {
    const r = await run([...command.split(' '), '--json']);
    expect(r.stderr).toBe('');
    const body = JSON.parse(r.stdout);
    if (r.code !== 0) expect(body.error).toMatchObject({ category: expect.any(String), code: expect.any(String), message: expect.any(String) });
  });
});

describe('the command table', () => {
  it('lists commands without importing them, and imports only the command that runs or shows its help', async () => {
    const loaded: string[] = [];
    const watched = COMMANDS.map((c) => ({ ...c, load: () => (loaded.push(c.command), c.load()) }));
    expect((await run(['--help'], watched)).code).toBe(0);
    expect((await run(['volumes'], watched)).stdout).toContain('volumes snapshot');
    expect(loaded).toEqual([]);
    expect((await run(['deploy', '--help'], watched)).code).toBe(0);
    expect((await run(['scale', 'count', '--json'], watched)).code).not.toBe(0);
    expect(loaded).toEqual(['deploy', 'scale count']);
  });
});

describe('help', () => {
  // The help of every command, and the root help, as users read them: a change to any of them
  // shows up in review as a change to test/__snapshots__/cli-commands.test.ts.snap.
  it.each(['', ...COMMANDS.map((c) => c.command)])('snapshot: berth %s --help', async (command) => {
    const r = await run([...command.split(' ').filter(Boolean), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatchSnapshot();
  });

  it('is generated from the definition', async () => {
    const r = await run(['scale', 'count', '--help']);
    expect(r.stdout).toMatchInlineSnapshot(`
      "Usage: berth scale count [count] [flags]

      Set a workload's instance count (and autoscaling min/max); kept across releases

      Arguments:
        count  Number of instances

      Flags:
        -w, --workload <name>  Workload (default: the only one)
            --min <n>          Autoscaling floor
            --max <n>          Autoscaling ceiling
            --wait             Follow the operation until it converges or fails

      Global flags:
            --json            Print JSON only (errors too); no colour, no progress
        -h, --help            Show help for the command
            --org <name>      Org (default: BERTH_ORG or the saved selection)
            --project <name>  Project (default: BERTH_PROJECT or the saved selection)
            --app <name>      App (default: BERTH_APP, the saved selection, or \`app\` in berth.yaml)
        -e, --env <name>      Env (default: BERTH_ENV or the saved selection)
            --api <url>       API URL (default: BERTH_API, the saved login, or the embedded platform)

      Examples:
        berth scale count 3
        berth scale count 2 --min 1 --max 5 --workload web
      "
    `);
  });
});

describe('completion', () => {
  it('offers every top-level command and a command\'s own flags', async () => {
    const r = await run(['completion', 'bash']);
    expect(r.code).toBe(0);
    for (const noun of new Set(COMMANDS.map((c) => c.command.split(' ')[0]))) expect(r.stdout).toContain(noun);
    expect(r.stdout).toMatch(/logs\) .*--follow/);
    expect((await run(['completion', 'tcsh'])).code).toBe(2);
  });
});
