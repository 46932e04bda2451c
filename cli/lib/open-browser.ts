// Opens a URL in the user's browser, the way each OS does it: `open` on macOS, `start` through
// cmd on Windows, xdg-open elsewhere (only with a display: over SSH there is no browser to open).
// BROWSER, when set, names the program to use (the convention of xdg-utils, git and gh).
import { spawn } from 'node:child_process';

export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Promise<boolean> {
  const command = browserCommand(url, env, platform);
  if (!command) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      const child = spawn(command[0], command.slice(1), { stdio: 'ignore', detached: true });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}

function browserCommand(url: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] | undefined {
  if (env.BROWSER) return env.BROWSER === 'none' ? undefined : [env.BROWSER, url];
  if (platform === 'darwin') return ['open', url];
  // The empty "" is start's window title; without it a quoted URL would become the title.
  if (platform === 'win32') return ['cmd', '/c', 'start', '""', url.replace(/&/g, '^&')];
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined;
  return ['xdg-open', url];
}
