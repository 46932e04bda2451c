// The web console (console/): a page and its two hashed files, served by the API at `/` so that
// the console and the API share an origin (the token goes nowhere else, no CORS). Where the files
// come from is the composition root's choice (console/server/assets.ts): built from the sources
// embedded, shipped beside the Lambda's bundle on AWS.
import { Hono, type Context } from 'hono';

export interface ConsoleAsset {
  body: Uint8Array;
  gzip?: Uint8Array;
  type: string;
  /** Named by content hash: cached for ever. */
  immutable: boolean;
}

export interface ConsoleAssets {
  /** `index.html`, or a file name under /console/; undefined when there is no such file. */
  get(name: string): Promise<ConsoleAsset | undefined>;
}

// The token lives in the page's localStorage, so no script but the console's own may run: no
// inline script, nothing from elsewhere. ghostty-web compiles its WebAssembly from a data: URL
// (connect-src data:, 'wasm-unsafe-eval'); exec opens a WebSocket to this origin embedded, and on
// AWS to ECS Exec's Session Manager endpoint (wss://ssmmessages.<region>.amazonaws.com; a CSP
// wildcard may only stand for the leftmost labels).
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self' data: wss://*.amazonaws.com",
  'img-src data:',
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export function consolePages(assets: ConsoleAssets): Hono {
  const pages = new Hono();
  pages.get('/', (c) => serve(c, assets, 'index.html'));
  pages.get('/console/:name', (c) => serve(c, assets, c.req.param('name')));
  return pages;
}

async function serve(c: Context, assets: ConsoleAssets, name: string): Promise<Response> {
  const asset = await assets.get(name);
  if (!asset) return c.json({ error: { category: 'not-found', code: 'console-file-not-found', message: `the console has no file ${name}; reload the page`, next: [] } }, 404);
  const gzip = asset.gzip && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
  const headers: Record<string, string> = {
    'content-type': asset.type,
    'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    vary: 'accept-encoding',
  };
  if (gzip) headers['content-encoding'] = 'gzip';
  return c.body((gzip ? asset.gzip! : asset.body) as Uint8Array<ArrayBuffer>, 200, headers);
}
