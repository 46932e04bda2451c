// A route's JSON body, read before its validator so that a body the API cannot use gets a 400 that
// names the problem rather than hono's bare HTTPException: text that is not JSON (with the
// parser's own words), and keys no schema may see (`__proto__` would be dropped by the schema's
// records without a word; see contract/reserved-keys.ts). The parsed body is cached on the
// request, so the validator reads the same value and the body is parsed once.
import type { MiddlewareHandler } from 'hono';
import { formatIssuePath } from '../contract/parse-manifest.ts';
import { findReservedKey, RESERVED_KEY_MESSAGE } from '../contract/reserved-keys.ts';
import { InvalidInputError } from '../core/errors.ts';

/**
 * The media types @hono/zod-openapi's gate lets through to a JSON body (its `jsonRequestRegex`):
 * what passes here is parsed; anything else is left to the gate, which answers 415.
 */
const JSON_MEDIA_TYPE = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

/** V8's messages quote the text around the fault; a long one is cut, it is only a pointer. */
const MAX_PARSER_MESSAGE = 200;

export function jsonBody(): MiddlewareHandler {
  return async (c, next) => {
    const type = c.req.header('content-type');
    if (!type || !JSON_MEDIA_TYPE.test(type)) return next();
    let body: unknown;
    try {
      body = await c.req.json();
    } catch (err) {
      // Anything else (a body cut off at its size limit, a dropped connection) is not the JSON's fault.
      if (!(err instanceof SyntaxError)) throw err;
      const why = err.message.length > MAX_PARSER_MESSAGE ? `${err.message.slice(0, MAX_PARSER_MESSAGE)}…` : err.message;
      throw new InvalidInputError('body-not-json', `the request body is not valid JSON (${why}); send one JSON value with Content-Type: application/json, e.g. {"name":"web"}`, {
        details: [{ path: '', message: why, in: 'json' }],
      });
    }
    const reserved = findReservedKey(body);
    if (reserved) {
      const path = formatIssuePath(reserved);
      throw new InvalidInputError('request-invalid', `the request is not valid: json ${path}: ${RESERVED_KEY_MESSAGE}`, { details: [{ path, message: RESERVED_KEY_MESSAGE, in: 'json' }] });
    }
    return next();
  };
}
