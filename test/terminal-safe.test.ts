// App output is data: the 11 sequences an attack run got through to a terminal (issue 14) are
// shown, not obeyed, wherever app text is printed in text mode (`berth logs`, `events`, a failed
// operation's message and the log lines it quotes); `--json` keeps them exact and `--raw` passes them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../cli/commands/index.ts';
import { Output } from '../cli/core/output.ts';
import { runCli } from '../cli/core/run.ts';
import { visible, visibleKeepingStyle } from '../cli/core/terminal-safe.ts';
import { nodeHost } from '../cli/lib/node-host.ts';
import { FileSettingsStore } from '../cli/lib/settings.ts';
import { HOSTILE } from './support/hostile-text.ts';

// Nothing a terminal acts on but tab and newline (C0, DEL, C1).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('visible', () => {
  it.each(HOSTILE)('shows $name as text', ({ raw, shown }) => {
    expect(visible(raw)).toBe(shown);
    expect(visible(raw)).not.toMatch(CONTROL);
  });

  it('keeps tab, newline and printable text (any script) as they are', () => {
    expect(visible('a\tb\nc — café ☕ 日本')).toBe('a\tb\nc — café ☕ 日本');
  });

  it('shows NUL, DEL and bidirectional overrides that would reorder a line', () => {
    expect(visible('a\u0000b\u007fc\u202eevil\u2066x\u2069')).toBe('a␀b␡c\\u202eevil\\u2066x\\u2069');
  });

  it('at the output layer keeps only the CLI\'s own colours, and an app\'s raw codes never survive', () => {
    expect(visibleKeepingStyle('\x1b[31merror\x1b[39m \x1b[2J\x1b]0;t\x07')).toBe('\x1b[31merror\x1b[39m ␛[2J␛]0;t␇');
    const out: string[] = [];
    const o = new Output({ stdout: (t) => out.push(t), stderr: (t) => out.push(t), stdoutIsTTY: true, stderrIsTTY: true, noColor: false }, false);
    o.line(`${o.style.red('x')} ${HOSTILE.map((h) => h.raw).join(' ')}`);
    o.note('\x1b[2Jnote');
    o.errorText('\rerr');
    expect(out.join('')).not.toMatch(/\x1b(?!\[(?:31|39)m)/);
    expect(out.join('')).not.toMatch(/[\r\x07\u009b]/);
  });
});

// The CLI in process against a fake API that answers with hostile app text.
const ENV = '/v1/orgs/acme/projects/shop/apps/api/envs/prod';
const message = HOSTILE.map((h) => h.raw).join(' | ');
const shownMessage = HOSTILE.map((h) => h.shown).join(' | ');
const logLine = { ts: '2024-05-01T12:00:00.000Z', source: 'app', workload: 'web', instance: 'i-0000000a', level: 'error', message };
const failedOperation = {
  id: 'op-1',
  kind: 'deploy',
  status: 'failed',
  releaseId: 'rel-2',
  error: { category: 'health-check', code: 'exited-before-healthy', message: `i-0000000a exited with 1 before it was healthy; stderr: ${message}`, step: 'WaitForHealthy', next: ['berth logs --instance i-0000000a'], details: { instance: 'i-0000000a', workload: 'web', releaseId: 'rel-2', exitCode: 1 } },
};
const event = { id: 'ev-1', at: '2024-05-01T12:00:01.000Z', type: 'operation.failed', operationId: 'op-1', message: `stderr: ${message}` };

function fakeApi(path: string): unknown {
  const url = new URL(path, 'http://api.test');
  if (url.pathname === `${ENV}/logs`) return { lines: [logLine] };
  if (url.pathname === `${ENV}/events`) return { events: url.searchParams.get('after') ? [] : [event] };
  if (url.pathname === `${ENV}/operations/op-1`) return { operation: failedOperation };
  throw new Error(`the fake API has no ${path}`);
}

let dir: string;

async function berth(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const fetch = (async (input: string | URL | Request) => Response.json(fakeApi(String(input)))) as typeof globalThis.fetch;
  const code = await runCli(argv, {
    commands: COMMANDS,
    version: 'test',
    host: { ...nodeHost(dir), readStdin: async () => '' },
    settings: new FileSettingsStore(join(dir, 'home'), { BERTH_API: 'http://api.test', BERTH_TOKEN: 't', BERTH_ORG: 'acme', BERTH_PROJECT: 'shop', BERTH_APP: 'api', BERTH_ENV: 'prod' }),
    // A terminal with colour: the case where raw escapes would be obeyed.
    writers: { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stdoutIsTTY: true, stderrIsTTY: true, noColor: false },
    fetch,
  });
  return { code, stdout, stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-term-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('app text in the CLI', () => {
  it('berth logs shows every hostile sequence visibly on a terminal', async () => {
    const r = await berth(['logs']);
    expect(r.code, r.stderr).toBe(0);
    for (const h of HOSTILE) expect(r.stdout, h.name).toContain(h.shown);
    expect(r.stdout).toContain(`web/i-0000000a \x1b[31merror\x1b[39m ${shownMessage}\n`);
    expect(r.stdout).not.toMatch(/\x1b(?!\[(?:31|39)m)/);
    expect(r.stdout).not.toMatch(/[\r\x07\u009b]/);
  });

  it('berth logs --json keeps the exact text', async () => {
    const r = await berth(['logs', '--json']);
    expect(JSON.parse(r.stdout.trim()).message).toBe(message);
    // JSON escapes the controls (C1 too, which JSON.stringify leaves raw): the line is safe to print.
    expect(r.stdout).not.toMatch(CONTROL);
  });

  it('berth logs --raw passes the bytes for those who want them', async () => {
    const r = await berth(['logs', '--raw']);
    expect(r.stdout).toContain(message);
  });

  it('a failed operation (deploy --wait, wait) shows the quoted stderr and log lines visibly', async () => {
    const r = await berth(['wait', 'op-1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Error (health-check)');
    expect(r.stderr).toContain('Last log lines of i-0000000a');
    for (const h of HOSTILE) expect(r.stderr, h.name).toContain(h.shown);
    expect(r.stdout + r.stderr).not.toMatch(/\x1b(?!\[(?:1|22|31|39)m)/);
    expect(r.stdout + r.stderr).not.toMatch(/[\r\x07\u009b]/);
  });

  it('a failed operation in --json keeps the exact text', async () => {
    const r = await berth(['wait', 'op-1', '--json']);
    const last = JSON.parse(r.stdout.slice(r.stdout.indexOf('{\n  "error"')));
    expect(last.error.message).toContain(message);
  });

  it('berth events shows event messages visibly, and exactly in --json', async () => {
    const text = await berth(['events']);
    expect(text.code, text.stderr).toBe(0);
    for (const h of HOSTILE) expect(text.stdout, h.name).toContain(h.shown);
    expect(text.stdout).not.toMatch(CONTROL);
    const json = await berth(['events', '--json']);
    expect(JSON.parse(json.stdout)[0].message).toBe(`stderr: ${message}`);
  });
});
