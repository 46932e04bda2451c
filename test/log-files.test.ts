import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../functions/core/errors.ts';
import type { EnvRef, LogLine } from '../functions/core/ports.ts';
import { FileLogStore } from '../functions/drivers/local/log-files.ts';
import type { WriteFn } from '../functions/drivers/local/log-segment-writer.ts';

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

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one JSON line per entry to <org>/<project>/<app>/<env>/<workload>/<instance>/app.log and reads it back at once', async () => {
    store.append(env, line(1, { message: 'hello "world"\nsecond line' }));
    expect(await store.query(env, {})).toEqual([line(1, { message: 'hello "world"\nsecond line' })]);
    await store.flush();
    const text = readFileSync(path.join(dir, 'acme', 'shop', 'api', 'prod', 'web', 'i-00000001', 'app.log'), 'utf8');
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
    await store.flush();
    appendFileSync(store.fileOf(env, 'web', 'i-00000001'), '{"ts":"2024-05-01T12:00:02.000Z","source":"app","wor');
    expect((await store.query(env, {})).map((l) => l.message)).toEqual(['line 1']);
    // After a restart, new lines start on a line of their own: the torn one costs only itself.
    await store.close();
    const restarted = new FileLogStore(dir);
    restarted.append(env, line(3));
    expect((await restarted.query(env, {})).map((l) => l.message)).toEqual(['line 1', 'line 3']);
    await restarted.close();
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

