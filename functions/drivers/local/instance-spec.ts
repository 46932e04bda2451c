// From an InstanceSpec to what spawn needs: the spec checked, the command line, the environment
// and the secret files.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { reservedMountPath, type Workload } from '../../contract/manifest.ts';
import { InvalidInputError, NotFoundError } from '../../core/errors.ts';
import type { InstanceSpec } from '../../core/ports.ts';
import type { Instance } from './instance.ts';

/** Catches specs the manifest schema would have refused, before anything is spawned. */
export function checkSpec(spec: InstanceSpec): void {
  const { workload, workloadName } = spec;
  for (const mount of workload.volumes ?? []) {
    const reserved = reservedMountPath(mount.path);
    if (reserved) {
      throw new InvalidInputError('reserved-mount-path', `workload "${workloadName}" mounts volume "${mount.volume}" at ${mount.path}, which ${reserved}`, {
        details: { volume: mount.volume, path: mount.path },
      });
    }
    if (spec.volumeDirs[mount.volume] === undefined) {
      throw new NotFoundError('volume-not-found', `workload "${workloadName}" mounts volume "${mount.volume}", which has no directory; create it or remove the mount`, {
        details: { volume: mount.volume, known: Object.keys(spec.volumeDirs) },
        next: ['berth volumes list'],
      });
    }
  }
  if (Array.isArray(workload.command) && workload.command[0].includes('=')) {
    // env(1) starts the command in the sandbox and would read NAME=VALUE as an assignment.
    throw new InvalidInputError('command-is-assignment', `workload "${workloadName}" has command ["${workload.command[0]}", …], whose program looks like NAME=VALUE; put variables under \`env\` and name the program first`, {
      details: { command: workload.command },
    });
  }
  const port = workload.healthCheck?.port;
  if (port !== undefined && !(workload.ports ?? []).includes(port)) {
    throw new InvalidInputError('health-port-not-declared', `workload "${workloadName}" probes port ${port}, which is not in its ports [${(workload.ports ?? []).join(', ')}]`);
  }
  for (const bundle of Object.keys(spec.secretBundles)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(bundle)) {
      throw new InvalidInputError('invalid-bundle-name', `secret bundle "${bundle}" cannot name a file; bundle names are DNS labels such as "db"`);
    }
  }
}

export function writeSecrets(dir: string, bundles: Record<string, Record<string, string>>): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is filtered by the umask; the secrets directory must be 0700 regardless.
  chmodSync(dir, 0o700);
  for (const [bundle, values] of Object.entries(bundles)) {
    const file = path.join(dir, `${bundle}.json`);
    writeFileSync(file, JSON.stringify(values, null, 2) + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return dir;
}

/** Where the instance finds its things, as paths its own command sees (see InstanceSandbox.places). */
export interface InstancePlaces {
  secretsDir: string;
  volumeDir(mount: { volume: string; path: string }): string;
  /** PATH and HOME, before the manifest's and the env's config. */
  base: Record<string, string>;
}

export function processEnv(spec: InstanceSpec, id: string, addresses: Instance['addresses'], places: InstancePlaces): Record<string, string> {
  const env: Record<string, string> = { ...places.base };
  Object.assign(env, spec.environment);
  const ports = spec.workload.ports ?? [];
  if (ports.length > 0) env.PORT = String(addresses[ports[0]].port);
  for (const port of ports) env[`BERTH_PORT_${port}`] = String(addresses[port].port);
  for (const mount of spec.workload.volumes ?? []) {
    env[`BERTH_VOLUME_${mount.volume.toUpperCase().replace(/-/g, '_')}`] = places.volumeDir(mount);
  }
  Object.assign(env, {
    BERTH_INSTANCE_ID: id,
    BERTH_RELEASE: spec.releaseId,
    BERTH_APP: spec.env.app,
    BERTH_ENV: spec.env.env,
    BERTH_WORKLOAD: spec.workloadName,
    BERTH_SECRETS_DIR: places.secretsDir,
  });
  return env;
}

export function argv(command: Workload['command']): [string, string[]] {
  return typeof command === 'string' ? ['/bin/sh', ['-c', command]] : [command[0], command.slice(1)];
}

export function commandText(command: Workload['command']): string {
  return typeof command === 'string' ? command : command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}
