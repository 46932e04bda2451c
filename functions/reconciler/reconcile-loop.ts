// The embedded periodic reconcile. A tick looks only at the envs that changed or are due, so an
// idle platform costs (almost) nothing however many envs it holds:
//
// - changed: every event this process records for an env (a mutation's operation, an instance that
//   crashed, restarted or became healthy, a drift found) makes it due at the next tick;
// - due: an env that runs a release is looked at again every `driftCheckMs` even when nothing was
//   seen, for drift made by hand (an instance stopped, a listener removed);
// - swept: every env is looked at every `sweepMs` (and at the first tick, which brings every env
//   back after a restart): envs created or changed by another process, anything this one missed.
//
// An env without a release (or destroyed) is not looked at again until it changes or is swept.
// On AWS the EventBridge schedule (lambda/reconcile.ts) runs one sweep per invocation instead.
import type { EnvRef } from '../core/ports.ts';
import type { PlatformDeps } from '../core/services/deps.ts';
import { checkEnv } from './reconcile-env.ts';
import { ReconcileSchedule } from './reconcile-schedule.ts';

export interface ReconcileLoopSettings {
  /** How often the loop wakes; an env that changed is looked at within one tick. */
  intervalMs: number;
  /** How often an env that runs a release is looked at with no change seen. @default 6 ticks (30 s at 5 s) */
  driftCheckMs?: number;
  /** How often every env is looked at. @default 60 ticks (5 min at 5 s) */
  sweepMs?: number;
}

export class ReconcileLoop {
  private readonly schedule = new ReconcileSchedule();
  private readonly driftCheckMs: number;
  private readonly sweepMs: number;
  private nextSweepAt = 0;

  constructor(
    private readonly deps: PlatformDeps,
    settings: ReconcileLoopSettings,
    private readonly onError: (err: unknown) => void,
  ) {
    this.driftCheckMs = settings.driftCheckMs ?? settings.intervalMs * 6;
    this.sweepMs = settings.sweepMs ?? settings.intervalMs * 60;
  }

  /** The env is looked at in the next tick. */
  markChanged(ref: EnvRef): void {
    this.schedule.markChanged(ref);
  }

  /** One pass over the envs due at `now`; `stopped` ends it early. */
  async tick(now = Date.now(), stopped: () => boolean = () => false): Promise<void> {
    if (now >= this.nextSweepAt) {
      try {
        for (const ref of await this.deps.store.listAllEnvs()) this.schedule.markChanged(ref);
        this.nextSweepAt = now + this.sweepMs;
      } catch (err) {
        this.onError(err);
      }
    }
    for (const ref of this.schedule.takeDue(now)) {
      if (stopped()) return;
      const check = await checkEnv(this.deps, ref).catch((err) => {
        this.onError(err);
        return undefined;
      });
      // Idle or gone: nothing can drift; a change (or the sweep) brings it back. A failed look is
      // tried again at the next drift check. checkAt keeps a change marked during the look.
      if (check?.state !== 'idle' && check?.state !== 'gone') this.schedule.checkAt(ref, now + this.driftCheckMs);
    }
  }
}

/**
 * Starts the periodic reconcile. The function returned stops it and resolves once a pass still in
 * flight has ended, so the caller may then shut down compute and the store under it.
 */
export function startReconcileLoop(deps: PlatformDeps, settings: ReconcileLoopSettings, onError: (err: unknown) => void): () => Promise<void> {
  const loop = new ReconcileLoop(deps, settings, onError);
  // Compute events reach the event log too (embedded/compute-events.ts), so this one cue covers both.
  const unsubscribe = deps.events.onRecord((env) => loop.markChanged(env));
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = loop.tick(Date.now(), () => stopped).finally(() => (running = undefined));
  };
  const timer = setInterval(tick, settings.intervalMs);
  timer.unref();
  tick();
  return async () => {
    stopped = true;
    clearInterval(timer);
    unsubscribe();
    await running;
  };
}
