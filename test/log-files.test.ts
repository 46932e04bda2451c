import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../functions/core/errors.ts';
import type { EnvRef, LogLine } from '../functions/core/ports.ts';
import { FileLogStore } from '../functions/drivers/local/log-files.ts';

const env: EnvRef = { org: 'acme', project: 'shop', app: 'api', env: 'prod' };
const other: EnvRef = { ...env, env: 'staging' };

function line(seconds: number, fields: Partial<LogLine> = {}): LogLine {
  return {
    ts: new Date(Date.UTC(2024, 4, 1, 12, 0, seconds)).toISOString(),
    source: 'app',
    workload: 'web',
    instance: 'i-00000001',
    level: 'info',
    message: `line ${seconds}`,
    ...fields,
  };
}

describe('FileLogStore', () => {
  let dir: string;
  let store: FileLogStore;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'berth-logs-'));
    store = new FileLogStore(dir);
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one JSON line per entry to <org>/<project>/<app>/<env>/app.log and reads it back at once', async () => {
    store.append(env, line(1, { message: 'hello "world"\nsecond line' }));
    expect(await store.query(env, {})).toEqual([line(1, { message: 'hello "world"\nsecond line' })]);
    const text = readFileSync(path.join(dir, 'acme', 'shop', 'api', 'prod', 'app.log'), 'utf8');
    expect(text.split('\n')).toHaveLength(2);
    expect(JSON.parse(text.split('\n')[0]).message).toBe('hello "world"\nsecond line');
    expect(await store.query(other, {})).toEqual([]);
  });

  it('filters by minimum level, instance, workload, source and inclusive time bounds', async () => {
    store.append(env, line(1, { level: 'debug' }));
    store.append(env, line(2, { level: 'info', instance: 'i-00000002' }));
    store.append(env, line(3, { level: 'warn', source: 'system' }));
    store.append(env, line(4, { level: 'error', workload: 'worker' }));
    store.append(env, line(5, { level: 'error' }));

    const messages = async (q: Parameters<FileLogStore['query']>[1]) => (await store.query(env, q)).map((l) => l.message);
    expect(await messages({ level: 'warn' })).toEqual(['line 3', 'line 4', 'line 5']);
    expect(await messages({ level: 'debug' })).toHaveLength(5);
    expect(await messages({ instance: 'i-00000002' })).toEqual(['line 2']);
    expect(await messages({ workload: 'worker' })).toEqual(['line 4']);
    expect(await messages({ source: 'system' })).toEqual(['line 3']);
    expect(await messages({ source: 'app', level: 'error' })).toEqual(['line 4', 'line 5']);
    expect(await messages({ since: line(2).ts, until: line(4).ts })).toEqual(['line 2', 'line 3', 'line 4']);
    // Bounds in another offset or without milliseconds mean the same instants.
    expect(await messages({ since: '2024-05-01T14:00:03+02:00' })).toEqual(['line 3', 'line 4', 'line 5']);
  });

  it('limit returns the newest matching lines, oldest first', async () => {
    for (let i = 0; i < 10; i++) store.append(env, line(i, { level: i % 2 ? 'error' : 'info' }));
    expect((await store.query(env, { limit: 3 })).map((l) => l.message)).toEqual(['line 7', 'line 8', 'line 9']);
    expect((await store.query(env, { limit: 2, level: 'error' })).map((l) => l.message)).toEqual(['line 7', 'line 9']);
    expect(await store.query(env, { limit: 0 })).toEqual([]);
  });

  it('follow delivers new matching lines until unsubscribed', () => {
    store.append(env, line(0, { level: 'error' }));
    const seen: string[] = [];
    const stop = store.follow(env, { level: 'warn' }, (l) => seen.push(l.message));
    store.append(env, line(1, { level: 'info' }));
    store.append(env, line(2, { level: 'error' }));
    store.append(other, line(3, { level: 'error' }));
    stop();
    store.append(env, line(4, { level: 'error' }));
    expect(seen).toEqual(['line 2']);
  });

  it('skips a torn last line instead of failing the whole history', async () => {
    store.append(env, line(1));
    appendFileSync(store.fileOf(env), '{"ts":"2024-05-01T12:00:02.000Z","source":"app","wor');
    expect((await store.query(env, {})).map((l) => l.message)).toEqual(['line 1']);
  });

  it('rejects a time bound that is not a date with invalid-input', async () => {
    await expect(store.query(env, { since: 'yesterday-ish' })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('refuses env names that would escape the log directory', () => {
    expect(() => store.append({ ...env, app: '..' }, line(1))).toThrow(InvalidInputError);
  });

  it('queries a multi-megabyte history across read-chunk boundaries', async () => {
    const instances = ['i-aaaaaaaa', 'i-bbbbbbbb', 'i-cccccccc', 'i-dddddddd'];
    const base = Date.UTC(2024, 4, 1);
    for (let i = 0; i < 30_000; i++) {
      store.append(env, {
        ts: new Date(base + i * 10).toISOString(),
        source: i % 50 === 0 ? 'system' : 'app',
        workload: 'web',
        instance: instances[i % 4],
        level: i % 1000 === 0 ? 'error' : 'info',
        message: `GET /items/${i} 200 in ${i % 97}ms — request handled by the web workload`,
      });
    }

    // Speed is measured in bench/, not asserted here.
    const tail = await store.query(env, { limit: 100 });
    expect(tail).toHaveLength(100);
    expect(tail[99].message).toContain('/items/29999 ');

    const errors = await store.query(env, { level: 'error', instance: 'i-aaaaaaaa' });
    expect(errors).toHaveLength(30);
    expect(errors[0].message).toContain('/items/0 ');
    // Multi-byte characters survive being cut by a chunk boundary.
    expect(errors[23].message).toBe(`GET /items/23000 200 in ${23000 % 97}ms — request handled by the web workload`);

    const window = await store.query(env, { since: new Date(base + 200_000).toISOString(), until: new Date(base + 200_090).toISOString() });
    expect(window.map((l) => l.message.split(' ')[1])).toEqual(Array.from({ length: 10 }, (_, k) => `/items/${20_000 + k}`));
  });
});
