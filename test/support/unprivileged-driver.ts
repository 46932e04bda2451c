// Run by test/isolation-unprivileged.test.ts as a user that is not root: the process driver with
// the sandbox this user gets (unprivileged user namespaces), a victim instance with a secret, and
// the hostile probe as an instance and as an exec command. Prints one JSON line, then idles until
// it is killed (the test kills it with SIGKILL to see that its instances end with it).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvRef, InstanceSpec } from '../../functions/core/ports.ts';
import { FileLogStore } from '../../functions/drivers/local/log-files.ts';
import { ProcessDriver } from '../../functions/drivers/local/process-driver.ts';
import { HOSTILE_SERVER, PROBE_SOURCE, type ProbeTargets } from './hostile-probe.ts';
import { instancePids } from './processes.ts';

const work = process.env.BERTH_TEST_WORK!;
const secret = process.env.BERTH_TEST_SECRET!;
const sleep = process.env.BERTH_TEST_SLEEP!;
const home = join(work, 'home');
mkdirSync(home, { recursive: true, mode: 0o700 });
writeFileSync(join(home, 'credentials.json'), JSON.stringify({ token: `berth_${'s'.repeat(32)}` }), { mode: 0o600 });
const logs = new FileLogStore(join(home, 'logs'));
const driver = new ProcessDriver({ dataDir: join(home, 'instances'), logs });

const health = { type: 'http', path: '/', intervalSeconds: 0.1, timeoutSeconds: 1, deadlineSeconds: 10 } as const;

function release(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

function spec(env: EnvRef, workdir: string, command: InstanceSpec['workload']['command'], extra: Partial<InstanceSpec>): InstanceSpec {
  return { env, releaseId: 'rel-1', revision: 'rev-1', workloadName: 'web', workload: { command, ports: [8080], healthCheck: health }, workdir, environment: {}, secretBundles: {}, volumeDirs: {}, ...extra };
}

const victimEnv: EnvRef = { org: 'victim', project: 'bank', app: 'vault', env: 'prod' };
const hostileEnv: EnvRef = { org: 'hostile', project: 'games', app: 'probe', env: 'prod' };
const victimRelease = release('victim-release', { 'server.mjs': "import { createServer } from 'node:http'; createServer((q, s) => s.end('vault')).listen(Number(process.env.PORT));\n" });
const [victim] = await driver.startInstances(spec(victimEnv, victimRelease, ['node', 'server.mjs'], { secretBundles: { vault: { TOKEN: secret } } }), 1);
await driver.waitHealthy(victimEnv, [victim]);

const victimDir = join(home, 'instances', 'instances', victim);
const targets: ProbeTargets = {
  home,
  read: [join(home, 'credentials.json'), join(victimDir, 'secrets', 'vault.json'), join(victimDir, 'process.json'), join(victimRelease, 'server.mjs')],
  list: [home, join(home, 'instances', 'instances'), work],
  write: [join(victimRelease, 'pwned'), join(home, 'pwned'), '/usr/bin/pwned', '/etc/pwned', '/pwned'],
  sockets: [],
  pids: instancePids(victim),
  api: 'http://127.0.0.1:9',
};
const hostileRelease = release('hostile-release', { 'server.mjs': HOSTILE_SERVER, 'probe.mjs': PROBE_SOURCE });
// A setsid'd child besides the server: it must end with the platform too.
const command = `setsid ${sleep} & exec node server.mjs`;
const [hostile] = await driver.startInstances(spec(hostileEnv, hostileRelease, command, { environment: { PROBE_TARGETS: JSON.stringify(targets) } }), 1);
await driver.waitHealthy(hostileEnv, [hostile]);
const [status] = await driver.list(hostileEnv);

const report = await (await fetch(`http://127.0.0.1:${status.addresses[8080].port}/probe`)).json();
const exec = (argv: string[]) => {
  const plan = driver.execLaunch(hostileEnv, hostile, argv)!;
  const run = spawnSync(plan.file, plan.args, { cwd: plan.cwd, env: plan.env, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
};
const probed = exec(['node', 'probe.mjs', 'run']);
const ids = exec(['sh', '-c', 'id -u; echo $BERTH_SECRETS_DIR; pwd']);

process.stdout.write(
  JSON.stringify({
    kind: driver.sandbox.support.kind,
    platformUid: process.getuid!(),
    victimPids: targets.pids,
    report,
    execReport: probed.code === 0 ? JSON.parse(probed.stdout) : probed,
    inside: ids.stdout.trim().split('\n'),
  }) + '\n',
);
setInterval(() => undefined, 1000);
