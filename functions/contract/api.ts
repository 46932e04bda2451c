// The HTTP contract shared by the API (validation, OpenAPI) and its clients (CLI, console, MCP).
// No Node-only imports: the console runs this in the browser.
import { z } from 'zod';
import { ERROR_CATEGORIES } from './errors.ts';
import { LogLevel } from './wire.ts';
import { EnvKey, hasNoNul, Name, NUL_MESSAGE, ProcessText, Volume } from './manifest.ts';
import { configTooLarge, jsonBytes, MAX_CONFIG_BYTES, MAX_SECRET_BUNDLE_BYTES, secretBundleBytes, secretBundleTooLarge } from './size-limits.ts';

export const API_VERSION = 'v1';
export { LogLevel };

export const ErrorEnvelope = z
  .object({
    error: z.object({
      category: z.enum(ERROR_CATEGORIES),
      code: z.string(),
      message: z.string(),
      details: z.unknown().optional(),
      next: z.array(z.string()),
    }),
  })
  .describe('Every error: a category from the closed set, a stable code, what was wrong and the commands that fix it.')
  .meta({ id: 'ErrorEnvelope' });

export const CreateNamed = z.object({ name: Name }).strict();

export const OrgParams = z.object({ org: Name });
export const ProjectParams = OrgParams.extend({ project: Name });
export const AppParams = ProjectParams.extend({ app: Name });
export const EnvParams = AppParams.extend({ env: Name });

export const ConfigChange = z
  .object({
    set: z
      .record(EnvKey, ProcessText.describe('Becomes an environment variable: no NUL bytes.'))
      .superRefine((set, ctx) => {
        const bytes = jsonBytes(set);
        if (bytes > MAX_CONFIG_BYTES) ctx.addIssue({ code: 'custom', message: configTooLarge(bytes, 'these values alone') });
      })
      .optional()
      .describe(`Keys to set; an env's config is at most ${MAX_CONFIG_BYTES} bytes in all.`),
    unset: z.array(EnvKey).optional(),
  })
  .strict();

export const SecretsChange = z
  .object({
    // NUL is allowed: a bundle reaches the instance as a JSON file, never as an environment variable.
    values: z
      .record(EnvKey, z.string())
      .superRefine((values, ctx) => {
        const bytes = secretBundleBytes(values);
        if (bytes > MAX_SECRET_BUNDLE_BYTES) ctx.addIssue({ code: 'custom', message: secretBundleTooLarge(bytes, 'these values alone') });
      })
      .describe(`A bundle is at most ${MAX_SECRET_BUNDLE_BYTES} bytes as its JSON file.`),
    unset: z.array(EnvKey).optional(),
    replace: z.boolean().optional().describe('Replace the whole bundle instead of merging into it.'),
  })
  .strict();

export const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, { message: 'must be "sha256:" followed by 64 lowercase hex digits' });

export const DeployBody = z
  .object({
    manifest: z.string().min(1).refine(hasNoNul, { message: `${NUL_MESSAGE} (YAML does not allow it either)` }).describe('The berth.yaml text.'),
    artifactDigest: Digest.optional().describe('Digest of the uploaded snapshot (embedded).'),
    image: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._\-/:]*@sha256:[0-9a-f]{64}$/, { message: 'must be an image pinned by digest, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:<64 hex>' })
      .optional()
      .describe('Image to run on AWS, pinned by digest; every workload runs it (releases are immutable, so tags are not accepted).'),
    dryRun: z.boolean().optional(),
  })
  .strict();


export const LogsQuery = z.object({
  workload: Name.optional(),
  instance: z.string().optional(),
  level: LogLevel.optional(),
  source: z.enum(['app', 'system']).optional(),
  since: z.string().datetime({ offset: true, message: 'must be an ISO-8601 time such as 2026-01-02T03:04:05Z' }).optional(),
  until: z.string().datetime({ offset: true, message: 'must be an ISO-8601 time such as 2026-01-02T03:04:05Z' }).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  follow: z.enum(['true', 'false']).optional(),
  // A follower's poll: lines from here on, oldest first, with `next` (the next poll's `after`) and `more`.
  after: z.string().datetime({ offset: true, message: 'must be the `next` of the previous answer, an ISO-8601 time' }).optional().describe('poll from here (the previous answer\'s next): answers lines, next and more'),
});

