// Where the CLI looks for its settings: BERTH_HOME, the nearest .berth/ (the embedded platform's),
// else the XDG config dir.
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSettingsStore, findHome } from '../cli/lib/settings.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('findHome', () => {
  it('takes BERTH_HOME first, relative to the working directory', () => {
    expect(findHome(dir, { BERTH_HOME: 'custom' })).toBe(join(dir, 'custom'));
  });

  it('finds the nearest .berth/ above the working directory, as git finds .git', () => {
    mkdirSync(join(dir, 'repo', '.berth'), { recursive: true });
    mkdirSync(join(dir, 'repo', 'examples', 'hello'), { recursive: true });
    expect(findHome(join(dir, 'repo', 'examples', 'hello'), {})).toBe(join(dir, 'repo', '.berth'));
  });

  it('falls back to the XDG config dir', () => {
    const outside = mkdtempSync(join(tmpdir(), 'berth-nowhere-'));
    try {
      expect(findHome(outside, { XDG_CONFIG_HOME: join(dir, 'xdg') })).toBe(join(dir, 'xdg', 'berth'));
      expect(findHome(outside, {})).toBe(join(homedir(), '.config', 'berth'));
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe('FileSettingsStore', () => {
  it('lets BERTH_* variables override what is saved, and saves selections with mode 0600', async () => {
    const home = join(dir, 'home');
    const store = new FileSettingsStore(home, { BERTH_ENV: 'staging' });
    await store.save({ org: 'acme', env: 'prod', token: 'secret-token' });
    expect(store.read()).toMatchObject({ org: 'acme', env: 'staging', token: 'secret-token' });
    expect(statSync(store.location).mode & 0o777).toBe(0o600);
  });
});
