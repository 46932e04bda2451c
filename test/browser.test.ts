// The browser tests' browser lookup (support/browser.ts): BERTH_CHROMIUM, a system browser, else
// the Chromium @sparticuz/chromium ships, which must run here with nothing installed by apt.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { BROWSER_ARGS, findBrowser } from './support/browser.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-browser-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('findBrowser', () => {
  it('takes BERTH_CHROMIUM first, then the first system browser present', async () => {
    const chosen = join(dir, 'my-chrome');
    const system = join(dir, 'system-chromium');
    writeFileSync(chosen, '');
    writeFileSync(system, '');
    expect(await findBrowser({ BERTH_CHROMIUM: chosen }, [system])).toEqual({ executablePath: chosen, from: 'BERTH_CHROMIUM' });
    expect(await findBrowser({}, [join(dir, 'absent'), system])).toEqual({ executablePath: system, from: 'system' });
  });

  it('fails on a BERTH_CHROMIUM that does not exist instead of falling back past it', async () => {
    await expect(findBrowser({ BERTH_CHROMIUM: join(dir, 'nope') }, [])).rejects.toThrow(/BERTH_CHROMIUM is ".*nope", which does not exist/);
  });

  it('without a system browser, launches the Chromium @sparticuz/chromium ships and renders a page', async () => {
    const found = await findBrowser({}, []);
    expect(found.from).toBe('@sparticuz/chromium');
    const browser = await chromium.launch({ executablePath: found.executablePath, args: BROWSER_ARGS });
    try {
      const page = await browser.newPage();
      await page.setContent('<p id="x">berth</p>');
      expect(await page.textContent('#x')).toBe('berth');
    } finally {
      await browser.close();
    }
  });
});
