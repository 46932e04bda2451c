// The CLI as it is published: cli/bin/berth.js running the bundle of test/support/cli-package.ts,
// in a package dir without node_modules. `--help` must stay light: the start of the bundle holds
// the dispatcher and the command table, and no command's dependencies.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { COMMANDS } from '../cli/commands/index.ts';
import { VERSION } from '../functions/version.ts';
import { runBerth } from './support/cli-harness.ts';

const cwd = mkdtempSync(join(tmpdir(), 'berth-package-cwd-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));
const env = { BERTH_HOME: join(cwd, 'home') };

describe('the published berth', () => {
  it('answers --version from package.json', async () => {
    const r = await runBerth(['--version'], { cwd, env });
    expect(r).toMatchObject({ code: 0, stdout: `berth ${VERSION}\n`, stderr: '' });
  });

  it('lists every command in --help, as the table does', async () => {
    const r = await runBerth(['--help'], { cwd, env });
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`${c.command}  `);
    expect(r.stdout).toContain(COMMANDS.find((c) => c.command === 'deploy')!.summary);
  });

  it('loads a command to show its help, and every command for completion', async () => {
    const help = await runBerth(['deploy', '--help'], { cwd, env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: berth deploy [flags]');
    const completion = await runBerth(['completion', 'bash'], { cwd, env });
    expect(completion.code).toBe(0);
    expect(completion.stdout).toMatch(/logs\) .*--follow/);
  });

  it('runs a command and maps its error to an exit code', async () => {
    const r = await runBerth(['status', '--json'], { cwd, env: { ...env, BERTH_TOKEN: '' } });
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout).error.code).toBe('not-logged-in');
  });
});

describe('the bundle', () => {
  const metafile = JSON.parse(readFileSync(join(inject('berthPackage'), 'metafile.json'), 'utf8')) as Metafile;

  /** Every input in a chunk and the chunks it imports statically: what loading it loads. */
  function loadedWith(chunk: (output: Metafile['outputs'][string]) => boolean): string[] {
    const entry = Object.keys(metafile.outputs).find((o) => chunk(metafile.outputs[o]))!;
    const seen = new Set<string>();
    const visit = (output: string) => {
      if (seen.has(output)) return;
      seen.add(output);
      for (const i of metafile.outputs[output].imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
    };
    visit(entry);
    return [...seen].flatMap((o) => Object.keys(metafile.outputs[o].inputs));
  }

  const startupInputs = () => loadedWith((o) => o.entryPoint === 'cli/main.ts');

  it('starts without zod, hono, the AWS SDK, the YAML parser, tar or the WebSocket client', () => {
    const heavy = startupInputs().filter((i) => /node_modules\/(zod|hono|@hono|@aws-sdk|yaml|tar-stream|ws)\//.test(i));
    expect(heavy).toEqual([]);
  });

  it('starts with the command table and no command', () => {
    const commands = startupInputs().filter((i) => i.startsWith('cli/commands/'));
    expect(commands).toEqual(['cli/commands/index.ts']);
  });

  it('shows deploy --help without zod: deploy imports the manifest parser when it runs', () => {
    const deploy = loadedWith((o) => 'cli/commands/deploy.ts' in o.inputs);
    expect(deploy.filter((i) => /node_modules\/zod\//.test(i))).toEqual([]);
  });
});
