// The browser the browser tests drive (through playwright-core, which downloads none of its own),
// found so that `npm install` alone is enough: BERTH_CHROMIUM when set, else a system Chromium or
// Chrome when one is installed, else the Chromium that the @sparticuz/chromium package ships
// (extracted to the temp dir on first use). Never a skip: a missing browser fails the test.
import { existsSync } from 'node:fs';

/** Where system packages put Chromium or Chrome (Debian/Ubuntu, Fedora, snap, macOS). */
const SYSTEM_BROWSERS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

/** Flags every launch takes: no GPU, no sandbox (CI runs as root), no background traffic. */
export const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

export interface FoundBrowser {
  executablePath: string;
  /** Which rule found it, for the test's log line. */
  from: 'BERTH_CHROMIUM' | 'system' | '@sparticuz/chromium';
}

export async function findBrowser(env: NodeJS.ProcessEnv = process.env, system: readonly string[] = SYSTEM_BROWSERS): Promise<FoundBrowser> {
  const chosen = env.BERTH_CHROMIUM;
  if (chosen) {
    // A path someone set on purpose: falling back past it would hide their mistake.
    if (!existsSync(chosen)) throw new Error(`BERTH_CHROMIUM is "${chosen}", which does not exist: point it at a Chromium or Chrome binary, or unset it to use the one @sparticuz/chromium ships`);
    return { executablePath: chosen, from: 'BERTH_CHROMIUM' };
  }
  const installed = system.find((p) => existsSync(p));
  if (installed) return { executablePath: installed, from: 'system' };
  // Imported only here: extracting its ~67 MB binary is the last resort, not a cost every run pays.
  const { default: packaged } = await import('@sparticuz/chromium');
  return { executablePath: await packaged.executablePath(), from: '@sparticuz/chromium' };
}
