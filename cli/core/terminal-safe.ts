// Text from apps is data: a log line or an app's stderr quoted in a failure must not drive the
// terminal that shows it (OSC 52 writes the clipboard, OSC 0 the title, CSI 2J clears the screen,
// CR rewrites a line, DSR makes the terminal type a reply). In text mode every control character
// but tab and newline is rendered visibly; `--json` keeps the exact text (JSON escapes it) and
// `berth logs --raw` passes the bytes for those who want them. Shared by the CLI and the web
// console, which runs the same commands into a browser terminal.
//
// The rendering:
// - C0 controls and DEL become their Unicode Control Pictures (U+2400 block): ESC → ␛, CR → ␍,
//   BEL → ␇, NUL → ␀, DEL → ␡. One character each, so columns stay put.
// - C1 controls (U+0080–U+009F; U+009B is a one-byte CSI to many terminals) have no pictures and
//   become the text `\u009b`.
// - Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) reorder what is shown,
//   so a line can read as another (https://trojansource.codes); they become `\u202e` too.
// A literal `␛` an app prints looks the same as an escaped ESC; `--json` tells them apart.

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function picture(ch: string): string {
  const code = ch.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code);
  if (code === 0x7f) return '\u2421';
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control character but tab and newline made visible. */
export function visible(text: string): string {
  return text.replace(UNSAFE, picture);
}

// The exact SGR sequences `output.ts` styles with (bold, dim, red, green, yellow, cyan and their
// resets). Only colour and weight: none can hide text, move the cursor or talk to the terminal.
// eslint-disable-next-line no-control-regex
const OWN_STYLE = /(\u001b\[(?:1|2|22|31|32|33|36|39)m)/;

/**
 * The last line of defence at the output layer: like `visible`, but the colour sequences the CLI
 * itself writes survive. Places that show app text call `visible` on it first, so an app's own
 * colour codes are shown as text, not obeyed.
 */
export function visibleKeepingStyle(text: string): string {
  if (!text.includes('\u001b')) return visible(text);
  // split() with a capturing group: the style sequences are at the odd indices.
  return text
    .split(OWN_STYLE)
    .map((part, i) => (i % 2 ? part : visible(part)))
    .join('');
}

// JSON.stringify escapes C0 but leaves DEL, C1 and the bidi controls raw, and some terminals act
// on a raw U+009B; in JSON text they can only stand inside strings, where `\u009b` is the same value.
// eslint-disable-next-line no-control-regex
const RAW_IN_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `JSON.stringify` whose text carries no control character at all: the same value, safe to print. */
export function terminalSafeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(RAW_IN_JSON, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
