// A hostile tenant's program: it tries every way out of its instance it can think of, given the
// host paths it would have to guess (the test hands them over, which only makes it stronger), and
// reports what each attempt got. Run as an instance's HTTP handler and as an exec session.

/** What the probe is aimed at, passed to it as JSON in $PROBE_TARGETS. */
export interface ProbeTargets {
  /** The platform's data dir. */
  home: string;
  /** Files the probe tries to read: credentials.json, secrets.key, the store, org A's secrets and volume. */
  read: string[];
  /** Dirs it tries to list. */
  list: string[];
  /** Files it tries to create: in org A's release, its volume, the system dirs. */
  write: string[];
  /** Unix sockets it tries to connect to (the store's dynalite). */
  sockets: string[];
  /** Host pids of org A's processes: the probe tries their /proc entries and signals them. */
  pids: number[];
  /** The API, tried with no token and with every token-like string the probe found. */
  api: string;
}

export interface ProbeAttempt {
  what: string;
  /** `denied: <errno or status>`, or `GOT: <what came back>`. */
  outcome: string;
}

export const PROBE_SOURCE = String.raw`
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';

export async function probe() {
  const t = JSON.parse(process.env.PROBE_TARGETS);
  const found = [];
  const attempts = [];
  const denied = (err) => 'denied: ' + (err.code || err.message);
  const tryRead = (file, what = 'read ' + file) => {
    try {
      const text = readFileSync(file, 'utf8');
      found.push(text);
      attempts.push({ what, outcome: 'GOT: ' + text.slice(0, 200) });
    } catch (err) {
      attempts.push({ what, outcome: denied(err) });
    }
  };
  for (const file of t.read) tryRead(file);
  for (const dir of t.list) {
    try {
      attempts.push({ what: 'list ' + dir, outcome: 'GOT: ' + readdirSync(dir).join(' ') });
    } catch (err) {
      attempts.push({ what: 'list ' + dir, outcome: denied(err) });
    }
  }
  // Up from the secrets dir it was given, however far: the old way to the platform's files.
  for (let up = 1; up <= 8; up++) {
    const rel = '/..'.repeat(up);
    for (const name of ['credentials.json', 'secrets.key']) tryRead(process.env.BERTH_SECRETS_DIR + rel + '/' + name, 'read $BERTH_SECRETS_DIR' + rel + '/' + name);
  }
  for (const file of t.write) {
    try {
      writeFileSync(file, 'pwned by the hostile tenant');
      attempts.push({ what: 'write ' + file, outcome: 'GOT: written' });
    } catch (err) {
      attempts.push({ what: 'write ' + file, outcome: denied(err) });
    }
  }
  for (const socket of t.sockets) {
    const outcome = await new Promise((resolve) => {
      const s = connect(socket, () => { s.destroy(); resolve('GOT: connected'); });
      s.on('error', (err) => resolve(denied(err)));
    });
    attempts.push({ what: 'connect ' + socket, outcome });
  }
  for (const pid of t.pids) {
    tryRead('/proc/' + pid + '/environ');
    try {
      process.kill(pid, 'SIGKILL');
      attempts.push({ what: 'kill ' + pid, outcome: 'GOT: signalled' });
    } catch (err) {
      attempts.push({ what: 'kill ' + pid, outcome: denied(err) });
    }
  }
  // Every process it can see: none may be another instance's.
  const self = process.env.BERTH_INSTANCE_ID;
  const others = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const env = readFileSync('/proc/' + entry + '/environ', 'utf8').split('\0');
      const id = env.find((v) => v.startsWith('BERTH_INSTANCE_ID='));
      if (id && id !== 'BERTH_INSTANCE_ID=' + self) others.push(entry + ' ' + id);
      found.push(env.join('\n'));
    } catch {}
  }
  attempts.push({ what: "other instances' /proc/*/environ", outcome: others.length ? 'GOT: ' + others.join(', ') : 'denied: none visible' });
  // The API with no token, then with anything that looks like one.
  const tokens = new Set([undefined]);
  for (const text of [...found, ...Object.values(process.env)]) for (const m of String(text).match(/berth_[A-Za-z0-9_-]{20,}/g) || []) tokens.add(m);
  for (const token of tokens) {
    const res = await fetch(t.api + '/v1/whoami', { headers: token ? { authorization: 'Bearer ' + token } : {} }).catch((err) => ({ status: err.message }));
    attempts.push({ what: 'GET /v1/whoami ' + (token ? 'with a found token' : 'without a token'), outcome: res.status === 200 ? 'GOT: 200 ' + (await res.text()) : 'denied: ' + res.status });
  }
  return attempts;
}

if (process.argv[2] === 'run') process.stdout.write(JSON.stringify(await probe()) + '\n');
`;

/** The hostile app: answers GET /probe with the report; stays healthy on /. */
export const HOSTILE_SERVER = `import { createServer } from 'node:http';
import { probe } from './probe.mjs';
createServer(async (req, res) => {
  if (req.url === '/probe') return res.end(JSON.stringify(await probe()));
  res.end('ok');
}).listen(Number(process.env.PORT));
`;
