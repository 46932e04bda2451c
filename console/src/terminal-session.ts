// What a command sees as "the terminal" in the console: one TerminalView, its line editor, and
// where each key goes. While the prompt (or a command's question) is up, keys edit the line; while
// a command runs, Ctrl-C interrupts it (as SIGINT would) unless it put the terminal in raw mode,
// in which case every key is its own (exec -t); anything else typed meanwhile waits for the next
// prompt, as type-ahead does in a real terminal.
import type { Terminal } from '../../cli/core/command.ts';
import { LineEditor, type LineResult } from './line-editor.ts';
import type { TerminalView } from './terminal-view.ts';

const CTRL_C = '\x03';
const CTRL_D = '\x04';

export class TerminalSession {
  readonly editor: LineEditor;
  private raw = false;
  private readonly inputs = new Set<{ data: (bytes: Uint8Array) => void; end: () => void }>();
  private readonly interrupts = new Set<() => void>();
  private readonly resizes = new Set<() => void>();

  constructor(
    readonly view: TerminalView,
    complete?: (before: string[], word: string) => string[],
  ) {
    this.editor = new LineEditor({ write: (t) => view.writeRaw(t), columns: () => view.size().cols, complete });
    view.onData((data) => this.route(data));
    view.onResize(() => this.resizes.forEach((l) => l()));
  }

  /** Text for people (`\n` becomes `\r\n`). */
  write(text: string): void {
    this.view.write(text);
  }

  /** A message that may arrive while the prompt is up: written above it, the prompt redrawn. */
  print(text: string): void {
    const crlf = text.replace(/\r?\n/g, '\r\n');
    if (this.editor.active) this.editor.printAbove(crlf);
    else this.view.write(text);
  }

  /** Types `line` at the prompt and presses Enter, or, with no prompt up, feeds it to the next one. */
  submit(line: string): void {
    if (this.editor.active) this.editor.setLine(line);
    this.editor.feed(this.editor.active ? '\r' : `${line}\r`);
  }

  readLine(prompt: string, opts?: { history?: boolean }): Promise<LineResult> {
    return this.editor.read(prompt, opts);
  }

  /** The Host's Terminal for one command run. */
  terminal(): Terminal {
    const utf8 = new TextEncoder();
    const utf8Out = new TextDecoder();
    return {
      size: () => this.view.size(),
      setRawMode: (raw) => {
        this.raw = raw;
      },
      onInput: (data, end) => {
        const sub = { data, end };
        this.inputs.add(sub);
        return () => this.inputs.delete(sub);
      },
      onResize: (listener) => {
        this.resizes.add(listener);
        return () => this.resizes.delete(listener);
      },
      onInterrupt: (listener) => {
        this.interrupts.add(listener);
        return () => this.interrupts.delete(listener);
      },
      write: (_stream, bytes) => {
        if (this.raw) this.view.writeRaw(bytes);
        else this.view.write(utf8Out.decode(bytes, { stream: true }));
      },
      readLine: async (prompt) => {
        // The question's lines first; its last line is the prompt the answer is typed after.
        const nl = prompt.lastIndexOf('\n');
        if (nl >= 0) this.view.write(prompt.slice(0, nl + 1));
        const result = await this.editor.read(prompt.slice(nl + 1), { history: false });
        return 'line' in result ? result.line : undefined;
      },
    };
  }

  /** A command finished: the terminal is the prompt's again. */
  reset(): void {
    this.raw = false;
    this.inputs.clear();
    this.interrupts.clear();
    this.resizes.clear();
  }

  private route(data: string): void {
    if (this.editor.active) return this.editor.feed(data);
    if (this.raw) {
      const bytes = new TextEncoder().encode(data);
      for (const sub of this.inputs) sub.data(bytes);
      return;
    }
    if (data === CTRL_C) {
      this.view.write('^C\n');
      this.interrupts.forEach((l) => l());
      return;
    }
    if (this.inputs.size) {
      // Cooked mode: echoed, Enter sends a newline, Ctrl-D ends the input.
      if (data === CTRL_D) return this.inputs.forEach((s) => s.end());
      const text = data.replace(/\r/g, '\n');
      this.view.write(text);
      const bytes = new TextEncoder().encode(text);
      for (const sub of this.inputs) sub.data(bytes);
      return;
    }
    this.editor.feed(data);
  }
}
