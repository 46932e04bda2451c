// `--follow` where the API cannot stream (API Gateway): the CLI polls with a moving cursor, prints
// every line once, and stops on Ctrl-C. Where it can stream, it asks for the NDJSON stream.
import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../cli/core/command.ts';
import { CliError } from '../cli/core/errors.ts';
import { follow } from '../cli/core/follow.ts';

interface Line {
  ts: string;
  instance: string;
  message: string;
}

function fakeContext(streaming: boolean, pages: Line[][]) {
  const requests: string[] = [];
  let stop!: () => void;
  const interrupted = new Promise<void>((r) => (stop = r));
  let page = 0;
  const ctx = {
    api: {
      get: async (path: string) => {
        requests.push(path);
        if (path === '/v1/health') return { ok: true, streaming };
        const lines = pages[Math.min(page++, pages.length - 1)];
        if (page >= pages.length) setTimeout(stop, 0);
        return { lines };
      },
      stream: async (path: string) => {
        requests.push(`stream ${path}`);
      },
    },
    host: { interrupted, sleep: () => new Promise((r) => setTimeout(r, 0)) },
  } as unknown as CommandContext;
  return { ctx, requests };
}

const line = (ts: string, message: string): Line => ({ ts, instance: 'i-1', message });

describe('follow', () => {
  it('polls with `since` when the API cannot stream, printing each line once', async () => {
    const pages = [[line('T1', 'a'), line('T2', 'b')], [line('T2', 'b'), line('T3', 'c')], [line('T3', 'c')]];
    const { ctx, requests } = fakeContext(false, pages);
    const printed: string[] = [];
    await follow<Line>(ctx, {
      path: '/logs',
      query: new URLSearchParams({ limit: '100' }),
      field: 'lines',
      advance: (q, last) => {
        q.set('since', last.ts);
        q.delete('limit');
      },
      key: (l) => `${l.ts} ${l.instance} ${l.message}`,
      print: (l) => printed.push(l.message),
    });
    expect(printed).toEqual(['a', 'b', 'c']);
    expect(requests.slice(1, 3)).toEqual(['/logs?limit=100', '/logs?since=T2']);
  });

  it('asks for the NDJSON stream when the API can stream', async () => {
    const { ctx, requests } = fakeContext(true, [[]]);
    await follow<Line>(ctx, { path: '/logs', query: new URLSearchParams({ level: 'warn' }), field: 'lines', advance: () => undefined, key: (l) => l.ts, print: () => undefined });
    expect(requests).toEqual(['/v1/health', 'stream /logs?level=warn&follow=true']);
  });
});

describe('follow when the API cannot stream (AWS)', () => {
  // Each poll is a FilterLogEvents call there, against a quota of 5 per second per account.
  function pollingContext(answers: (Line[] | Error | { lines: Line[]; next: string; more?: boolean })[]) {
    const sleeps: number[] = [];
    const notes: string[] = [];
    const requests: string[] = [];
    let stop!: () => void;
    const interrupted = new Promise<void>((r) => (stop = r));
    let i = 0;
    const ctx = {
      api: {
        get: async (path: string) => {
          if (path === '/v1/health') return { ok: true, streaming: false };
          requests.push(path);
          const answer = answers[Math.min(i++, answers.length - 1)];
          if (i >= answers.length) setTimeout(stop, 0);
          if (answer instanceof Error) throw answer;
          return Array.isArray(answer) ? { lines: answer } : answer;
        },
      },
      out: { note: (text: string) => notes.push(text) },
      host: { interrupted, sleep: (ms: number) => (sleeps.push(ms), new Promise((r) => setTimeout(r, 0))) },
    } as unknown as CommandContext;
    return { ctx, sleeps, notes, requests };
  }
  const spec = (printed: string[]) => ({
    path: '/logs',
    query: new URLSearchParams(),
    field: 'lines',
    advance: (q: URLSearchParams, last: Line) => q.set('since', last.ts),
    key: (l: Line) => `${l.ts} ${l.message}`,
    print: (l: Line) => printed.push(l.message),
  });

  it('backs off while nothing new comes (1 s doubling to 8 s) and is quick again once lines flow', async () => {
    const { ctx, sleeps } = pollingContext([[line('T1', 'a')], [line('T1', 'a')], [], [], [], [], [line('T2', 'b')], []]);
    const printed: string[] = [];
    await follow<Line>(ctx, spec(printed));
    expect(printed).toEqual(['a', 'b']);
    expect(sleeps).toEqual([1000, 2000, 4000, 8000, 8000, 8000, 1000, 2000]);
  });

  it('waits out a quota answer (logs-throttled) instead of failing, and misses nothing', async () => {
    const throttled = new CliError({ category: 'quota', code: 'logs-throttled', message: 'throttled', next: [], details: { retryAfterSeconds: 3 } });
    const { ctx, sleeps, notes } = pollingContext([[line('T1', 'a')], throttled, throttled, [line('T1', 'a'), line('T2', 'b')], []]);
    const printed: string[] = [];
    await follow<Line>(ctx, spec(printed));
    expect(printed).toEqual(['a', 'b']);
    expect(sleeps.slice(0, 4)).toEqual([1000, 3000, 3000, 1000]);
    // The user is told once per throttled spell, on stderr, and the follow goes on.
    expect(notes).toEqual(['throttled; still following, retrying every 3 s']);
  });

  it('follows the continuation the API answers (next, more): polls again quickly while it says more, and prints a line that comes again (re-read for late ingestion) once', async () => {
    const resumeSpec = (printed: string[]) => ({
      ...spec(printed),
      advance: (q: URLSearchParams, last: Line) => q.set('after', last.ts),
      resume: { set: (q: URLSearchParams, next: string) => q.set('after', next), before: (l: Line, next: string) => l.ts < next, start: (q: URLSearchParams) => q.set('after', 'T0') },
    });
    const { ctx, sleeps, requests } = pollingContext([
      [],
      { lines: [line('T2', 'b')], next: 'T2', more: true },
      // T1 became searchable late; T2 comes again (at `next`) and is not printed twice.
      { lines: [line('T1', 'late'), line('T2', 'b'), line('T3', 'c')], next: 'T3' },
      { lines: [line('T3', 'c')], next: 'T3' },
    ]);
    const printed: string[] = [];
    await follow<Line>(ctx, resumeSpec(printed));
    expect(printed).toEqual(['b', 'late', 'c']);
    expect(requests).toEqual(['/logs?', '/logs?after=T0', '/logs?after=T2', '/logs?after=T3']);
    expect(sleeps).toEqual([2000, 1000, 1000, 2000]);
  });

  it('still fails on any other error', async () => {
    const denied = new CliError({ category: 'permission', code: 'role-insufficient', message: 'no', next: [] });
    const { ctx } = pollingContext([denied]);
    await expect(follow<Line>(ctx, spec([]))).rejects.toBe(denied);
  });
});
