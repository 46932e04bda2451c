// The `berth.yaml` manifest: one zod schema, shared by the CLI (validates before upload), the API
// (validates again: the API is the boundary), and the JSON Schema that editors use.
import { z } from 'zod';
import { isReservedKey, RESERVED_KEY_MESSAGE } from './reserved-keys.ts';

export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$/;
const NAME_FIX = 'use 2–40 lowercase letters, digits or dashes, starting with a letter and not ending with a dash, e.g. "web"';

export const Name = z
  .string()
  .regex(NAME_PATTERN, { message: `must be a DNS label: ${NAME_FIX}` })
  .refine((n) => !isReservedKey(n), { message: RESERVED_KEY_MESSAGE })
  .describe('A DNS label: 2–40 characters, lowercase letters, digits and dashes, starting with a letter.');

export const EnvKey = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'must be an environment variable name such as DATABASE_URL (letters, digits, underscore; not starting with a digit)' })
  .refine((k) => !isReservedKey(k), { message: RESERVED_KEY_MESSAGE });

export const NUL_MESSAGE = 'contains a NUL byte (\\0), which no environment variable, argument or path can hold; remove it';
export const hasNoNul = (s: string): boolean => !s.includes('\0');

/**
 * A string that can reach a process: an environment value, an argument, a path. The kernel ends
 * such strings at the first NUL, and Node refuses to spawn with one, so a value holding it could
 * be stored but never run.
 */
export const ProcessText = z.string().refine(hasNoNul, { message: NUL_MESSAGE });

const PortNumber = z
  .number({ message: 'must be a port number between 1 and 65535' })
  .int({ message: 'must be a whole port number between 1 and 65535' })
  .min(1, { message: 'must be between 1 and 65535' })
  .max(65535, { message: 'must be between 1 and 65535' });

// Fargate accepts only these cpu/memory pairs; catching a bad pair here beats a failed rollout.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
export const FARGATE_MEMORY: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

export const HealthCheck = z
  .object({
    type: z.enum(['tcp', 'http'], { message: 'must be "tcp" (a connection is accepted) or "http" (a GET answers 2xx/3xx)' }),
    port: PortNumber.optional().describe('Container port to probe. Default: the workload\'s first port.'),
    path: ProcessText.startsWith('/', { message: 'must start with "/", e.g. "/healthz"' }).optional().describe('HTTP path (http only). Default "/".'),
    intervalSeconds: z.number().positive().max(300).optional().describe('Seconds between probes. Default 2 (embedded) / 10 (AWS).'),
    timeoutSeconds: z.number().positive().max(60).optional().describe('Seconds a probe may take. Default 2.'),
    deadlineSeconds: z
      .number()
      .positive()
      .max(3600)
      .optional()
      .describe('Seconds a new instance has to become healthy before the rollout fails with `health-check`. Default 60.'),
  })
  .strict()
  .describe('How Berth decides an instance may receive traffic.');

// Paths an instance's sandbox provides itself (the system's runtime, /proc, /tmp, the release at
// /app, Berth's own /berth); a volume mounted over one would hide or replace it.
export const RESERVED_MOUNT_PATHS = ['/', '/app', '/proc', '/dev', '/sys', '/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/tmp', '/run', '/berth'] as const;

/** Why `target` cannot be a volume's mount path, or undefined when it can. */
export function reservedMountPath(target: string): string | undefined {
  // Normalized by hand: the manifest is also bundled for the browser (console) and the CLI.
  const parts: string[] = [];
  for (const part of target.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '' && part !== '.') parts.push(part);
  }
  const clean = `/${parts.join('/')}`;
  const hit = RESERVED_MOUNT_PATHS.find((r) => clean === r || (r !== '/' && clean.startsWith(`${r}/`)));
  return hit ? `is inside ${hit}, which every instance's sandbox provides itself; mount volumes elsewhere, e.g. /data` : undefined;
}

