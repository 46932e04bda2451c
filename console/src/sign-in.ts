// Signing in: paste an API token (the installer's bootstrap token, a CI token, a login token), or
// run `berth login`, the device flow, which opens the approval page (/device) in a new tab, where
// an invited member signs in with the invite code and approves this console. Either way the
// console ends up holding a token in localStorage and sends it as a bearer token, as the CLI does.
import type { BrowserSettings } from './settings.ts';
import type { Shell } from './shell.ts';

export function showSignIn(deps: { shell: Shell; settings: BrowserSettings }): Promise<void> {
  const { shell, settings } = deps;
  const overlay = document.createElement('div');
  overlay.id = 'sign-in';
  overlay.innerHTML = `<form>
    <h1>Sign in to Berth</h1>
    <p class="api"></p>
    <label for="token">API token</label>
    <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" placeholder="berth_…" required>
    <button type="submit">Sign in</button>
    <pre class="error" hidden></pre>
    <p class="alt">Invited, or no token at hand? <button type="button" class="device">Sign in on the approval page</button><br>
    It runs <code>berth login</code> in the console: the approval page opens in a new tab, you sign in there with your invite code (or a token) and approve; this console then holds a 30-day login token for your org and role.</p>
    <p class="note">The token stays in this browser (localStorage) and is sent only to ${escapeHtml(location.origin)}. <code>logout</code> revokes and forgets it.</p>
  </form>`;
  overlay.querySelector('.api')!.textContent = `API: ${location.origin}`;
  document.body.append(overlay);
  const form = overlay.querySelector('form')!;
  const input = overlay.querySelector<HTMLInputElement>('#token')!;
  const error = overlay.querySelector<HTMLElement>('.error')!;
  input.focus();

  return new Promise<void>((resolve) => {
    const done = () => {
      overlay.remove();
      shell.session.view.focus();
      resolve();
    };
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      error.hidden = true;
      let said = '';
      // `login --token` as a command, but its output captured: the token must not land in the
      // transcript or the history, and a failure is shown on the form.
      const code = await shell.run(['login', '--token', input.value.trim()], shell.session, { write: (t) => (said += t) });
      if (code === 0 && settings.signedIn()) {
        shell.session.print(said);
        done();
      } else {
        error.textContent = said.replace(/\x1b\[[0-9;]*m/g, '').trim() || 'Sign-in failed.';
        error.hidden = false;
        input.select();
      }
    });
    overlay.querySelector('.device')!.addEventListener('click', async () => {
      overlay.hidden = true;
      shell.session.view.focus();
      const code = await deviceLogin(shell);
      if (code === 0 && settings.signedIn()) return done();
      overlay.hidden = false;
      error.textContent = 'The approval-page login did not finish (the transcript says why). Try again, or paste a token.';
      error.hidden = false;
    });
  });
}

/** `berth login` in the transcript, as if typed. */
function deviceLogin(shell: Shell): Promise<number> {
  const session = shell.session;
  if (session.editor.active) {
    // The prompt is up: type it there, and learn its outcome from the settings afterwards.
    return new Promise((resolve) => {
      session.submit('berth login');
      const poll = setInterval(() => {
        if (session.editor.active) {
          clearInterval(poll);
          resolve(0);
        }
      }, 200);
    });
  }
  session.write(`\x1b[1;36mberth>\x1b[0m berth login\n`);
  return shell.runLine('berth login');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
