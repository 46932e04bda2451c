// A terminal session ends once, whichever event ends it (exit, refusal, close, error): the first
// `settle` undoes what the session set up (raw mode, listeners, the socket), newest first, then runs
// `fn`; later calls do nothing. `settled` tells code still running that the session is over.
export function settleOnce(cleanups: (() => void)[]): { readonly settled: boolean; settle(fn: () => void): void } {
  let settled = false;
  return {
    get settled() {
      return settled;
    },
    settle(fn) {
      if (settled) return;
      settled = true;
      for (const c of cleanups.splice(0).reverse()) c();
      fn();
    },
  };
}
