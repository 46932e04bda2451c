// A follower that reads slowly costs itself lines, never the app or the platform's memory.
import { describe, expect, it } from 'vitest';
import { boundedRelay } from '../functions/api/bounded-relay.ts';

describe('boundedRelay', () => {
  it('drops lines past the pending bound without waiting, then says how many before the next line', async () => {
    // A reader that takes a line only when the test says.
    const accepted: string[] = [];
    const waiting: (() => void)[] = [];
    const write = (text: string) => new Promise<void>((resolve) => waiting.push(() => (accepted.push(text), resolve())));
    const relay = boundedRelay(write, 3, (n) => `[${n} dropped]`);
    for (let i = 0; i < 10_000; i++) relay.send(`line ${i}`);
    expect(waiting).toHaveLength(3);
    expect(relay.dropped).toBe(9997);
    for (const release of waiting.splice(0)) release();
    await Promise.resolve();
    await Promise.resolve();
    relay.send('line after');
    for (const release of waiting.splice(0)) release();
    expect(accepted).toEqual(['line 0', 'line 1', 'line 2', '[9997 dropped]', 'line after']);
  });

  it('loses nothing while the reader keeps up', async () => {
    const accepted: string[] = [];
    const relay = boundedRelay(async (text) => void accepted.push(text), 2, (n) => `[${n} dropped]`);
    for (let i = 0; i < 100; i++) {
      relay.send(`line ${i}`);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(accepted).toHaveLength(100);
    expect(relay.dropped).toBe(0);
  });
});
