// API Gateway (HTTP API) → the very hono app that `npm start` serves. Nothing else lives here.
import { fileURLToPath } from 'node:url';
import { handle } from 'hono/aws-lambda';
import { prebuiltConsole } from '../../console/server/prebuilt.ts';
import { createApi } from '../api/app.ts';
import { awsPlatform } from '../aws/platform-deps.ts';
import { VERSION } from '../version.ts';

// API Gateway buffers responses, so `follow` is served by client-side polling (see the CLI). The
// web console's files sit beside this bundle in `console/` (the CDK app builds them there).
export const handler = handle(
  createApi(awsPlatform().deps, { version: VERSION, streaming: false, console: prebuiltConsole(fileURLToPath(new URL('./console/', import.meta.url))) }),
);
