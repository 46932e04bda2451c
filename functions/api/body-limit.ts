// Request body limits, checked before anything reads a body (the idempotency middleware hashes
// it, the validators parse it). With Content-Length the check costs nothing; a chunked body is
// counted while it is read and cut off at the limit (hono's bodyLimit).
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { InvalidInputError } from '../core/errors.ts';
import { routeTemplate } from './request-facts.ts';
import { MAX_ARTIFACT_BYTES } from './routes/artifacts.ts';

/**
 * JSON bodies (manifests, config, secret bundles): 1 MiB. A manifest is a few KiB; config and
 * secrets are small values by nature, and Secrets Manager caps a secret at 64 KiB anyway.
 */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** The upload route that takes raw bytes up to MAX_ARTIFACT_BYTES (functions/api/routes/artifacts.ts). */
const ARTIFACT_UPLOAD = 'PUT /orgs/{org}/artifacts/{digest}';

const mib = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;

export function bodyLimits(): MiddlewareHandler {
  const limit = (maxSize: number, what: string, fix: string[]) =>
    bodyLimit({
      maxSize,
      onError: (c) => {
        const sent = c.req.header('content-length');
        throw new InvalidInputError('body-too-large', `the request body${sent ? ` (${sent} bytes)` : ''} is over the ${mib(maxSize)} limit (${maxSize} bytes) for ${what}`, {
          httpStatus: 413,
          details: { limitBytes: maxSize, ...(sent ? { receivedBytes: Number(sent) } : {}) },
          next: fix,
        });
      },
    });
  const json = limit(MAX_JSON_BODY_BYTES, 'JSON requests (manifests, config, secrets)', [
    'keep large files out of config and secrets: put them in the artifact or on a volume',
    'split a big change into several `berth config set` / `berth secrets set` calls',
  ]);
  const artifact = limit(MAX_ARTIFACT_BYTES, 'an artifact snapshot', ['list large files the app does not need at runtime in .berthignore']);
  return (c, next) => (`${c.req.method} ${routeTemplate(c)}` === ARTIFACT_UPLOAD ? artifact(c, next) : json(c, next));
}