export const VolumeMount = z
  .object({
    volume: Name.describe('Name of a volume declared under `volumes`.'),
    path: ProcessText
      .startsWith('/', { message: 'must be an absolute path such as "/data"' })
      .superRefine((p, ctx) => {
        const why = p.startsWith('/') ? reservedMountPath(p) : undefined;
        if (why) ctx.addIssue({ code: 'custom', message: why });
      })
      .describe('Mount path inside the instance (not under /app, /tmp, /etc, /usr, /proc or another path the sandbox provides).'),
  })
  .strict();

export const Workload = z
  .object({
    image: ProcessText
      .min(1)
      .optional()
      .describe('OCI image used on AWS (a tag or `@sha256:` digest). Embedded mode runs `command` in the release snapshot instead.'),
    command: z
      .union([ProcessText.min(1), z.array(ProcessText.min(1)).min(1)], { message: 'must be a command line string or a non-empty list of arguments' })
      .describe('Command to run. A string runs through /bin/sh; a list runs without a shell.'),
    cpu: z
      .number()
      .refine((v) => v in FARGATE_MEMORY, { message: `must be one of the Fargate CPU units ${Object.keys(FARGATE_MEMORY).join(', ')} (1024 = 1 vCPU)` })
      .optional()
      .describe('CPU units (1024 = 1 vCPU). Default 256.'),
    memory: z.number().int().positive().optional().describe('Memory in MiB. Default 512.'),
    user: z
      .string()
      .regex(/^([a-z_][a-z0-9_-]{0,31}|\d{1,9})(:([a-z_][a-z0-9_-]{0,31}|\d{1,9}))?$/, {
        message: 'must be a user name or uid, optionally with a group or gid: `postgres`, `999`, `999:999` or `app:staff`',
      })
      .optional()
      .describe(
        'Who the command runs as: a name or uid, optionally `:group` or `:gid` (like Docker\'s USER). On AWS the container `user`; embedded, the uid the instance sees inside its sandbox, owning its volumes and secret files (names come from this machine\'s /etc/passwd). Default: an unprivileged uid of the platform\'s choosing (AWS: the image\'s USER).',
      ),
    count: z.number().int().min(0).max(100).optional().describe('Number of instances. Default 1.'),
    ports: z
      .array(PortNumber)
      .max(8)
      .optional()
      .describe('Container ports the process listens on. The first one is given to the process as $PORT.'),
    healthCheck: HealthCheck.optional(),
    env: z
      .record(EnvKey, z.string({ message: 'must be a string: quote numbers and booleans, e.g. "3"' }).refine(hasNoNul, { message: NUL_MESSAGE }))
      .optional()
      .describe('Plain environment variables (non-secret defaults; the env\'s config overrides them).'),
    requires: z
      .object({
        env: z.array(EnvKey).optional().describe('Config keys the env must define before a release can be created.'),
        secrets: z.array(Name).optional().describe('Secret bundles the env must hold before a release can be created.'),
      })
      .strict()
      .optional(),
    volumes: z.array(VolumeMount).optional(),
    rollout: z
      .object({
        maxSurge: z.number().int().min(0).max(100).optional().describe('How many instances may run beyond the desired count during a rollout. Default 1; 0 stops an old instance before its replacement starts.'),
        maxUnavailable: z.number().int().min(0).max(100).optional().describe('How many of the desired count may be unhealthy or stopped during a rollout. Default 0: every old instance serves until a new one is healthy.'),
      })
      .strict()
      .refine((r) => (r.maxSurge ?? 1) + (r.maxUnavailable ?? 0) > 0, { message: 'maxSurge and maxUnavailable cannot both be 0: the rollout could never make progress' })
      .optional()
      .describe('How a rollout (deploy, rollback, scale vm) replaces instances: never more than count + maxSurge running, never fewer than count - maxUnavailable healthy.'),
  })
  .strict();

