// The four cost-allocation tags every Berth resource carries, in each SDK's tag shape, and the
// names of AWS resources: derived deterministically from the env ref (so a retried call finds what
// the first one created) and kept within each service's length and character limits.
import { createHash } from 'node:crypto';
import type { EnvRef } from '../../core/ports.ts';

export const TAG_KEYS = ['berth:org', 'berth:project', 'berth:app', 'berth:env'] as const;

/** Extra tags beyond the four (e.g. `berth:workload`); values must stay within AWS tag characters. */
export type ExtraTags = Record<string, string>;

/** Tag map shape: CloudWatch Logs `tags`, AWS Backup `RecoveryPointTags`. */
export function berthTagMap(env: EnvRef, extra: ExtraTags = {}): Record<string, string> {
  return { 'berth:org': env.org, 'berth:project': env.project, 'berth:app': env.app, 'berth:env': env.env, ...extra };
}

/** `{Key, Value}` shape: ELBv2, EFS, Secrets Manager, EC2 (inside TagSpecifications). */
export function berthTags(env: EnvRef, extra: ExtraTags = {}): { Key: string; Value: string }[] {
  return Object.entries(berthTagMap(env, extra)).map(([Key, Value]) => ({ Key, Value }));
}

/** `{key, value}` shape: ECS. */
export function ecsTags(env: EnvRef, extra: ExtraTags = {}): { key: string; value: string }[] {
  return Object.entries(berthTagMap(env, extra)).map(([key, value]) => ({ key, value }));
}

/** EC2 tags ride on the create call (`TagSpecifications`), so nothing exists untagged even briefly. */
export function ec2TagSpecifications<T extends string>(env: EnvRef, resourceType: T, extra: ExtraTags = {}): { ResourceType: T; Tags: { Key: string; Value: string }[] }[] {
  return [{ ResourceType: resourceType, Tags: berthTags(env, extra) }];
}

const hash = (...parts: string[]): string => createHash('sha256').update(parts.join('\0')).digest('hex');

/** 10 hex characters naming an env; the prefix of its ECS services, so `list` can filter by name. */
export function envHash(env: EnvRef): string {
  return hash(env.org, env.project, env.app, env.env).slice(0, 10);
}

/** ECS service and task-definition family: ≤255 of [A-Za-z0-9_-]; here at most 66 characters. */
export function serviceName(env: EnvRef, workload: string, revision: string): string {
  return `${servicePrefix(env)}${workload}-${hash(revision).slice(0, 8)}`;
}

export function servicePrefix(env: EnvRef): string {
  return `berth-${envHash(env)}-`;
}

/** NLB names: ≤32 of [A-Za-z0-9-]. One NLB per env. */
export function loadBalancerName(env: EnvRef): string {
  return `berth-${envHash(env)}`;
}

/** Target group names: ≤32 of [A-Za-z0-9-]. One target group per endpoint. */
export function targetGroupName(env: EnvRef, endpoint: string): string {
  return `berth-${hash(env.org, env.project, env.app, env.env, endpoint).slice(0, 16)}`;
}

/** Security-group names: ≤255 characters. */
export function endpointSecurityGroupName(env: EnvRef): string {
  return `berth-nlb-${envHash(env)}`;
}

/** EFS CreationToken: ≤64 characters; the same volume always gets the same token (idempotent create). */
export function fileSystemToken(env: EnvRef, volume: string): string {
  return `berth-${hash(env.org, env.project, env.app, env.env, volume).slice(0, 32)}`;
}

/** Secrets Manager names: ≤512 of [A-Za-z0-9/_+=.@-]; env refs are DNS labels, so this fits. */
export function secretName(env: EnvRef, bundle: string): string {
  return `berth/${env.org}/${env.project}/${env.app}/${env.env}/${bundle}`;
}

/** CloudWatch log group of an env: ≤512 of [.-_/#A-Za-z0-9]. */
export function logGroupName(prefix: string, env: EnvRef): string {
  return `${prefix}${env.org}/${env.project}/${env.app}/${env.env}`;
}

/** Step Functions execution names: 1–80 of [A-Za-z0-9_-]; longer names keep a hash of the rest. */
export function executionName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_-]/g, '-');
  if (clean.length > 0 && clean.length <= 80 && clean === name) return clean;
  // A sanitized name gets a hash of the original, so two names that differ only in stripped
  // characters cannot collide into one execution.
  return `${clean.slice(0, 71)}-${hash(name).slice(0, 8)}`;
}

/** A hash of arbitrary content, used as an idempotency token (Secrets Manager needs 32–64 characters). */
export function contentToken(...parts: string[]): string {
  return hash(...parts).slice(0, 64);
}
