// The console's prompt without a browser: how a typed line becomes argv, how keys edit the line,
// and where a command runs (transcript, stream panel, exec panel).
import { describe, expect, it } from 'vitest';
import { LineEditor } from '../console/src/line-editor.ts';
import { placementOf } from '../console/src/shell.ts';
import { joinWords, splitWords } from '../console/src/shell-words.ts';

describe('splitting a typed line into argv', () => {
  it('splits on blanks and keeps quoted text whole, as a shell does', () => {
    expect(splitWords(`config set GREETING='ahoy there' NAME="a \\"b\\"" c\\ d`)).toEqual(['config', 'set', 'GREETING=ahoy there', 'NAME=a "b"', 'c d']);
    expect(splitWords(`exec -- sh -c 'echo $HOME; ls'`)).toEqual(['exec', '--', 'sh', '-c', 'echo $HOME; ls']);
    expect(splitWords(`secrets set db EMPTY='' X=""`)).toEqual(['secrets', 'set', 'db', 'EMPTY=', 'X=']);
    expect(splitWords('  status   # what runs now')).toEqual(['status']);
    expect(splitWords('logs a#b')).toEqual(['logs', 'a#b']);
  });

  it('refuses an unterminated quote, naming it', () => {
    expect(() => splitWords(`config set A='x`)).toThrow(/unterminated single quote/);
    expect(() => splitWords(`config set A="x`)).toThrow(/unterminated double quote/);
  });

  it('joins argv back into a line that splits the same', () => {
    const argv = ['exec', '--', 'sh', '-c', "echo 'hi' && ls"];
    expect(splitWords(joinWords(argv))).toEqual(argv);
  });
});

function editor(cols = 80) {
  let screen = '';
  const e = new LineEditor({ write: (t) => (screen += t), columns: () => cols, complete: (_before, word) => ['status', 'scale count', 'secrets set'].map((c) => c.split(' ')[0]!).filter((c) => c.startsWith(word)) });
  return { e, screen: () => screen };
}

describe('the line editor', () => {
  it('edits with arrows, Home/End, Backspace, Ctrl-W and Ctrl-U, and returns the line on Enter', async () => {
    const { e } = editor();
    const line = e.read('berth> ');
    e.feed('staus\x1b[D\x1b[Dt\x05 --json\x17--jso\x01\x1b[3~S\r');
    expect(await line).toEqual({ line: 'Status --jso' });
    const next = e.read('berth> ');
    e.feed('garbage\x15status\r');
    expect(await next).toEqual({ line: 'status' });
  });

  it('recalls history with up and down, keeping the draft', async () => {
    const { e } = editor();
    for (const l of ['status', 'logs']) {
      const p = e.read('> ');
      e.feed(`${l}\r`);
      await p;
    }
    const p = e.read('> ');
    e.feed('dra\x1b[A\x1b[A\x1b[B\x1b[B\r');
    expect(await p).toEqual({ line: 'dra' });
    const q = e.read('> ');
    e.feed('\x1b[A\x1b[A\r');
    expect(await q).toEqual({ line: 'logs' });
    expect(e.history).toEqual(['status', 'logs', 'dra', 'logs']);
  });

  it('drops the line on Ctrl-C and shows ^C', async () => {
    const { e, screen } = editor();
    const p = e.read('> ');
    e.feed('deploy\x03');
    expect(await p).toEqual({ interrupted: true });
    expect(screen()).toContain('^C\r\n');
  });

  it('keeps keys typed ahead (and a pasted second line) for the next prompt', async () => {
    const { e } = editor();
    const p = e.read('> ');
    e.feed('status\rlogs\r');
    expect(await p).toEqual({ line: 'status' });
    expect(await e.read('> ')).toEqual({ line: 'logs' });
  });

  it('completes a unique word with Tab', async () => {
    const { e } = editor();
    const p = e.read('> ');
    e.feed('sta\t\r');
    expect(await p).toEqual({ line: 'status ' });
  });

  it('moves up to the first row before redrawing a line that wrapped', async () => {
    const { e, screen } = editor(10);
    const p = e.read('> ');
    e.feed('abcdefghijklmnop'); // 2 + 16 = 18 columns: two rows of 10
    e.feed('\x01');
    expect(screen()).toMatch(/\x1b\[1A\r\x1b\[J> abcdefghijklmnop\x1b\[1A\r\x1b\[2C$/);
    e.feed('\r');
    await p;
  });
});

describe('where a command runs', () => {
  it('puts follows and waits in a stream panel, exec -t in an exec panel, the rest in the transcript', async () => {
    expect(await placementOf(['logs', '--follow'])).toBe('stream');
    expect(await placementOf(['logs', '-f', '--workload', 'web'])).toBe('stream');
    expect(await placementOf(['events', '--follow'])).toBe('stream');
    expect(await placementOf(['wait'])).toBe('stream');
    expect(await placementOf(['deploy', '--wait'])).toBe('stream');
    expect(await placementOf(['exec', '-t', '--', 'sh'])).toBe('exec');
    expect(await placementOf(['exec', '--', 'ls'])).toBe('inline');
    expect(await placementOf(['logs'])).toBe('inline');
    expect(await placementOf(['logs', '--follow', '--help'])).toBe('inline');
    expect(await placementOf(['logs', '--bogus'])).toBe('inline');
  });
});
