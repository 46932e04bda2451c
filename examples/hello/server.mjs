// The example app: answers every request with who served it, from which release, one config value,
// and proof that it read its secret bundle (a digest of it, never the value).
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const port = Number(process.env.PORT ?? 8080);
const secretsDir = process.env.BERTH_SECRETS_DIR;

function secretProof() {
  if (!secretsDir) return 'no secrets dir';
  const bundles = readdirSync(secretsDir).filter((f) => f.endsWith('.json'));
  return bundles
    .map((file) => {
      const values = JSON.parse(readFileSync(join(secretsDir, file), 'utf8'));
      const digest = createHash('sha256').update(JSON.stringify(values)).digest('hex').slice(0, 12);
      return `${file.replace(/\.json$/, '')}: ${Object.keys(values).length} keys (sha256 ${digest})`;
    })
    .join(', ');
}

const server = createServer((req, res) => {
  // Berth's health probes identify themselves; logging them would drown the real requests.
  if (req.headers['user-agent'] !== 'berth-health-check') console.log(`INFO ${req.method} ${req.url} from ${req.socket.remoteAddress}`);
  const body = {
    message: `${process.env.GREETING ?? 'hello'} from ${process.env.BERTH_APP}`,
    instance: process.env.BERTH_INSTANCE_ID,
    release: process.env.BERTH_RELEASE,
    greeting: process.env.GREETING ?? null,
    secrets: secretProof(),
  };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
});

server.listen(port, () => console.log(`INFO listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
