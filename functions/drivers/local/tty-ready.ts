// The "the command has its terminal" handshake of a TTY exec. A pseudo-terminal's line
// discipline acts on input at once: keys written before the command's process has made the
// terminal its controlling one (setsid + TIOCSCTTY, done by node-pty's child, or by script(1)'s
// child for the terminal made inside a sandbox) are echoed, but a ^C among them signals no one,
// because the terminal has no foreground process group yet, and flushes the input typed before
// it; the session then waits forever. So the command first prints this marker, from inside the
// terminal it was given, and the session holds input back until the marker has come out
// (exec-session.ts); the marker is removed from the output.
// An OSC string with a name no terminal knows: were it ever shown, terminals ignore it.
export const TTY_READY_MARKER = '\x1b]berth-ready\x07';

/** A shell command line that prints the marker and then execs `command` (already shell-quoted). */
export function afterReadyMarker(command: string): string {
  return `printf '\\033]berth-ready\\007'; exec ${command}`;
}