export const Endpoint = z
  .object({
    workload: Name.describe('Workload that receives the traffic.'),
    protocol: z.literal('tcp', { message: 'must be "tcp" (endpoints are L4; TLS is the app\'s job)' }).optional().describe('Only "tcp". Default "tcp".'),
    port: PortNumber.describe('Public port of the endpoint.'),
    targetPort: PortNumber.optional().describe('Container port to forward to. Default: `port`.'),
    ipv4: z.boolean().optional().describe('Also accept IPv4. Default false: endpoints are IPv6-only unless they opt in.'),
    proxyProtocol: z
      .enum(['v2'], { message: 'must be "v2" (PROXY protocol v2) or left out' })
      .optional()
      .describe('Prepend a PROXY protocol v2 header so the app sees the client address.'),
  })
  .strict();

export const Volume = z
  .object({
    sizeGiB: z.number().int().min(1).max(16384).describe('Size in GiB.'),
    access: z
      .enum(['single-writer', 'shared'], { message: 'must be "single-writer" (one instance at a time, the default) or "shared" (the app handles concurrent writers)' })
      .optional()
      .describe('single-writer (default): a workload mounting it runs one instance, and rollouts stop the old one before starting the new. shared: any number of instances mount it at once; the app must handle concurrent writers.'),
    zone: z
      .string()
      .regex(/^[a-z]{2}-[a-z]+-\d[a-z]$/, { message: 'must be an availability zone such as "eu-west-1a", or left out for a regional volume' })
      .optional()
      .describe('Pin to one availability zone (One Zone storage); workloads that mount it run in that zone.'),
  })
  .strict();

export const Manifest = z
  .object({
    app: Name.describe('App name.'),
    workloads: z.record(Name, Workload).refine((w) => Object.keys(w).length > 0, { message: 'must declare at least one workload, e.g. `web: { command: "node server.js" }`' }),
    endpoints: z.record(Name, Endpoint).optional(),
    volumes: z.record(Name, Volume).optional(),
  })
  .strict()
  .superRefine(checkReferences)
  .describe('Berth manifest (berth.yaml).');

export type Manifest = z.infer<typeof Manifest>;
export type Workload = z.infer<typeof Workload>;
export type Endpoint = z.infer<typeof Endpoint>;
export type Volume = z.infer<typeof Volume>;
export type HealthCheck = z.infer<typeof HealthCheck>;

