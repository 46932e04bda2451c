// `npm start`: the embedded platform in the foreground.
import '../core/polyfills.ts';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { issueOwnerToken, hashToken } from '../api/auth.ts';
import { adoptOrgsWithoutMembers } from './adopt-orgs.ts';
import { readCredentials, writeCredentials, credentialsPath } from './credentials.ts';
import { startEmbeddedPlatform } from './platform.ts';
import { VERSION } from '../version.ts';

const DEFAULT_PORT = 4680;

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    home: { type: 'string' },
    'reconcile-interval': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(`Usage: npm start -- [--port N] [--host ADDR] [--home DIR]

Runs the Berth platform embedded on this machine: API, state (dynalite), rollouts (local ASL
interpreter), workloads as processes, endpoints as TCP listeners on [::1].

  --port N     API port (default ${DEFAULT_PORT}, or BERTH_PORT; a free port when it is taken)
  --host ADDR  API address (default 127.0.0.1)
  --home DIR   data dir (default $BERTH_HOME or ./.berth)
  --reconcile-interval MS
               how often desired and actual state are compared (default 5000; 0 = off)
`);
  process.exit(0);
}

// Everything the platform writes (the store, logs, artifacts, secrets) is its own user's alone.
// Instances do not inherit this: their sandbox starts them with the usual 022.
process.umask(0o077);
const home = resolve(values.home ?? process.env.BERTH_HOME ?? '.berth');
const wanted = Number(values.port ?? process.env.BERTH_PORT ?? DEFAULT_PORT);
const explicit = values.port !== undefined || process.env.BERTH_PORT !== undefined;
const reconcileIntervalMs = values['reconcile-interval'] === undefined ? undefined : Number(values['reconcile-interval']);

async function start() {
  try {
    return await startEmbeddedPlatform({ home, port: wanted, host: values.host, version: VERSION, reconcileIntervalMs });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || explicit) throw err;
    process.stderr.write(`port ${wanted} is taken; using a free port instead\n`);
    return startEmbeddedPlatform({ home, port: 0, host: values.host, version: VERSION, reconcileIntervalMs });
  }
}

const platform = await start();
const existing = readCredentials(home);
let token = existing?.token;
let firstToken = false;
if (!token || (await platform.deps.store.getTokenByHash(hashToken(token)))?.kind !== 'bootstrap') {
  token = (await issueOwnerToken(platform.deps.store)).token;
  firstToken = true;
}
await adoptOrgsWithoutMembers(platform.deps.store);
writeCredentials(home, { api: platform.url, token });

process.stdout.write(`Berth ${VERSION} (embedded) is running.

  API        ${platform.url}/v1   (OpenAPI: ${platform.url}/v1/openapi.json)
  console    ${platform.url}/   (the CLI in a browser tab; sign in with the owner token)
  data dir   ${home}
  isolation  ${platform.deps.isolation?.summary ?? 'not reported by this compute driver'}
  token      ${credentialsPath(home)}${firstToken ? `\n             owner token: ${token}` : ''}

In another shell, from this directory:  npx berth orgs create <name>
Stop with Ctrl-C.
`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write('\nstopping: instances, endpoints, state…\n');
    await platform.close();
    process.exit(0);
  });
}