export const EventsQuery = z.object({
  after: z.string().optional(),
  operation: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  follow: z.enum(['true', 'false']).optional(),
});

export const ReleasesQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).optional() });

/** `purge-volumes=true`: the env's volumes (their data) go with it; by default they are kept. */
export const EnvDestroyQuery = z.object({ 'purge-volumes': z.enum(['true', 'false']).optional() });

export const ReleaseId = z.string().regex(/^rel-\d+$/, { message: 'must be a release id such as rel-3 (see `berth releases`)' });
export const OperationId = z.string().regex(/^op-[0-9A-Z]{26}$/, { message: 'must be an operation id such as op-01J… (see `berth events`)' });

/** Per-workload scale settings kept on the env; they outlive releases (like `fly scale`). */
export const ScaleSettings = z
  .object({
    count: z.number().int().min(0).max(100).optional(),
    min: z.number().int().min(0).max(100).optional().describe('Autoscaling floor (stored; the reconcile loop keeps count within it).'),
    max: z.number().int().min(1).max(100).optional().describe('Autoscaling ceiling.'),
    cpu: z.number().int().optional(),
    memory: z.number().int().positive().optional(),
  })
  .strict();
export type ScaleSettings = z.infer<typeof ScaleSettings>;

export const ScaleBody = z
  .object({
    workload: Name,
    settings: ScaleSettings,
  })
  .strict();

export const SnapshotBody = z
  .object({ stop: z.boolean().optional().describe('Stop the workloads that mount the volume while it is copied, for a copy no writer was changing (brief downtime). Default false: crash-consistent.') })
  .strict();

const SnapshotId = z.string().regex(/^snap-[0-9a-z]{10}$/, { message: 'must be a snapshot id such as snap-01abcdefgh (see `berth volumes snapshots NAME`)' });
export const RestoreBody = z.object({ snapshot: SnapshotId }).strict();
export const VolumeCreateBody = Volume.extend({
  fromSnapshot: SnapshotId.optional().describe("Start with a copy of this snapshot's data (a snapshot of any volume of the env); sizeGiB must be at least the snapshot's volume's."),
}).strict();

export const RollbackBody = z
  .object({
    releaseId: ReleaseId.optional().describe('Release to return to. Default: the release before the current one that succeeded.'),
  })
  .strict();

export const ExecBody = z
  .object({
    instance: z.string().min(1).max(128).describe('Instance id from `berth status`'),
    argv: z.array(ProcessText.max(4096)).min(1, { message: 'needs the command to run, e.g. ["sh"]' }).max(256).describe('The command and its arguments'),
    tty: z.boolean().default(false).describe('Interactive terminal (a PTY)'),
  })
  .strict();

export const RoleName = z.enum(['viewer', 'deployer', 'admin', 'owner'], { message: 'must be one of viewer, deployer, admin, owner' });
// No control characters either: a principal is shown in tables and terminals, and stored as a key.
export const Email = z.string().max(254).regex(/^[^\s@/\x00-\x1f\x7f-\x9f]+@[^\s@/\x00-\x1f\x7f-\x9f]+\.[^\s@/\x00-\x1f\x7f-\x9f]+$/, { message: 'must be an email address such as alice@example.com' });
export const MemberParams = OrgParams.extend({ email: Email });
export const InviteBody = z.object({ email: Email, role: RoleName }).strict();
export const RoleBody = z.object({ role: RoleName }).strict();
export const TokenParams = OrgParams.extend({ id: z.string().regex(/^tok-[0-9a-f]{12}$/, { message: 'must be a token id such as tok-0123456789ab (see `berth tokens list`)' }) });
export const CreateTokenBody = z
  .object({
    name: Name.describe('A label: where the token is used, e.g. github-actions'),
    role: RoleName,
    expiresInDays: z.number().int().min(1).max(366).default(90).describe('Days until the token stops working (1–366, default 90)'),
  })
  .strict();

export const OrgEndpointsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).optional().describe('Apps per page (default 100, at most 500)'),
  after: z
    .string()
    .regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, { message: 'must be the `next` of the previous page (project/app)' })
    .optional()
    .describe('The `next` of the previous page'),
});
