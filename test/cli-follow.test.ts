// `--follow` where the API cannot stream (API Gateway): the CLI polls with a moving cursor, prints
// every line once, and stops on Ctrl-C. Where it can stream, it asks for the NDJSON stream.
import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../cli/core/command.ts';
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
