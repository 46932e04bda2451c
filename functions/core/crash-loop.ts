// A release that went live and then keeps crashing is failing, whatever the restarts hide: the
// driver restarts crashed instances with backoff (as ECS replaces stopped tasks), so without this
// the env only ever looks "not converged". Status says so, with the way out.
import type { InstanceStatus } from './ports.ts';

/** Restarts within the window that make a crash loop (Kubernetes shows CrashLoopBackOff from the second). */
export const CRASH_LOOP_RESTARTS = 3;
export const CRASH_LOOP_WINDOW_MS = 10 * 60_000;

export interface CrashLoop {
  releaseId: string;
  instances: string[];
  restarts: number;
  lastExit: { code: number | null; signal: string | null; at: string };
  message: string;
  next: string[];
}

/** The instances of `releaseId` crash-looping at `now`; undefined when none is. */
export function crashLoopOf(instances: InstanceStatus[], releaseId: string, now: number): CrashLoop | undefined {
  const looping = instances.filter(
    (i) => i.releaseId === releaseId && i.restarts >= CRASH_LOOP_RESTARTS && i.lastExit && now - Date.parse(i.lastExit.at) <= CRASH_LOOP_WINDOW_MS,
  );
  if (!looping.length) return undefined;
  const worst = looping.reduce((a, b) => (b.restarts > a.restarts ? b : a));
  const exit = worst.lastExit!;
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  return {
    releaseId,
    instances: looping.map((i) => i.id),
    restarts: worst.restarts,
    lastExit: exit,
    message: `release ${releaseId} is failing: ${looping.length === 1 ? `instance ${worst.id} has` : `${looping.length} instances have`} crashed ${worst.restarts} times after going live (last ${how} at ${exit.at})`,
    next: [`berth logs --instance ${worst.id}`, 'berth rollback'],
  };
}
