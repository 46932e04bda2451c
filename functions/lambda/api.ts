// API Gateway (HTTP API) → the very hono app that `npm start` serves. Nothing else lives here.
import { handle } from 'hono/aws-lambda';
import { createApi } from '../api/app.ts';
import { awsPlatform } from '../aws/platform-deps.ts';
import { VERSION } from '../version.ts';

// API Gateway buffers responses, so `follow` is served by client-side polling (see the CLI).
export const handler = handle(createApi(awsPlatform().deps, { version: VERSION, streaming: false }));