/** Checks that names refer to things that exist; each issue points at the field to fix. */
function checkReferences(m: { workloads: Record<string, Workload>; endpoints?: Record<string, Endpoint>; volumes?: Record<string, Volume> }, ctx: z.RefinementCtx): void {
  const workloadNames = Object.keys(m.workloads);
  const volumeNames = Object.keys(m.volumes ?? {});
  for (const [name, w] of Object.entries(m.workloads)) {
    if (Array.isArray(w.command) && w.command[0].includes('=')) {
      ctx.addIssue({
        code: 'custom',
        path: ['workloads', name, 'command', 0],
        input: w.command[0],
        message: 'looks like NAME=VALUE, not a program; put variables under `env` and name the program first, e.g. ["node", "server.js"]',
      });
    }
    const ports = w.ports ?? [];
    const cpu = w.cpu ?? 256;
    const memory = w.memory ?? 512;
    const allowed = FARGATE_MEMORY[cpu];
    if (allowed && !allowed.includes(memory)) {
      ctx.addIssue({
        code: 'custom',
        path: ['workloads', name, 'memory'],
        input: w.memory,
        // The default memory fits only the default cpu: say so rather than blame a value nobody wrote.
        message:
          w.memory === undefined
            ? `must be set for cpu ${cpu} (the default ${memory} MiB fits only cpu 256); use one of ${allowed.join(', ')}`
            : `${memory} MiB is not a valid size for cpu ${cpu}; use one of ${allowed.join(', ')}`,
      });
    }
    if (w.healthCheck?.port !== undefined && !ports.includes(w.healthCheck.port)) {
      ctx.addIssue({
        code: 'custom',
        path: ['workloads', name, 'healthCheck', 'port'],
        input: w.healthCheck.port,
        message: `is not one of the workload's ports [${ports.join(', ')}]; add it to \`ports\` or probe one of those`,
      });
    }
    if (w.healthCheck && ports.length === 0 && w.healthCheck.port === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['workloads', name, 'healthCheck'],
        input: w.healthCheck,
        message: 'needs a port to probe; declare `ports` on the workload',
      });
    }
    if (w.healthCheck?.path !== undefined && w.healthCheck.type !== 'http') {
      ctx.addIssue({ code: 'custom', path: ['workloads', name, 'healthCheck', 'path'], input: w.healthCheck.path, message: 'applies only to `type: http`; remove it or set `type: http`' });
    }
    const singleWriter = (w.volumes ?? []).find((mount) => m.volumes?.[mount.volume] && (m.volumes[mount.volume].access ?? VOLUME_DEFAULTS.access) === 'single-writer')?.volume;
    if (singleWriter && (w.count ?? WORKLOAD_DEFAULTS.count) > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['workloads', name, 'count'],
        input: w.count,
        message: `is more than 1, but volume "${singleWriter}" is single-writer (one instance at a time); set \`volumes.${singleWriter}.access: shared\` if the app handles concurrent writers, or give each instance a volume of its own`,
      });
    }
    if (singleWriter && (w.rollout?.maxSurge ?? 0) > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['workloads', name, 'rollout', 'maxSurge'],
        input: w.rollout?.maxSurge,
        message: `must be 0 for a workload on single-writer volume "${singleWriter}": its rollouts stop the old instance before starting the new one; remove maxSurge, or set \`volumes.${singleWriter}.access: shared\``,
      });
    }
    (w.volumes ?? []).forEach((mount, i) => {
      if (!volumeNames.includes(mount.volume)) {
        ctx.addIssue({
          code: 'custom',
          path: ['workloads', name, 'volumes', i, 'volume'],
          input: mount.volume,
          message: volumeNames.length
            ? `is not a declared volume; use one of ${volumeNames.join(', ')} or declare it under \`volumes\``
            : 'is not a declared volume; declare it under `volumes`, e.g. `volumes: { data: { sizeGiB: 1 } }`',
        });
      }
    });
    const seen = new Set<number>();
    ports.forEach((p, i) => {
      if (seen.has(p)) ctx.addIssue({ code: 'custom', path: ['workloads', name, 'ports', i], input: p, message: 'is listed twice; list each port once' });
      seen.add(p);
    });
  }
  const publicPorts = new Map<number, string>();
  for (const [name, e] of Object.entries(m.endpoints ?? {})) {
    const w = m.workloads[e.workload];
    if (!w) {
      ctx.addIssue({
        code: 'custom',
        path: ['endpoints', name, 'workload'],
        input: e.workload,
        message: `is not a workload of this app; use one of ${workloadNames.join(', ')}`,
      });
      continue;
    }
    const target = e.targetPort ?? e.port;
    if (!(w.ports ?? []).includes(target)) {
      ctx.addIssue({
        code: 'custom',
        path: ['endpoints', name, e.targetPort === undefined ? 'port' : 'targetPort'],
        input: target,
        message: `workload "${e.workload}" does not listen on ${target}; add it to workloads.${e.workload}.ports or set targetPort to one of [${(w.ports ?? []).join(', ')}]`,
      });
    }
    const other = publicPorts.get(e.port);
    if (other) {
      ctx.addIssue({ code: 'custom', path: ['endpoints', name, 'port'], input: e.port, message: `is already used by endpoint "${other}"; give each endpoint its own port` });
    }
    publicPorts.set(e.port, name);
  }
}

/** Defaults applied once, so every consumer sees the same effective values. */
export const WORKLOAD_DEFAULTS = { cpu: 256, memory: 512, count: 1 } as const;
export const ROLLOUT_DEFAULTS = { maxSurge: 1, maxUnavailable: 0 } as const;
export const VOLUME_DEFAULTS = { access: 'single-writer' } as const;
export const HEALTH_DEFAULTS = { intervalSeconds: 2, timeoutSeconds: 2, deadlineSeconds: 60, path: '/' } as const;
