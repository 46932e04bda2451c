// The web console: a terminal (ghostty-web) running the CLI's own commands in the browser against
// the API that served the page, signed in with a token kept in this browser.
import './console.css';
import { ApiClient } from '../../cli/core/api-client.ts';
import { VERSION } from '../../functions/version.ts';
import { runTour, toured } from './onboarding.ts';
import { Panels } from './panels.ts';
import { BrowserSettings } from './settings.ts';
import { Shell } from './shell.ts';
import { showSignIn } from './sign-in.ts';
import { TerminalSession } from './terminal-session.ts';
import { loadGhostty, TerminalView } from './terminal-view.ts';
import { Workspace } from './workspace.ts';

declare global {
  interface Window {
    /** For people poking around in devtools, and for the Playwright tests. */
    berthConsole?: ConsoleHandle;
  }
}

export interface ConsoleHandle {
  version: string;
  /** The transcript as ghostty's buffer holds it. */
  text(): string;
  panels(): { id: number; title: string; kind: string; status: string; text: string }[];
  /** How `text` is drawn where it first appears in the transcript. */
  styleOf(text: string): { bold: boolean; fg: string } | undefined;
  /** The line being edited at the prompt. */
  line(): string;
  /** True while the guided tour types a command (keys wait). */
  typing(): boolean;
  /** True while the prompt waits for a line. */
  atPrompt(): boolean;
  /** Types a line at the prompt and presses Enter. */
  submit(line: string): void;
  workspace: Pick<Workspace, 'read' | 'write' | 'filesUnder'>;
}

async function main(): Promise<void> {
  // Idempotency keys use crypto.randomUUID, which a page served over plain http from a non-local
  // address (an embedded platform on the LAN) does not have.
  if (!globalThis.crypto.randomUUID) {
    globalThis.crypto.randomUUID = () => {
      const b = crypto.getRandomValues(new Uint8Array(16));
      b[6] = (b[6]! & 0x0f) | 0x40;
      b[8] = (b[8]! & 0x3f) | 0x80;
      const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` as `${string}-${string}-${string}-${string}-${string}`;
    };
  }
  const root = document.getElementById('app')!;
  root.innerHTML = `<header id="bar"><span class="brand">berth</span><span id="where"></span><span id="who"></span><span class="spacer"></span><button id="tour-button" type="button">Tour</button><button id="sign-out" type="button">Sign out</button></header><main id="layout"><section id="transcript"></section><aside id="panels"></aside></main>`;
  await loadGhostty();

  const settings = new BrowserSettings(location.origin, localStorage);
  const workspace = new Workspace(localStorage);
  const view = new TerminalView(document.getElementById('transcript')!);
  const session: TerminalSession = new TerminalSession(view, (before, word) => shell.complete(before, word));
  const panels = new Panels(document.getElementById('panels')!, () => view.refit(), () => view.focus());
  const bar = headerBar(settings);
  const shell: Shell = new Shell(session, {
    workspace,
    settings,
    panels,
    changed: () => {
      bar.update();
      if (!settings.signedIn()) void signIn();
    },
    tour: () => runTour(shell, { settings, storage: localStorage }),
    edit: (path) => {
      const text = workspace.exists(path) ? workspace.read(path) : '';
      panels.edit(path, text, (next) => {
        workspace.write(path, next);
        session.print(`\x1b[2mSaved ${workspace.resolve(path)}.\x1b[22m\n`);
      });
    },
  });
  let signingIn: Promise<void> | undefined;
  const signIn = () => (signingIn ??= showSignIn({ shell, settings }).finally(() => (signingIn = undefined)).then(() => bar.update()));

  window.berthConsole = {
    version: VERSION,
    text: () => view.text(),
    panels: () => [...panels.all.values()].map((p) => ({ id: p.id, title: p.title, kind: p.kind, status: p.status, text: p.session.view.text() })),
    styleOf: (text) => view.styleOf(text),
    line: () => session.editor.line,
    atPrompt: () => session.editor.active,
    typing: () => session.editor.isPaused,
    submit: (line) => session.submit(line),
    workspace,
  };
  document.getElementById('tour-button')!.addEventListener('click', () => session.submit('tour'));
  document.getElementById('sign-out')!.addEventListener('click', () => session.submit('berth logout'));

  session.write(`\x1b[1mBerth ${VERSION}\x1b[22m web console for ${location.origin}: the berth CLI, in this tab. Type \x1b[1mhelp\x1b[22m.\n`);
  if (!settings.signedIn()) await signIn();
  bar.update();
  if (!toured(localStorage)) await runTour(shell, { settings, storage: localStorage });
  view.focus();
  await shell.loop();
}

/** Who and where, above the transcript: the login and the selection the next command targets. */
function headerBar(settings: BrowserSettings): { update(): void } {
  const where = document.getElementById('where')!;
  const who = document.getElementById('who')!;
  let shownToken: string | undefined;
  return {
    update() {
      const s = settings.read();
      where.textContent = [s.org, s.project, s.app, s.env].filter(Boolean).join(' / ') || 'nothing selected';
      if (s.token === shownToken) return;
      shownToken = s.token;
      who.textContent = '';
      if (!s.token) return;
      new ApiClient(s.api, s.token)
        .get<{ token: { principal: string; role: string | null; kind: string } }>('/v1/whoami')
        .then(({ token }) => {
          if (shownToken === s.token) who.textContent = `${token.principal} · ${token.role ?? token.kind}`;
        })
        .catch(() => undefined);
    },
  };
}

void main().catch((err: unknown) => {
  const pre = document.createElement('pre');
  pre.className = 'fatal';
  pre.textContent = `The console failed to start: ${(err as Error)?.stack ?? String(err)}`;
  document.body.append(pre);
});

