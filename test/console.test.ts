// The web console in a real browser (Chromium through playwright-core, support/browser.ts) against an
// embedded platform: sign in, the same `status` text as the CLI's, the guided first deploy to a
// running app, logs and events following in side panels while the transcript stays usable, and
// an interactive exec in its own panel. The terminal's text is read from ghostty-web's buffer
// (window.berthConsole.text()). Screenshots go to test-output/.
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleHandle } from '../console/src/main.ts';
import { BROWSER_ARGS, findBrowser } from './support/browser.ts';
import { runBerth } from './support/cli-harness.ts';
import { HOSTILE } from './support/hostile-text.ts';
import { createReadyEnv, envPath, freePort, httpGet, manifestFor, serverSource, startOpsPlatform, uploadApp, type OpsPlatform } from './support/ops-harness.ts';

const SHOTS = 'test-output';
const STATUS_ENV = { org: 'lookco', project: 'shop', app: 'web', env: 'prod' };

let home: string;
let ops: OpsPlatform;
let browser: Browser;

declare global {
  interface Window {
    berthConsole?: ConsoleHandle;
  }
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  home = await mkdtemp(join(tmpdir(), 'berth-console-'));
  ops = await startOpsPlatform(home);
  const found = await findBrowser();
  console.log(`console test browser: ${found.executablePath} (from ${found.from})`);
  browser = await chromium.launch({ executablePath: found.executablePath, args: BROWSER_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await ops?.platform.close();
  if (home) await rm(home, { recursive: true, force: true });
});

/** A fresh browser profile on the console, signed in with the owner token through the form. */
async function signedIn(options: { tour: boolean }): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1500, height: 900 } });
  if (!options.tour) await context.addInitScript(() => localStorage.setItem('berth.toured', 'skipped by the test'));
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('[console page error]', err));
  await page.goto(`${ops.platform.url}/`);
  await page.fill('#sign-in input', ops.token);
  await page.click('#sign-in button[type=submit]');
  await page.waitForSelector('#sign-in', { state: 'detached' });
  return page;
}

const transcript = (page: Page) => page.evaluate(() => window.berthConsole!.text());
const atPrompt = (page: Page) => page.waitForFunction(() => window.berthConsole!.atPrompt(), null, { timeout: 30_000 });

/** Types a line at the prompt, as a person does, and waits for the prompt to come back. */
async function type(page: Page, line: string): Promise<string> {
  await atPrompt(page);
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !window.berthConsole!.atPrompt() || window.berthConsole!.line() === '', null, { timeout: 5_000 });
  await atPrompt(page);
  return outputOf(await transcript(page), line);
}

/** What the transcript shows between the line typed at the prompt and the next prompt. */
function outputOf(text: string, line: string): string {
  const lines = text.split('\n');
  const start = lines.lastIndexOf(`berth> ${line}`);
  if (start < 0) throw new Error(`"berth> ${line}" is not in the transcript:\n${text}`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.startsWith('berth>'));
  return rest.slice(0, end < 0 ? undefined : end).join('\n');
}

const panelText = (page: Page, id: number) => page.evaluate((n) => window.berthConsole!.panels().find((p) => p.id === n)?.text ?? '', id);
const waitForPanel = (page: Page, id: number, pattern: RegExp) =>
  page.waitForFunction(([n, source, flags]) => new RegExp(source as string, flags as string).test(window.berthConsole!.panels().find((p) => p.id === n)?.text ?? ''), [id, pattern.source, pattern.flags] as const, {
    timeout: 20_000,
  });

