// Side panels beside the transcript: one per long-running stream (logs --follow, events --follow,
// wait, --wait) or interactive exec, each with its own ghostty terminal, as many as are open. A
// panel's ✕ stops its command (Ctrl-C for a stream, closing the socket for exec); once the
// command has ended, ✕ removes the panel.
import type { RunControl } from './browser-host.ts';
import { TerminalSession } from './terminal-session.ts';
import { TerminalView } from './terminal-view.ts';

export type PanelKind = 'stream' | 'exec';

const CONNECTED = /Connected to (\S+) \(([^)]*)\)/;

export class Panels {
  private next = 1;
  readonly all = new Map<number, Panel>();

  constructor(
    private readonly container: HTMLElement,
    private readonly changed: () => void,
    /** Where the keyboard goes back to after a click on a panel's buttons. */
    private readonly focusTranscript: () => void,
  ) {}

  open(title: string, kind: PanelKind): Panel {
    // A terminal takes the keyboard when it opens; a stream panel must leave it where it was (the
    // transcript's prompt), an exec panel keeps it.
    const focused = document.activeElement as HTMLElement | null;
    const panel = new Panel(this.next++, title, kind, this.container, () => {
      this.all.delete(panel.id);
      this.update();
    });
    panel.element.querySelector('.close')!.addEventListener('click', () => this.focusTranscript());
    this.all.set(panel.id, panel);
    this.update();
    // After ghostty's own deferred focus (Terminal.focus() focuses again in a timeout).
    if (kind !== 'exec') setTimeout(() => focused?.focus(), 0);
    return panel;
  }

  /** A plain text editor for a workspace file (`edit FILE`). */
  edit(name: string, text: string, save: (text: string) => void): void {
    const el = document.createElement('section');
    el.className = 'panel editor';
    el.innerHTML = '<header><span class="title"></span><span class="status">editing</span><button class="save" type="button">Save</button><button class="close" type="button" title="Close without saving">✕</button></header><textarea spellcheck="false"></textarea>';
    el.querySelector('.title')!.textContent = `edit ${name}`;
    const area = el.querySelector('textarea')!;
    area.value = text;
    const close = () => {
      el.remove();
      this.update();
      this.focusTranscript();
    };
    el.querySelector('.save')!.addEventListener('click', () => {
      save(area.value);
      close();
    });
    el.querySelector('.close')!.addEventListener('click', close);
    this.container.append(el);
    this.update();
    area.focus();
  }

  private update(): void {
    document.body.classList.toggle('with-panels', this.container.childElementCount > 0);
    for (const p of this.all.values()) p.session.view.refit();
    this.changed();
  }
}

export class Panel {
  readonly element: HTMLElement;
  readonly session: TerminalSession;
  private readonly titleEl: HTMLElement;
  private readonly statusEl: HTMLElement;
  private readonly bannerEl: HTMLElement;
  private run?: RunControl;
  private done = false;
  private stopping = false;
  status = 'running';

  constructor(
    readonly id: number,
    readonly title: string,
    readonly kind: PanelKind,
    container: HTMLElement,
    private readonly removed: () => void,
  ) {
    this.element = document.createElement('section');
    this.element.className = `panel ${kind}`;
    this.element.dataset.panel = String(id);
    this.element.innerHTML = '<header><span class="id"></span><span class="title"></span><span class="status"></span><button class="close" type="button">✕</button></header><div class="banner" hidden></div><div class="term"></div>';
    this.element.querySelector('.id')!.textContent = `#${id}`;
    this.titleEl = this.element.querySelector('.title')!;
    this.titleEl.textContent = title;
    this.statusEl = this.element.querySelector('.status')!;
    this.bannerEl = this.element.querySelector('.banner')!;
    const close = this.element.querySelector<HTMLButtonElement>('.close')!;
    close.title = kind === 'exec' ? 'End the session' : 'Stop (Ctrl-C)';
    close.addEventListener('click', () => this.close());
    container.append(this.element);
    const view = new TerminalView(this.element.querySelector<HTMLElement>('.term')!, { fontSize: 13 });
    this.session = new TerminalSession(view);
    this.setStatus(kind === 'exec' ? 'connecting' : 'running');
    if (kind === 'exec') this.watchForInstance(view);
  }

  attach(run: RunControl): void {
    this.run = run;
  }

  /** The command ended with `code`. */
  ended(code: number): void {
    this.done = true;
    this.setStatus(this.stopping || code === 130 ? 'stopped' : code === 0 ? 'ended' : `exit ${code}`);
    this.element.querySelector<HTMLButtonElement>('.close')!.title = 'Close the panel';
  }

  close(): void {
    if (!this.done) {
      this.stopping = true;
      this.setStatus('stopping');
      this.run?.abort();
      return;
    }
    this.session.view.dispose();
    this.element.remove();
    this.removed();
  }

  private setStatus(text: string): void {
    this.status = text;
    this.statusEl.textContent = text;
    this.element.dataset.status = text;
  }

  /** exec says where it is on stderr; the panel says it too, where it cannot scroll away. */
  private watchForInstance(view: TerminalView): void {
    const write = view.write.bind(view);
    view.write = (text: string) => {
      const m = CONNECTED.exec(text);
      if (m && this.bannerEl.hidden) {
        this.bannerEl.hidden = false;
        this.bannerEl.textContent = `Instance ${m[1]} (${m[2]}): keys, resizes and Ctrl-C go to the command running there`;
        this.titleEl.textContent = `exec in ${m[1]}`;
        this.setStatus('connected');
        view.refit();
      }
      write(text);
    };
  }
}
