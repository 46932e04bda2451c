// A `logs --follow` stream feeds a reader at the reader's pace, and an app can log faster than a
// reader on a slow link reads: unwritten lines would pile up in the response without bound. Past
// `maxPending` lines still on their way, lines are dropped and counted; the next line that fits is
// preceded by a marker saying how many. The app and the log files never wait for a reader.

export interface BoundedRelay {
  /** Sends `text` or drops it; never waits. */
  send(text: string): void;
  readonly dropped: number;
}

export function boundedRelay(write: (text: string) => Promise<unknown>, maxPending: number, marker: (dropped: number) => string): BoundedRelay {
  let pending = 0;
  let unreported = 0;
  let dropped = 0;
  const put = (text: string) => {
    pending++;
    // A reader gone away fails its writes; the stream's abort handler ends the relay.
    write(text).then(
      () => pending--,
      () => pending--,
    );
  };
  return {
    send(text) {
      if (pending >= maxPending) {
        unreported++;
        dropped++;
        return;
      }
      if (unreported) {
        put(marker(unreported));
        unreported = 0;
      }
      put(text);
    },
    get dropped() {
      return dropped;
    },
  };
}