describe('the web console', () => {
  it('signs in with a token and prints the same status as the CLI, colours included', async () => {
    await createReadyEnv(ops, STATUS_ENV);
    const port = await freePort();
    const digest = await uploadApp(ops, STATUS_ENV.org, join(home, 'status-app'), serverSource('status'));
    const deploy = await ops.call('POST', `${envPath(STATUS_ENV)}/deploys`, { manifest: manifestFor('web', port), artifactDigest: digest });
    expect(deploy.status).toBe(202);
    await ops.platform.orchestrator.idle();

    const page = await signedIn({ tour: false });
    expect(await transcript(page)).toContain('Logged in to');
    const args = ['status', '--org', STATUS_ENV.org, '--project', STATUS_ENV.project, '--app', STATUS_ENV.app, '--env', STATUS_ENV.env];
    const inConsole = await type(page, args.join(' '));
    const cli = await runBerth(args, { cwd: home, env: { BERTH_API: ops.platform.url, BERTH_TOKEN: ops.token, BERTH_HOME: join(home, 'cli-home') } });
    expect(cli.code).toBe(0);
    // Only the instances' age ("4s ago") may differ: the two ran a moment apart.
    const same = (s: string) => s.trimEnd().replace(/\b\d+[smhd] ago\b/g, '<age>');
    expect(same(inConsole)).toBe(same(cli.stdout));
    expect(inConsole).toContain('1/1 healthy');
    // The console is a terminal: the CLI's bold table header and green "converged" are drawn so.
    expect(await page.evaluate(() => window.berthConsole!.styleOf('WORKLOAD'))).toMatchObject({ bold: true });
    expect(await page.evaluate(() => window.berthConsole!.styleOf('converged'))).toMatchObject({ fg: '#a6da95' });
    await page.screenshot({ path: join(SHOTS, 'console-status.png') });
    await page.context().close();
  });

  it('shows hostile log lines as text in the transcript and a panel: none erases or forges a line', async () => {
    const env = { org: 'lookco', project: 'shop', app: 'web', env: 'hostile' };
    await createReadyEnv(ops, env);
    const at = (i: number) => new Date(Date.UTC(2024, 4, 1, 12, 0, i)).toISOString();
    HOSTILE.forEach((h, i) => ops.platform.deps.logs.append(env, { ts: at(i), source: 'app', workload: 'web', instance: 'i-0000000a', level: 'info', message: `${h.name}: ${h.raw} end` }));
    const page = await signedIn({ tour: false });
    const where = `--org ${env.org} --project ${env.project} --app ${env.app} --env ${env.env}`;
    const before = await type(page, 'whoami');
    const shown = await type(page, `logs ${where}`);
    const text = await transcript(page);
    // Nothing was cleared, moved over or rewritten: what came before is there, and every line.
    expect(text).toContain('Logged in to');
    expect(outputOf(text, 'whoami')).toBe(before);
    expect(shown.split('\n')).toHaveLength(HOSTILE.length);
    HOSTILE.forEach((h, i) => expect(shown.split('\n')[i], h.name).toBe(`${at(i)} app    web/i-0000000a info  ${h.name}: ${h.shown} end`));
    await type(page, `logs --follow ${where}`);
    await waitForPanel(page, 1, /CR: real␍forged end/);
    const panel = await panelText(page, 1);
    for (const h of HOSTILE) expect(panel, h.name).toContain(`${h.name}: ${h.shown} end`);
    await page.context().close();
  });

  it('signs an invited member in through the approval page (the device flow), opened in a new tab', async () => {
    expect((await ops.call('POST', '/v1/orgs', { name: 'inviteco' })).status).toBe(201);
    const invite = await ops.call('POST', '/v1/orgs/inviteco/members', { email: 'alice@example.com', role: 'deployer' });
    expect(invite.status).toBe(201);
    const context = await browser.newContext({ viewport: { width: 1500, height: 900 } });
    await context.addInitScript(() => localStorage.setItem('berth.toured', 'skipped by the test'));
    const page = await context.newPage();
    await page.goto(`${ops.platform.url}/`);
    const [approval] = await Promise.all([context.waitForEvent('page'), page.click('#sign-in .device')]);
    await approval.waitForLoadState();
    expect(new URL(approval.url()).pathname).toBe('/device');
    const code = new URL(approval.url()).searchParams.get('user_code')!;
    // The console shows the same code the page does: the person checks they match.
    await page.waitForFunction((c) => window.berthConsole!.text().includes(c), code);
    await approval.fill('#invite', invite.body.invite.code);
    await approval.click('button:has-text("Sign in with the invite")');
    await approval.click('button[value="approve"]');
    await approval.waitForSelector('text=approved');
    // The console polls at the interval the API asks for (5 s) and then holds a login token.
    await page.waitForSelector('#sign-in', { state: 'detached', timeout: 20_000 });
    expect(await transcript(page)).toMatch(/Logged in to \S+ as alice@example\.com: org inviteco, role deployer\./);
    expect(await type(page, 'whoami')).toMatch(/alice@example\.com/);
    await page.screenshot({ path: join(SHOTS, 'console-device-login.png') });
    await context.close();
  });

  describe('a first visit', () => {
    let page: Page;
    let port: number;

    it('runs the guided tour, Enter by Enter, to a deployed app', async () => {
      port = await freePort();
      page = await signedIn({ tour: true });
      await page.waitForFunction(() => window.berthConsole!.text().includes('A first deploy, step by step'));
      let patched = false;
      for (let step = 1; ; step++) {
        await page.waitForFunction(() => window.berthConsole!.atPrompt() && !window.berthConsole!.typing() && window.berthConsole!.line().startsWith('berth '), null, { timeout: 60_000 });
        const line = await page.evaluate(() => window.berthConsole!.line());
        if (line.startsWith('berth deploy') && !patched) {
          patched = true;
          // The starter listens on 8080, which another app on this machine may hold: a free port,
          // and a quicker health check, edited into the workspace's berth.yaml as `edit` would.
          await page.evaluate(
            ({ port }) => {
              const ws = window.berthConsole!.workspace;
              const yaml = ws
                .read('berth.yaml')
                .replace(/\n    port: 8080 .*/, `\n    port: ${port}\n    targetPort: 8080`)
                .replace('      path: /', '      path: /\n      intervalSeconds: 0.2');
              ws.write('berth.yaml', yaml);
            },
            { port },
          );
        }
        await page.keyboard.press('Enter');
        if (line === 'berth status') break;
        await page.waitForFunction((typed) => !window.berthConsole!.atPrompt() || window.berthConsole!.line() !== typed, line, { timeout: 60_000 });
        expect(step, await transcript(page)).toBeLessThan(12);
      }
      await page.waitForFunction(() => window.berthConsole!.text().includes('# Done: the app is deployed'), null, { timeout: 30_000 });
      const text = await transcript(page);
      for (const command of ['orgs create acme', 'projects create shop', 'init hello', 'apps create hello', 'envs create prod', 'config set GREETING=ahoy', 'secrets set db', 'deploy --wait', 'status']) {
        expect(text).toContain(`berth> berth ${command}`);
      }
      expect(outputOf(text, 'berth status')).toMatch(/prod {2}release rel-1 \(desired rel-1\) {2}converged/);
      expect((await httpGet(port)).body).toMatch(/^hello from hello \(i-\w+, rel-1\)/);
      await page.screenshot({ path: join(SHOTS, 'console-tour.png') });
    });

    it('follows logs and events in side panels while the transcript stays usable', async () => {
      await type(page, 'logs --follow');
      await type(page, 'events --follow');
      await waitForPanel(page, 1, /INFO listening on/);
      await waitForPanel(page, 2, /operation\.succeeded/);
      const fresh = `/from-the-test-${Date.now()}`;
      expect((await httpGet(port, fresh)).status).toBe(200);
      await waitForPanel(page, 1, new RegExp(`INFO GET ${fresh}`));
      // Meanwhile the prompt is free.
      expect(await type(page, 'releases')).toMatch(/rel-1/);
      await page.screenshot({ path: join(SHOTS, 'console-panels.png') });
      await page.click('[data-panel="1"] .close');
      await page.waitForSelector('[data-panel="1"][data-status="stopped"]');
      await page.click('[data-panel="2"] .close');
      await page.waitForSelector('[data-panel="2"][data-status="stopped"]');
      expect(await panelText(page, 1)).toContain(`GET ${fresh}`);
    });

    it('runs exec -t in its own panel: banner, echo round trip, resize, Ctrl-C', async () => {
      await type(page, 'exec -t -- sh');
      await page.waitForSelector('[data-panel="3"] .banner:not([hidden])');
      const banner = await page.textContent('[data-panel="3"] .banner');
      expect(banner).toMatch(/^Instance i-\w+ \(web, rel-1\)/);
      // The panel has the keyboard: keys go to the shell in the instance.
      await page.keyboard.type('echo round-$((6*7))\n');
      await waitForPanel(page, 3, /^round-42$/m);
      await page.keyboard.type('stty size\n');
      await waitForPanel(page, 3, /^\d+ \d+$/m);
      const before = /^(\d+ \d+)$/m.exec(await panelText(page, 3))![1];
      await page.setViewportSize({ width: 1100, height: 700 });
      await page.waitForTimeout(300);
      await page.keyboard.type('clear; stty size\n');
      await page.waitForFunction((old) => /^(\d+ \d+)$/m.exec(window.berthConsole!.panels().find((p) => p.id === 3)?.text ?? '')?.[1] !== old, before, { timeout: 10_000 });
      await page.keyboard.type('sleep 30\n');
      await page.waitForTimeout(300);
      await page.keyboard.press('Control+C');
      await page.keyboard.type('echo after-interrupt\n');
      await waitForPanel(page, 3, /^after-interrupt$/m);
      await page.screenshot({ path: join(SHOTS, 'console-exec.png') });
      await page.keyboard.type('exit\n');
      await page.waitForSelector('[data-panel="3"][data-status="ended"]');
      await page.context().close();
    });
  });
});
