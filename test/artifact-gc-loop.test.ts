// The embedded platform's GC schedule: a pass at start, passes never overlap, and a request during
// a pass gives exactly one more after it.
import { describe, expect, it } from 'vitest';
import type { ArtifactCollection, ComputeDriver } from '../functions/core/ports.ts';
import type { StateStore } from '../functions/core/state-store.ts';
import { startArtifactGc } from '../functions/embedded/artifact-gc-loop.ts';

describe('artifact GC loop', () => {
  it('runs once at start, then once more for any number of requests made during a pass', async () => {
    let passes = 0;
    let inPass = 0;
    let overlapped = false;
    let release: () => void = () => undefined;
    const artifacts: ArtifactCollection = {
      list: async () => {
        passes++;
        if (++inPass > 1) overlapped = true;
        if (passes === 1) await new Promise<void>((r) => (release = r));
        inPass--;
        return [];
      },
      remove: async () => false,
      removeLeftovers: async () => [],
    };
    const deps = { store: {} as StateStore, compute: {} as ComputeDriver };
    const gc = startArtifactGc(deps, artifacts, 3_600_000, () => undefined, (err) => {
      throw err;
    });
    gc.soon();
    gc.soon();
    gc.soon();
    release();
    await gc.idle();
    expect(passes).toBe(2);
    expect(overlapped).toBe(false);
    await gc.stop();
    gc.soon();
    await gc.idle();
    expect(passes).toBe(2);
  });
});
