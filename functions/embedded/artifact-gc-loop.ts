// Runs the artifact garbage collector in the embedded platform: once at start, on a timer, and
// soon after each deploy (a deploy is what makes an older release fall out of the rollback window).
// Passes never overlap; a request during a pass runs one more after it.
import type { ArtifactCollection, ComputeDriver } from '../core/ports.ts';
import { collectArtifacts, type ArtifactGcReport } from '../core/services/artifact-gc.ts';
import type { StateStore } from '../core/state-store.ts';

export interface ArtifactGcLoop {
  /** Asks for a pass as soon as the current one (if any) ends. */
  soon(): void;
  /** Resolves when no pass is running or asked for (tests). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function startArtifactGc(
  deps: { store: StateStore; compute: ComputeDriver },
  artifacts: ArtifactCollection,
  intervalMs: number,
  onPass: (report: ArtifactGcReport) => void,
  onError: (err: unknown) => void,
): ArtifactGcLoop {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const pass = async () => {
    do {
      again = false;
      try {
        onPass(await collectArtifacts(deps, artifacts));
      } catch (err) {
        onError(err);
      }
    } while (again && !stopped);
    running = undefined;
  };
  const soon = () => {
    if (stopped) return;
    if (running) again = true;
    else running = pass();
  };
  const timer = setInterval(soon, intervalMs);
  timer.unref(); // never what keeps the process alive
  soon();
  return {
    soon,
    async idle() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (running) await running;
    },
  };
}
