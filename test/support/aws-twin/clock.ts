// Simulated time for the AWS twin. Nothing in the twin sleeps: timers (a task reaching RUNNING, a
// target passing its health checks, a drained target leaving) are due at simulated instants, and
// `advance(ms)` walks to each in order, letting the platform's work settle in between. The drivers'
// polls sleep on this clock too (it is their `Clock`), so a 5 s poll costs no real time.
import { AsyncLocalStorage } from 'node:async_hooks';

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
}

/** A unit of platform work (a Lambda invocation, an execution): busy unless it waits on the twin. */
export interface WorkUnit {
  name: string;
  /** How many twin waits (a sleep, a task token) it is in; > 0 means it waits for simulated time. */
  waiting: number;
}

export class TwinClock {
  private current: number;
  private seq = 0;
  private timers: Timer[] = [];
  private readonly units = new Set<WorkUnit>();
  private readonly context = new AsyncLocalStorage<WorkUnit>();

  constructor(start = Date.UTC(2026, 0, 5, 9, 0, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  date(): Date {
    return new Date(this.current);
  }

  /** Runs `fire` when simulated time reaches `now() + ms`; returns a cancel function. */
  after(ms: number, fire: () => void): () => void {
    const timer: Timer = { at: this.current + Math.max(0, ms), seq: this.seq++, fire };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** The driver-facing sleep (functions/drivers/aws/poll.ts `Clock`): resolves in simulated time. */
  sleep(ms: number): Promise<void> {
    return this.wait(new Promise<void>((resolve) => this.after(ms, resolve)));
  }

  /** Marks the current work unit as waiting on the twin until `promise` settles. */
  wait<T>(promise: Promise<T>): Promise<T> {
    const unit = this.context.getStore();
    if (!unit) return promise;
    unit.waiting++;
    return promise.finally(() => {
      unit.waiting--;
    });
  }

  /** Runs platform work as a unit that `advance` waits for; the unit ends when `work` settles. */
  run<T>(name: string, work: () => Promise<T>): Promise<T> {
    const unit: WorkUnit = { name, waiting: 0 };
    this.units.add(unit);
    return this.context.run(unit, () => Promise.resolve().then(work)).finally(() => this.units.delete(unit));
  }

  /** Resolves once every work unit waits on simulated time (or none runs). Real I/O (dynalite) proceeds meanwhile. */
  async settle(): Promise<void> {
    const started = performance.now();
    for (let turns = 0; ; turns++) {
      const busy = [...this.units].filter((u) => u.waiting === 0);
      if (!busy.length) {
        // Two quiet turns: a unit that just woke may start another within a microtask.
        if (turns > 1) return;
      } else turns = 0;
      if (performance.now() - started > 20_000) throw new Error(`the twin's clock waited 20 s (real) for ${busy.map((u) => u.name).join(', ')} to settle`);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Moves simulated time forward by `ms`, firing each due timer in order and settling after each. */
  async advance(ms: number): Promise<void> {
    const until = this.current + ms;
    await this.settle();
    for (;;) {
      const next = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = Math.max(this.current, next.at);
      next.fire();
      await this.settle();
    }
    this.current = until;
  }

  /** Advances in `stepMs` steps until `done()` holds or `limitMs` of simulated time passed; returns the simulated ms it took. */
  async advanceUntil(done: () => boolean | Promise<boolean>, options: { stepMs?: number; limitMs?: number; each?: () => void | Promise<void> } = {}): Promise<number> {
    const step = options.stepMs ?? 1000;
    const limit = options.limitMs ?? 3_600_000;
    const start = this.current;
    while (!(await done())) {
      if (this.current - start >= limit) throw new Error(`not done after ${limit / 1000} s of simulated time`);
      await this.advance(step);
      await options.each?.();
    }
    return this.current - start;
  }
}
