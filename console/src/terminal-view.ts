// One ghostty-web terminal on the page (the transcript, or a panel's), fitted to its box. Text for
// people goes in with `\n` turned into `\r\n`, as a tty's output processing (onlcr) would; bytes
// from a remote pty go in as they are. `text()` reads back what the terminal shows, from
// ghostty's own buffer (scrollback included): what the tests compare with the CLI's output.
import { FitAddon, init, Terminal } from 'ghostty-web';

let loaded: Promise<void> | undefined;

/** Compiles ghostty's VT parser (WebAssembly, inlined in the bundle) once per page. */
export function loadGhostty(): Promise<void> {
  return (loaded ??= init());
}

const THEME = {
  background: '#0f1419',
  foreground: '#d8dee9',
  cursor: '#d8dee9',
  selectionBackground: '#33415e',
  black: '#1d2330',
  red: '#f07178',
  green: '#a6da95',
  yellow: '#eed49f',
  blue: '#7dc4e4',
  magenta: '#c6a0f6',
  cyan: '#8bd5ca',
  white: '#d8dee9',
  brightBlack: '#6c7a96',
};

export class TerminalView {
  readonly term: Terminal;
  private readonly fit: FitAddon;
  private pendingCR = false;

  constructor(parent: HTMLElement, options: { fontSize?: number } = {}) {
    this.term = new Terminal({ fontSize: options.fontSize ?? 14, theme: THEME, scrollback: 10_000, cursorBlink: true, fontFamily: "'DejaVu Sans Mono', 'Menlo', 'Consolas', monospace" });
    this.fit = new FitAddon();
    this.term.loadAddon(this.fit);
    this.term.open(parent);
    this.fit.fit();
    this.fit.observeResize();
  }

  /** Text for people: every lone `\n` becomes `\r\n`. */
  write(text: string): void {
    let out = '';
    for (const c of text) {
      if (c === '\n' && !this.pendingCR) out += '\r\n';
      else out += c;
      this.pendingCR = c === '\r';
    }
    this.term.write(out);
  }

  /** Bytes as a program's pty sent them. */
  writeRaw(bytes: Uint8Array | string): void {
    this.term.write(bytes);
  }

  size(): { cols: number; rows: number } {
    return { cols: this.term.cols, rows: this.term.rows };
  }

  onData(listener: (data: string) => void): () => void {
    const d = this.term.onData(listener);
    return () => d.dispose();
  }

  onResize(listener: (size: { cols: number; rows: number }) => void): () => void {
    const d = this.term.onResize(listener);
    return () => d.dispose();
  }

  refit(): void {
    this.fit.fit();
  }

  focus(): void {
    this.term.focus();
  }

  dispose(): void {
    this.fit.dispose();
    this.term.dispose();
  }

  /** How the first cell of the first occurrence of `text` is drawn (the tests check colours). */
  styleOf(text: string): { bold: boolean; fg: string } | undefined {
    const buffer = this.term.buffer.active;
    for (let y = 0; y < buffer.length; y++) {
      const line = buffer.getLine(y);
      if (!line) continue;
      const { text: shown, cellAt } = lineText(line);
      const at = shown.indexOf(text);
      if (at < 0) continue;
      const cell = line.getCell(cellAt[at]!)!;
      return { bold: Boolean(cell.isBold()), fg: `#${cell.getFgColor().toString(16).padStart(6, '0')}` };
    }
    return undefined;
  }

  /**
   * What the terminal holds, as text: one string per line, soft-wrapped rows joined, trailing
   * blanks trimmed, the screen's empty rows below the cursor left out. Rows that scrolled off the
   * screen come back one per row: ghostty-web does not say which of those were soft-wrapped.
   */
  text(): string {
    const buffer = this.term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < buffer.length; y++) {
      const line = buffer.getLine(y);
      if (!line) continue;
      const { text } = lineText(line);
      if (line.isWrapped && lines.length) lines[lines.length - 1] += text;
      else lines.push(text);
    }
    const trimmed = lines.map((l) => l.trimEnd());
    while (trimmed.length && trimmed[trimmed.length - 1] === '') trimmed.pop();
    return trimmed.join('\n');
  }
}

type BufferLine = NonNullable<ReturnType<Terminal['buffer']['active']['getLine']>>;

/** A row as text (a blank cell is a space; the spacer after a wide character is nothing), and which cell each character came from. */
function lineText(line: BufferLine): { text: string; cellAt: number[] } {
  let text = '';
  const cellAt: number[] = [];
  for (let x = 0; x < line.length; x++) {
    const cell = line.getCell(x);
    if (!cell || cell.getWidth() === 0) continue;
    const chars = cell.getChars() || ' ';
    text += chars;
    for (let i = 0; i < chars.length; i++) cellAt.push(x);
  }
  return { text, cellAt };
}
