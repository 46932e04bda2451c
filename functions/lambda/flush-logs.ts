// middy: flush the platform's batched log lines (PutLogEvents) before the Lambda returns, even
// when the handler failed: a frozen container would otherwise keep them until its next invocation.
import type middy from '@middy/core';

export function flushPlatformLogs(flush: () => Promise<void>): middy.MiddlewareObj {
  return {
    after: async () => {
      await flush();
    },
    onError: async () => {
      await flush();
    },
  };
}