describe('FileLogStore bounds', () => {
  let dir: string;
  const envDir = () => path.join(dir, 'acme', 'shop', 'api', 'prod');
  // The stream of line()'s instance.
  const streamDir = (instance = 'i-00000001') => path.join(envDir(), 'web', instance);
  const files = (instance?: string) => readdirSync(streamDir(instance)).sort();
  // Every test line serializes to the same size, so limits read in lines.
  const BYTES = Buffer.byteLength(JSON.stringify(line(10)) + '\n');

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'berth-logs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rotates an instance\'s app.log to app.log.<n> before a write would pass the size limit, and reads across the files in order', async () => {
    const store = new FileLogStore(dir, { maxFileBytes: 10 * BYTES, maxEnvBytes: 1000 * BYTES });
    for (let i = 10; i < 35; i++) store.append(env, line(i));
    await store.flush();
    expect(files()).toEqual(['app.log', 'app.log.000001', 'app.log.000002']);
    for (const f of files()) expect(statSync(path.join(streamDir(), f)).size).toBeLessThanOrEqual(10 * BYTES);
    expect(statSync(path.join(streamDir(), 'app.log.000001')).size).toBe(10 * BYTES);
    const all = (await store.query(env, {})).map((l) => l.message);
    expect(all).toEqual(Array.from({ length: 25 }, (_, k) => `line ${10 + k}`));
    // A tail and a window that straddle a rotation.
    expect((await store.query(env, { limit: 7 })).map((l) => l.message)).toEqual(Array.from({ length: 7 }, (_, k) => `line ${28 + k}`));
    expect((await store.query(env, { since: line(18).ts, until: line(21).ts })).map((l) => l.message)).toEqual(['line 18', 'line 19', 'line 20', 'line 21']);
    // A store started again continues the numbering.
    await store.close();
    const again = new FileLogStore(dir, { maxFileBytes: 10 * BYTES, maxEnvBytes: 1000 * BYTES });
    for (let i = 35; i < 41; i++) again.append(env, line(i));
    await again.flush();
    expect(files()).toEqual(['app.log', 'app.log.000001', 'app.log.000002', 'app.log.000003']);
    expect((await again.query(env, {})).map((l) => l.message).at(-1)).toBe('line 40');
    await again.close();
  });

  it('keeps an env within its total size, deleting the oldest rotated files first', async () => {
    const store = new FileLogStore(dir, { maxFileBytes: 10 * BYTES, maxEnvBytes: 30 * BYTES });
    for (let i = 0; i < 100; i++) store.append(env, line(i));
    await store.flush();
    const total = files().reduce((sum, f) => sum + statSync(path.join(streamDir(), f)).size, 0);
    expect(total).toBeLessThanOrEqual(30 * BYTES);
    expect(files()).toEqual(['app.log', 'app.log.000008', 'app.log.000009']);
    const kept = (await store.query(env, {})).map((l) => l.message);
    expect(kept[0]).toBe('line 70');
    expect(kept.at(-1)).toBe('line 99');
    await store.close();
  });

  it('deletes files older than the age limit, a quiet env\'s active file included, on a sweep', async () => {
    let now = Date.UTC(2024, 4, 1);
    const day = 24 * 3600_000;
    const store = new FileLogStore(dir, { maxFileBytes: 10 * BYTES, maxAgeMs: 30 * day, now: () => now });
    for (let i = 0; i < 25; i++) store.append(env, line(i));
    store.append(other, line(0));
    await store.flush();
    const age = (file: string, days: number) => utimesSync(file, new Date(now - days * day), new Date(now - days * day));
    age(path.join(streamDir(), 'app.log.000001'), 40);
    age(path.join(streamDir(), 'app.log.000002'), 20);
    age(path.join(streamDir(), 'app.log'), 1);
    age(store.fileOf(other, 'web', 'i-00000001'), 31);
    expect(store.sweep().sort()).toEqual(['acme/shop/api/prod/web/i-00000001/app.log.000001', 'acme/shop/api/staging/web/i-00000001/app.log']);
    // The aged-out stream leaves no empty dirs.
    expect(readdirSync(path.join(dir, 'acme', 'shop', 'api', 'staging'))).toEqual([]);
    expect(files()).toEqual(['app.log', 'app.log.000002']);
    expect((await store.query(env, {}))[0].message).toBe('line 10');
    expect(await store.query(other, {})).toEqual([]);
    // The quiet env logs again: its file is opened afresh.
    now += day;
    store.append(other, line(50));
    expect((await store.query(other, {})).map((l) => l.message)).toEqual(['line 50']);
    await store.close();
  });

  it('a flooding instance cannot evict a quiet sibling\'s lines: retention takes the biggest stream\'s oldest files first', async () => {
    const store = new FileLogStore(dir, { maxFileBytes: 10 * BYTES, maxEnvBytes: 40 * BYTES });
    const quiet = (i: number) => line(i, { instance: 'i-00000002', message: `quiet ${i}` });
    // The quiet one rotates once too: its rotated file is as safe as its active one.
    for (let i = 0; i < 15; i++) store.append(env, quiet(i));
    for (let i = 0; i < 500; i++) store.append(env, line(20 + (i % 40), { message: `flood ${i}` }));
    await store.flush();
    expect(files('i-00000002')).toEqual(['app.log', 'app.log.000001']);
    const quietLines = await store.query(env, { instance: 'i-00000002' });
    expect(quietLines.map((l) => l.message)).toEqual(Array.from({ length: 15 }, (_, k) => `quiet ${k}`));
    // The flood kept its newest lines and paid for itself: the env stays within its total.
    const all = readdirSync(envDir(), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    const total = all.reduce((sum, e) => sum + statSync(path.join(e.parentPath, e.name)).size, 0);
    expect(total).toBeLessThanOrEqual(40 * BYTES);
    const flood = (await store.query(env, { instance: 'i-00000001' })).map((l) => l.message);
    expect(flood.at(-1)).toBe('flood 499');
    expect(flood.length).toBeGreaterThanOrEqual(10);
    expect(flood).not.toContain('flood 0');
    await store.close();
  });

  it('reads instances merged in time order across their rotations: all, a tail, --instance and --since', async () => {
    const store = new FileLogStore(dir, { maxFileBytes: 5 * BYTES });
    const ids = ['i-00000001', 'i-00000002', 'i-00000003'];
    // Appended out of step (instance by instance), stamped interleaved: reading must sort by time.
    for (const [k, instance] of ids.entries()) for (let i = k; i < 30; i += 3) store.append(env, line(i, { instance }));
    await store.flush();
    for (const id of ids) expect(files(id).length).toBeGreaterThan(1);
    const all = await store.query(env, {});
    expect(all.map((l) => l.message)).toEqual(Array.from({ length: 30 }, (_, k) => `line ${k}`));
    expect(all.slice(0, 3).map((l) => l.instance)).toEqual(ids);
    expect((await store.query(env, { limit: 4 })).map((l) => l.message)).toEqual(['line 26', 'line 27', 'line 28', 'line 29']);
    expect((await store.query(env, { instance: 'i-00000002', since: line(20).ts })).map((l) => l.message)).toEqual(['line 22', 'line 25', 'line 28']);
    const followed: string[] = [];
    const stop = store.follow(env, { instance: 'i-00000003' }, (l) => followed.push(l.message));
    store.append(env, line(40, { instance: 'i-00000001' }));
    store.append(env, line(41, { instance: 'i-00000003' }));
    stop();
    expect(followed).toEqual(['line 41']);
    await store.close();
  });

  it('still reads an env-wide app.log* written before per-instance streams, merged with new lines, and ages it out like any stream', async () => {
    let now = Date.UTC(2024, 4, 1, 13);
    const day = 24 * 3600_000;
    mkdirSync(envDir(), { recursive: true });
    // The old layout: every instance in <env>/app.log, rotated to app.log.<n>.
    writeFileSync(path.join(envDir(), 'app.log.000001'), [0, 1].map((i) => JSON.stringify(line(i, { instance: `i-0000000${1 + (i % 2)}` })) + '\n').join(''));
    writeFileSync(path.join(envDir(), 'app.log'), [2, 3].map((i) => JSON.stringify(line(i, { instance: `i-0000000${1 + (i % 2)}` })) + '\n').join(''));
    const store = new FileLogStore(dir, { maxAgeMs: 30 * day, now: () => now });
    store.append(env, line(4));
    store.append(env, line(5, { instance: 'i-00000002' }));
    await store.flush();
    expect((await store.query(env, {})).map((l) => l.message)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
    expect((await store.query(env, { instance: 'i-00000002' })).map((l) => l.message)).toEqual(['line 1', 'line 3', 'line 5']);
    // Nothing new goes to the old files.
    expect(readFileSync(path.join(envDir(), 'app.log'), 'utf8').split('\n')).toHaveLength(3);
    now += 31 * day;
    for (const f of ['app.log', 'app.log.000001']) utimesSync(path.join(envDir(), f), new Date(now - 31 * day), new Date(now - 31 * day));
    expect(store.sweep().sort()).toEqual(['acme/shop/api/prod/app.log', 'acme/shop/api/prod/app.log.000001']);
    expect((await store.query(env, {})).map((l) => l.message)).toEqual(['line 4', 'line 5']);
    await store.close();
  });

  it('a flooding instance\'s drops leave a quiet sibling\'s lines alone: each instance has its own queue', async () => {
    const pending: (() => void)[] = [];
    const write: WriteFn = (fd, text, done) => pending.push(() => appendFileSync(fd, text) === undefined && done(null));
    const store = new FileLogStore(dir, { maxQueuedBytes: 20 * BYTES, write });
    for (let i = 0; i < 1000; i++) store.append(env, line(i % 60, { message: 'flood' }));
    store.append(env, line(59, { instance: 'i-00000002', message: 'quiet' }));
    while (pending.length) pending.shift()!();
    await store.flush();
    expect((await store.query(env, { instance: 'i-00000002' })).map((l) => l.message)).toEqual(['quiet']);
    const flood = await store.query(env, { instance: 'i-00000001' });
    expect(flood.at(-1)).toMatchObject({ source: 'system', message: '980 lines dropped: the log writer fell behind (the disk is slower than the app writes)' });
    await store.close();
  });

  it('never holds the app up on a slow disk: lines beyond the queue are dropped and counted, then a marker says so', async () => {
    // A disk that completes a write only when the test says.
    const pending: (() => void)[] = [];
    const write: WriteFn = (fd, text, done) => pending.push(() => appendFileSync(fd, text) === undefined && done(null));
    const flood = (i: number) => line(i % 60, { message: `flood ${String(i).padStart(5, '0')}` });
    const store = new FileLogStore(dir, { maxQueuedBytes: 100 * Buffer.byteLength(JSON.stringify(flood(0)) + '\n'), write });
    const seen: string[] = [];
    store.follow(env, {}, (l) => seen.push(l.message));
    // The app writes 10,000 lines while the first write is still on its way: append returns each
    // time (this loop finishing is the proof), and memory holds at most the queue.
    for (let i = 0; i < 10_000; i++) store.append(env, flood(i));
    expect(pending).toHaveLength(1);
    // What was accepted, and only that, reached the followers.
    expect(seen).toHaveLength(100);
    while (pending.length) pending.shift()!();
    await store.flush();
    const lines = await store.query(env, {});
    expect(lines.slice(0, 100).map((l) => l.message)).toEqual(Array.from({ length: 100 }, (_, k) => flood(k).message));
    expect(lines.slice(100)).toEqual([expect.objectContaining({ source: 'system', workload: 'web', instance: 'i-00000001', level: 'warn', message: '9900 lines dropped: the log writer fell behind (the disk is slower than the app writes)' })]);
    // Room again: lines are kept as before.
    store.append(env, line(1, { message: 'after' }));
    while (pending.length) pending.shift()!();
    await store.flush();
    expect((await store.query(env, { limit: 1 }))[0].message).toBe('after');
    await store.close();
  });

  it('counts lines a failing disk could not take instead of taking the platform down', async () => {
    let failing = true;
    const write: WriteFn = (fd, text, done) => (failing ? done(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })) : (appendFileSync(fd, text), done(null)));
    const store = new FileLogStore(dir, { write });
    store.append(env, line(1));
    await store.flush();
    // The disk still failing: the marker waits rather than loop.
    store.append(env, line(2));
    await store.flush();
    failing = false;
    store.append(env, line(3));
    await store.flush();
    expect((await store.query(env, {})).map((l) => l.message)).toEqual(['2 lines dropped: the log file could not be written', 'line 3']);
    await store.close();
  });
});

