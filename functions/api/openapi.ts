// The OpenAPI document, generated from the route table the app registers (route.ts): served at
// /v1/openapi.json with the server it was fetched from, the tags with their descriptions and the
// bearer scheme. Components come from the schemas' `.meta({ id })`.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { API_VERSION } from '../contract/api.ts';
import { TAGS } from '../contract/route-def.ts';
import type { ApiEnv } from './app.ts';

export const DOCUMENT_PATH = `/${API_VERSION}/openapi.json`;

export function documentConfig(version: string, origin: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Berth API',
      version,
      description: 'Desired state in, receipts out. Every mutation answers at once; watch events to see it converge. Errors are `{error:{category,code,message,details,next}}`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      contact: { name: 'Berth', url: 'https://github.com/berth-dev/berth' },
    },
    servers: [{ url: origin, description: 'This platform (the paths carry the /v1 version)' }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
  };
}

export function serveDocument(app: OpenAPIHono<ApiEnv>, version: string): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'An API token: `berth login` (device flow), `berth tokens create`, or the bootstrap token' });
  app.doc31(DOCUMENT_PATH, (c) => documentConfig(version, new URL(c.req.url).origin));
}
