// Holds a TTY exec's input until the command has printed its ready marker
// (drivers/local/tty-ready.ts), and takes the marker out of the output. Without a marker it
// passes everything straight through.
// What the terminal prints before the marker (a sandbox's start-up error) is kept until then; past
// this much the marker is not coming in any useful time, and the gate opens.
const MAX_EARLY_CHARS = 64 * 1024;

export class ReadyGate {
  private ready: boolean;
  private early = '';
  private held: string[] = [];

  constructor(
    private readonly marker: string | undefined,
    private readonly deliver: (text: string) => void,
    private readonly write: (text: string) => void,
  ) {
    this.ready = !marker;
  }

  /** Output from the terminal. */
  output(text: string): void {
    if (this.ready) return this.deliver(text);
    // The marker may arrive split across reads: look for it in all that came so far.
    this.early += text;
    const at = this.early.indexOf(this.marker!);
    if (at !== -1) this.open(this.early.slice(0, at) + this.early.slice(at + this.marker!.length));
    else if (this.early.length > MAX_EARLY_CHARS) this.open(this.early);
  }

  /** Input for the terminal: written now once ready, else in order when it is. */
  input(text: string): void {
    if (this.ready) this.write(text);
    else this.held.push(text);
  }

  /** The command ended: output held waiting for the marker is delivered all the same. */
  end(): void {
    if (!this.ready) {
      this.ready = true;
      this.deliver(this.early);
      this.early = '';
    }
  }

  private open(output: string): void {
    this.ready = true;
    this.early = '';
    this.deliver(output);
    for (const text of this.held.splice(0)) this.write(text);
  }
}
