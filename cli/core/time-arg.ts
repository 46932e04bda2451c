// `--since 10m`, `--since 2h`, `--until 2026-01-02T03:04:05Z`: relative durations or ISO times.
import { cliError } from './errors.ts';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseTimeArg(flag: string, value: string, now: number): string {
  const rel = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value);
  if (rel) return new Date(now - Number(rel[1]) * UNITS[rel[2]]).toISOString();
  const t = Date.parse(value);
  if (!Number.isNaN(t) && /^\d{4}-\d{2}-\d{2}/.test(value)) return new Date(t).toISOString();
  throw cliError('invalid-input', 'time-invalid', `--${flag} ${JSON.stringify(value)} is not a time; use a duration such as 10m, 2h, 1d or an ISO time such as 2026-01-02T03:04:05Z`);
}
