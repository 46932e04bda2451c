// Reads: status, releases, operations, events and logs. `follow=true` turns events and logs into
// NDJSON streams that stay open until the client goes away. (`stream`, not `streamText`: that one
// sets text/plain over the declared application/x-ndjson.)
import { stream as streamBody } from 'hono/streaming';
import { EnvParams, EventsQuery, LogsQuery, OperationId, ReleaseId, ReleasesQuery } from '../../contract/api.ts';
import { InvalidInputError, NotFoundError } from '../../core/errors.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import { requireEnv } from '../../core/services/hierarchy.ts';
import { envStatus } from '../../core/services/status.ts';
import type { LogQuery } from '../../core/ports.ts';
import type { Api } from '../app.ts';
import * as R from '../../contract/routes/index.ts';
import { register } from '../route.ts';
import { boundedRelay } from '../bounded-relay.ts';

const EVENT_POLL_MS = 250;
/** Lines a follower may have on their way before lines for it are dropped (and counted). */
const FOLLOW_MAX_PENDING = 1000;

export function registerObserveRoutes(api: Api, deps: PlatformDeps, options: { streaming: boolean }): void {
  const { store } = deps;
  const refuseStreamWhenBuffered = (follow: string | undefined) => {
    if (follow === 'true' && !options.streaming) {
      throw new InvalidInputError('streaming-unavailable', 'this API runs behind API Gateway, which buffers responses: follow by polling with `since` (logs) or `after` (events); the CLI does this by itself', {
        next: ['berth logs --follow', 'berth events --follow'],
      });
    }
  };

  register(api, R.getStatus, async (c) => {
    return c.json({ status: await envStatus(deps, c.req.valid('param')) }, 200);
  });

  register(api, R.listReleases, async (c) => {
    const ref = c.req.valid('param');
    const env = await requireEnv(store, ref);
    const releases = await store.listReleases(ref, c.req.valid('query').limit ?? 20);
    return c.json({ currentReleaseId: env.currentReleaseId ?? null, desiredReleaseId: env.desiredReleaseId ?? null, releases }, 200);
  });

  register(api, R.getRelease, async (c) => {
      const { release: id, ...ref } = c.req.valid('param');
      await requireEnv(store, ref);
      const release = await store.getRelease(ref, id);
      if (!release) throw new NotFoundError('release-not-found', `release ${id} does not exist in ${ref.env}`, { next: ['berth releases'] });
      return c.json({ release }, 200);
    },
  );

  register(api, R.getOperation, async (c) => {
    const { operation: id, ...ref } = c.req.valid('param');
    await requireEnv(store, ref);
    const operation = await store.getOperation(ref, id);
    if (!operation) throw new NotFoundError('operation-not-found', `operation ${id} does not exist in ${ref.env}`, { next: ['berth events'] });
    return c.json({ operation }, 200);
  });

  register(api, R.listEvents, async (c) => {
    const ref = c.req.valid('param');
    const q = c.req.valid('query');
    refuseStreamWhenBuffered(q.follow);
    await requireEnv(store, ref);
    // An unknown operation is an error, not an empty list (or a stream that waits forever).
    if (q.operation && !(await store.getOperation(ref, q.operation))) {
      throw new NotFoundError('operation-not-found', `operation ${JSON.stringify(q.operation)} does not exist in ${ref.env}`, { details: { operation: q.operation }, next: ['berth events'] });
    }
    const read = (after?: string) => store.listEvents(ref, { after, operationId: q.operation, limit: q.limit });
    if (q.follow !== 'true') return c.json({ events: await read(q.after) }, 200);
    c.header('content-type', 'application/x-ndjson');
    return streamBody(c, async (stream) => {
      let after = q.after;
      let open = true;
      stream.onAbort(() => {
        open = false;
      });
      while (open) {
        // Status before events: once it has ended, the events read after it are all there are.
        const ended = q.operation ? (await store.getOperation(ref, q.operation))?.status : undefined;
        for (const event of await read(after)) {
          await stream.writeln(JSON.stringify(event));
          after = event.id;
        }
        if (ended && ended !== 'running') {
          // The last line says the stream is complete, so a follower ends instead of waiting.
          await stream.writeln(JSON.stringify({ done: true, operation: q.operation, status: ended }));
          return;
        }
        await stream.sleep(EVENT_POLL_MS);
      }
    }) as never;
  });

  register(api, R.listLogs, async (c) => {
    const ref = c.req.valid('param');
    const { follow, ...rest } = c.req.valid('query');
    refuseStreamWhenBuffered(follow);
    await requireEnv(store, ref);
    const { after, ...filters } = rest;
    const query: LogQuery = filters;
    if (after !== undefined && follow !== 'true') return c.json(await deps.logs.read(ref, { ...query, after }), 200);
    const history = await deps.logs.query(ref, { ...query, limit: query.limit ?? (follow === 'true' ? 100 : 1000) });
    if (follow !== 'true') return c.json({ lines: history }, 200);
    c.header('content-type', 'application/x-ndjson');
    return streamBody(c, async (stream) => {
      for (const line of history) await stream.writeln(JSON.stringify(line));
      const { since: _since, until: _until, limit: _limit, ...live } = query;
      await new Promise<void>((resolve) => {
        const relay = boundedRelay((text) => stream.writeln(text), FOLLOW_MAX_PENDING, (dropped) =>
          JSON.stringify({ ts: new Date().toISOString(), source: 'system', workload: '-', instance: '-', level: 'warn', message: `${dropped} line${dropped === 1 ? '' : 's'} dropped: this stream's reader fell behind (the history keeps them: berth logs --since)` }),
        );
        const stop = deps.logs.follow(ref, live, (line) => relay.send(JSON.stringify(line)));
        stream.onAbort(() => {
          stop();
          resolve();
        });
      });
    }) as never;
  });
}
