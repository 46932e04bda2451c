// The console's line editor, in the spirit of readline: a prompt, editing keys, history, Ctrl-C,
// Tab completion. It knows nothing of the DOM: keys come in as the terminal's input strings (what
// ghostty-web's onData gives, the same bytes a real terminal sends) and it answers by writing
// escape sequences, redrawing the line when it wraps past the terminal's width.

export type LineResult = { line: string } | { interrupted: true };

export interface LineEditorOptions {
  write(text: string): void;
  columns(): number;
  /** Completions for the word before the cursor, given the words before it. */
  complete?(before: string[], word: string): string[];
}

const ESC_SEQUENCE = /^\x1b(?:\[[0-9;?]*[ -/]*[@-~]|O.|.)?/s;

export class LineEditor {
  readonly history: string[] = [];
  private prompt = '';
  private promptWidth = 0;
  private buffer = '';
  private cursor = 0;
  private cursorRow = 0;
  private historyIndex = 0;
  private draft = '';
  private useHistory = true;
  private done?: (result: LineResult) => void;
  /** Input typed while no line was being read (type-ahead, a multi-line paste), or while paused. */
  private pending = '';
  private paused = false;

  constructor(private readonly options: LineEditorOptions) {}

  get active(): boolean {
    return this.done !== undefined;
  }

  /** Shows `prompt` and reads one line. `history: false` for answers to a command's question. */
  read(prompt: string, opts: { history?: boolean } = {}): Promise<LineResult> {
    if (this.done) throw new Error('a line is already being read');
    this.prompt = prompt;
    this.promptWidth = visibleWidth(prompt);
    this.buffer = '';
    this.cursor = 0;
    this.cursorRow = 0;
    this.useHistory = opts.history ?? true;
    this.historyIndex = this.history.length;
    this.options.write(prompt);
    const result = new Promise<LineResult>((resolve) => (this.done = resolve));
    const pending = this.pending;
    this.pending = '';
    if (pending) this.feed(pending);
    return result;
  }

  /** Writes `text` above the prompt being shown (a message that arrived meanwhile), then redraws it. */
  printAbove(text: string): void {
    if (!this.done) return this.options.write(text);
    let out = this.cursorRow > 0 ? `\x1b[${this.cursorRow}A` : '';
    out += `\r\x1b[J${text}`;
    this.options.write(out);
    this.cursorRow = 0;
    this.options.write(this.prompt);
    this.render();
  }

  /** Replaces the line being edited (the guided tour types its commands this way). */
  setLine(text: string): void {
    this.buffer = text;
    this.cursor = text.length;
    this.render();
  }

  get line(): string {
    return this.buffer;
  }

  /** Holds keys back (they queue) while the guided tour types a command; `resume` replays them. */
  pause(): void {
    this.paused = true;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  resume(): void {
    this.paused = false;
    const pending = this.pending;
    this.pending = '';
    if (pending) this.feed(pending);
  }

  /** Keys and pasted text, as the terminal sends them. */
  feed(data: string): void {
    let rest = data;
    while (rest) {
      if (!this.done || this.paused) {
        this.pending += rest;
        return;
      }
      let token: string;
      if (rest[0] === '\x1b') token = ESC_SEQUENCE.exec(rest)![0];
      else if (rest[0]! < ' ' || rest[0] === '\x7f') token = rest[0]!;
      else token = /^[^\x00-\x1f\x7f]+/.exec(rest)![0];
      rest = rest.slice(token.length);
      this.key(token);
    }
  }

  private key(k: string): void {
    switch (k) {
      case '\r':
      case '\n':
        return this.finish({ line: this.buffer });
      case '\x03': // Ctrl-C: drop the line, as a shell does
        this.moveToEnd();
        this.options.write('^C\r\n');
        return this.settle({ interrupted: true });
      case '\x7f':
      case '\b':
        if (this.cursor > 0) this.edit(this.buffer.slice(0, this.cursor - 1) + this.buffer.slice(this.cursor), this.cursor - 1);
        return;
      case '\x1b[3~':
      case '\x04': // Ctrl-D deletes under the cursor (there is no shell to leave)
        if (this.cursor < this.buffer.length) this.edit(this.buffer.slice(0, this.cursor) + this.buffer.slice(this.cursor + 1), this.cursor);
        return;
      case '\x1b[D':
      case '\x1bOD':
      case '\x02':
        return this.edit(this.buffer, Math.max(0, this.cursor - 1));
      case '\x1b[C':
      case '\x1bOC':
      case '\x06':
        return this.edit(this.buffer, Math.min(this.buffer.length, this.cursor + 1));
      case '\x1b[H':
      case '\x1bOH':
      case '\x1b[1~':
      case '\x01':
        return this.edit(this.buffer, 0);
      case '\x1b[F':
      case '\x1bOF':
      case '\x1b[4~':
      case '\x05':
        return this.edit(this.buffer, this.buffer.length);
      case '\x1b[A':
      case '\x1bOA':
      case '\x10':
        return this.recall(-1);
      case '\x1b[B':
      case '\x1bOB':
      case '\x0e':
        return this.recall(1);
      case '\x15': // Ctrl-U
        return this.edit(this.buffer.slice(this.cursor), 0);
      case '\x0b': // Ctrl-K
        return this.edit(this.buffer.slice(0, this.cursor), this.cursor);
      case '\x17': {
        // Ctrl-W: the word before the cursor
        const before = this.buffer.slice(0, this.cursor).replace(/\S+\s*$/, '');
        return this.edit(before + this.buffer.slice(this.cursor), before.length);
      }
      case '\x1bb':
      case '\x1b[1;5D': {
        const before = this.buffer.slice(0, this.cursor).replace(/\S+\s*$/, '');
        return this.edit(this.buffer, before.length);
      }
      case '\x1bf':
      case '\x1b[1;5C': {
        const m = /^\s*\S+/.exec(this.buffer.slice(this.cursor));
        return this.edit(this.buffer, this.cursor + (m ? m[0].length : 0));
      }
      case '\x0c': // Ctrl-L
        this.options.write('\x1b[H\x1b[2J');
        this.cursorRow = 0;
        this.options.write(this.prompt);
        return this.render();
      case '\t':
        return this.completeWord();
      default:
        if (k[0] === '\x1b' || k < ' ') return; // other keys and sequences: nothing to do
        this.edit(this.buffer.slice(0, this.cursor) + k + this.buffer.slice(this.cursor), this.cursor + k.length);
    }
  }

  private finish(result: { line: string }): void {
    this.moveToEnd();
    this.options.write('\r\n');
    const line = result.line;
    if (this.useHistory && line.trim() && this.history[this.history.length - 1] !== line) this.history.push(line);
    this.settle(result);
  }

  private settle(result: LineResult): void {
    const done = this.done;
    this.done = undefined;
    done?.(result);
  }

  private recall(step: number): void {
    if (!this.useHistory) return;
    const next = this.historyIndex + step;
    if (next < 0 || next > this.history.length) return;
    if (this.historyIndex === this.history.length) this.draft = this.buffer;
    this.historyIndex = next;
    const text = next === this.history.length ? this.draft : this.history[next]!;
    this.edit(text, text.length);
  }

  private completeWord(): void {
    if (!this.options.complete) return;
    const before = this.buffer.slice(0, this.cursor);
    const m = /(\S*)$/.exec(before)!;
    const word = m[1]!;
    const words = before.slice(0, before.length - word.length).trim().split(/\s+/).filter(Boolean);
    const matches = this.options.complete(words, word);
    if (!matches.length) return;
    const common = matches.reduce((a, b) => {
      let i = 0;
      while (i < a.length && a[i] === b[i]) i++;
      return a.slice(0, i);
    });
    if (matches.length === 1) {
      const insert = `${matches[0]!.slice(word.length)} `;
      this.edit(before + insert + this.buffer.slice(this.cursor), this.cursor + insert.length);
    } else if (common.length > word.length) {
      const insert = common.slice(word.length);
      this.edit(before + insert + this.buffer.slice(this.cursor), this.cursor + insert.length);
    } else {
      // Several choices: list them under the line, then draw the line again.
      this.moveToEnd();
      this.options.write(`\r\n${matches.join('  ')}\r\n${this.prompt}`);
      this.cursorRow = 0;
      this.render();
    }
  }

  private edit(buffer: string, cursor: number): void {
    this.buffer = buffer;
    this.cursor = cursor;
    this.render();
  }

  /** Draws prompt and line from the prompt's first row, then puts the cursor where it belongs. */
  private render(): void {
    const cols = Math.max(1, this.options.columns());
    let out = this.cursorRow > 0 ? `\x1b[${this.cursorRow}A` : '';
    out += `\r\x1b[J${this.prompt}${this.buffer}`;
    const total = this.promptWidth + this.buffer.length;
    // A line that exactly fills the last column leaves the cursor waiting to wrap; wrap it now,
    // so that row arithmetic below holds.
    if (total > 0 && total % cols === 0) out += '\r\n';
    const endRow = Math.floor(total / cols);
    const at = this.promptWidth + this.cursor;
    const row = Math.floor(at / cols);
    const col = at % cols;
    if (endRow > row) out += `\x1b[${endRow - row}A`;
    out += '\r';
    if (col > 0) out += `\x1b[${col}C`;
    this.cursorRow = row;
    this.options.write(out);
  }

  private moveToEnd(): void {
    if (this.cursor !== this.buffer.length) this.edit(this.buffer, this.buffer.length);
  }
}

function visibleWidth(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}
