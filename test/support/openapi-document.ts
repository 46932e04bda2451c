// The OpenAPI document as the API serves it, without a platform: the document depends only on the
// route table, so an app over no dependencies answers it (its routes are never called here).
import { createApi } from '../../functions/api/app.ts';
import type { PlatformDeps } from '../../functions/core/services/deps.ts';

export type OpenApiDocument = { openapi: string; servers: { url: string }[]; paths: Record<string, Record<string, any>>; components: Record<string, Record<string, any>>; tags: { name: string; description: string }[] };

export async function servedDocument(origin = 'http://localhost:8080'): Promise<OpenApiDocument> {
  const app = createApi({ store: {} } as unknown as PlatformDeps, { version: 'test', rateLimits: false });
  const res = await app.request(`${origin}/v1/openapi.json`);
  if (res.status !== 200) throw new Error(`GET /v1/openapi.json answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as OpenApiDocument;
}
