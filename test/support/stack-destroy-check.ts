// The "stack destroy" check as plain functions over lists of resources, so it runs against any
// inventory: a hand-made list here, the AWS twin's inventory later. PER_ENV lists every kind of
// AWS resource Berth creates for an env, what removes it on env destroy, or why it is retained
// (the documented retained list: README "What env destroy removes" and infra/README.md).

export type ResourceKind =
  | 'ecs-service'
  | 'ecs-task'
  | 'ecs-task-definition'
  | 'load-balancer'
  | 'listener'
  | 'target-group'
  | 'security-group'
  | 'task-security-group-rule'
  | 'efs-file-system'
  | 'efs-access-point'
  | 'efs-mount-target'
  | 'secret'
  | 'log-group'
  | 'recovery-point';

export interface ResourceFate {
  kind: ResourceKind;
  /** Whether it keeps the VPC (and so `cdk destroy`) from completing while it exists. */
  blocksVpc: boolean;
  /** The env-destroy step that removes it, or why it is retained. */
  removedBy?: string;
  retained?: string;
  /** Retained unless the env destroy was asked to purge volumes. */
  purgedWithVolumes?: boolean;
}

export const PER_ENV: readonly ResourceFate[] = [
  { kind: 'ecs-task', blocksVpc: true, removedBy: 'StopEnvInstances' },
  { kind: 'ecs-service', blocksVpc: false, removedBy: 'StopEnvInstances (a service without tasks is deleted); DeleteEnvResources deletes one a crash left' },
  { kind: 'ecs-task-definition', blocksVpc: false, retained: "a release's record; ECS keeps INACTIVE revisions, at no cost" },
  { kind: 'listener', blocksVpc: false, removedBy: 'CloseEnvEndpoints' },
  { kind: 'target-group', blocksVpc: false, removedBy: 'CloseEnvEndpoints' },
  { kind: 'load-balancer', blocksVpc: true, removedBy: 'CloseEnvEndpoints (with the last endpoint); DeleteEnvResources deletes one left without endpoints' },
  { kind: 'task-security-group-rule', blocksVpc: true, removedBy: 'CloseEnvEndpoints / DeleteEnvResources (revoked before the NLB group goes)' },
  { kind: 'security-group', blocksVpc: true, removedBy: "DeleteEnvResources (after the NLB's network interfaces are released)" },
  { kind: 'efs-mount-target', blocksVpc: true, removedBy: 'DeleteEnvResources' },
  { kind: 'efs-file-system', blocksVpc: false, retained: 'user data: kept unless --purge-volumes', purgedWithVolumes: true },
  { kind: 'efs-access-point', blocksVpc: false, retained: 'goes with its file system', purgedWithVolumes: true },
  { kind: 'secret', blocksVpc: false, removedBy: 'DeleteEnvResources (no recovery window: the bundle stays encrypted in the table)' },
  { kind: 'log-group', blocksVpc: false, retained: "history: events expire by the stack's log retention; delete /berth/<org>/… groups by hand" },
  { kind: 'recovery-point', blocksVpc: false, retained: 'snapshots in the retained backup vault' },
];

export interface Resource {
  kind: ResourceKind;
  id: string;
}

export interface DestroyVerdict {
  /** Left behind though env destroy should have removed it. */
  leftovers: Resource[];
  /** Left behind and keeping the VPC from being deleted (a subset of what remains). */
  blockingVpc: Resource[];
  /** Left behind on purpose (on the retained list). */
  retained: Resource[];
}

/** Judges what remains after env destroy: each remaining resource is a leftover or on the retained list. */
export function judgeEnvDestroy(remaining: readonly Resource[], options: { purgeVolumes: boolean }): DestroyVerdict {
  const fate = new Map(PER_ENV.map((f) => [f.kind, f]));
  const verdict: DestroyVerdict = { leftovers: [], blockingVpc: [], retained: [] };
  for (const r of remaining) {
    const f = fate.get(r.kind);
    const kept = f?.retained !== undefined && !(options.purgeVolumes && f.purgedWithVolumes);
    (kept ? verdict.retained : verdict.leftovers).push(r);
    if (f?.blocksVpc ?? true) verdict.blockingVpc.push(r);
  }
  return verdict;
}

/** Every kind created must be known here: a new kind of resource must say how it goes. */
export function unknownKinds(created: readonly { kind: string }[]): string[] {
  const known = new Set<string>(PER_ENV.map((f) => f.kind));
  return [...new Set(created.map((c) => c.kind).filter((k) => !known.has(k)))];
}
