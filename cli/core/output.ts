// Output modes. `--json`: only JSON on stdout, errors as JSON too, no colour, no progress.
// Human: stable, greppable text on stdout; progress on stderr only when it is a terminal.
// Human text never carries a control character but tab, newline and the CLI's own colours: app
// text in it (logs, stderr quoted in a failure) must not drive the terminal (terminal-safe.ts).
import { terminalSafeJson, visibleKeepingStyle } from './terminal-safe.ts';

export interface Writers {
  stdout(text: string): void;
  stderr(text: string): void;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** NO_COLOR (https://no-color.org) or a dumb terminal turns colour off. */
  noColor: boolean;
}

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const plain: Style = { bold: (s) => s, dim: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s, cyan: (s) => s };
const ansi: Style = { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };

export class Output {
  readonly style: Style;
  readonly errStyle: Style;

  constructor(
    private readonly w: Writers,
    readonly json: boolean,
  ) {
    this.style = !json && w.stdoutIsTTY && !w.noColor ? ansi : plain;
    this.errStyle = !json && w.stderrIsTTY && !w.noColor ? ansi : plain;
  }

  /** The command's result: JSON in --json mode, otherwise the human rendering. */
  result(value: unknown, human: () => string): void {
    if (this.json) this.w.stdout(`${terminalSafeJson(value, 2)}\n`);
    else this.line(human());
  }

  /** One JSON value per line (streams in --json mode). */
  jsonLine(value: unknown): void {
    this.w.stdout(`${terminalSafeJson(value)}\n`);
  }

  line(text = ''): void {
    const safe = visibleKeepingStyle(text);
    this.w.stdout(safe.endsWith('\n') ? safe : `${safe}\n`);
  }

  /** A line exactly as given, control characters and all (`berth logs --raw`). */
  rawLine(text: string): void {
    this.w.stdout(`${text}\n`);
  }

  /** Progress for people watching a terminal; never in --json mode or when stderr is piped. */
  progress(text: string): void {
    if (!this.json && this.w.stderrIsTTY) this.w.stderr(`${visibleKeepingStyle(text)}\n`);
  }

  /** Notes that matter even when piped (hints, warnings); never mixed into stdout. */
  note(text: string): void {
    if (!this.json) this.w.stderr(`${visibleKeepingStyle(text)}\n`);
  }

  errorText(text: string): void {
    const safe = visibleKeepingStyle(text);
    this.w.stderr(safe.endsWith('\n') ? safe : `${safe}\n`);
  }

  errorJson(value: unknown): void {
    this.w.stdout(`${terminalSafeJson(value, 2)}\n`);
  }
}

/** Left-aligned columns, two spaces apart; the header row is bold on a terminal. */
export function table(rows: string[][], style?: Style): string {
  if (!rows.length) return '';
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => visibleLength(r[i] ?? ''))));
  return rows
    .map((r, rowIndex) => {
      const line = r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i] - visibleLength(cell)))).join('  ').trimEnd();
      return rowIndex === 0 && style ? style.bold(line) : line;
    })
    .join('\n');
}

function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}

export function ago(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86400)}d ago`;
}
