// Garbage collection of release artifacts (embedded: snapshots and their unpacked trees). An
// artifact stays while anything may still run it: a release a rollback can reach, the release an
// env runs or is being moved to, one an instance is running, or an upload not yet deployed (a
// grace period). The store's own check of last use, made at the moment of removal, closes the gap
// between an upload and the release a deploy writes for it.
import type { ArtifactCollection, ComputeDriver, EnvRef } from '../ports.ts';
import type { StateStore } from '../state-store.ts';
import { ROLLBACK_WINDOW } from '../rollback-window.ts';

/** An upload is deployed within seconds; an hour leaves room for a slow CI between the two. */
export const ARTIFACT_GRACE_MS = 60 * 60 * 1000;

export interface ArtifactGcOptions {
  /** @default ARTIFACT_GRACE_MS */
  graceMs?: number;
  /** @default new Date() */
  now?: Date;
}

export interface ArtifactGcReport {
  removed: string[];
  kept: number;
  leftovers: string[];
}

export async function collectArtifacts(deps: { store: StateStore; compute: ComputeDriver }, artifacts: ArtifactCollection, options: ArtifactGcOptions = {}): Promise<ArtifactGcReport> {
  const unusedSince = new Date((options.now ?? new Date()).getTime() - (options.graceMs ?? ARTIFACT_GRACE_MS));
  // Listed before the references are read: an artifact that arrives in between is not a candidate.
  const stored = await artifacts.list();
  const candidates = stored.filter((a) => a.lastUsedAt <= unusedSince);
  const removed: string[] = [];
  if (candidates.length > 0) {
    const referenced = await referencedDigests(deps);
    for (const { digest } of candidates) {
      if (!referenced.has(digest) && (await artifacts.remove(digest, unusedSince))) removed.push(digest);
    }
  }
  const leftovers = await artifacts.removeLeftovers(unusedSince);
  return { removed, kept: stored.length - removed.length, leftovers };
}

/** Every digest that a release in reach of a rollback, an env's current or desired release, or a live instance uses. */
export async function referencedDigests({ store, compute }: { store: StateStore; compute: ComputeDriver }): Promise<Set<string>> {
  const digests = new Set<string>();
  for (const org of await store.listOrgs()) {
    for (const project of await store.listProjects(org.name)) {
      for (const app of await store.listApps(org.name, project.name)) {
        for (const env of await store.listEnvs({ org: org.name, project: project.name, app: app.name })) {
          const ref: EnvRef = { org: env.org, project: env.project, app: env.app, env: env.env };
          const releases = await store.listReleases(ref, ROLLBACK_WINDOW);
          const byId = new Map(releases.map((r) => [r.id, r]));
          // Failed releases never ran and cannot be rolled back to; pending ones are being deployed.
          for (const r of releases) if (r.status !== 'failed') digests.add(r.artifactDigest);
          const running = (await compute.list(ref)).map((i) => i.releaseId);
          for (const id of new Set([env.currentReleaseId, env.desiredReleaseId, ...running])) {
            if (!id || byId.has(id)) continue;
            const release = await store.getRelease(ref, id);
            if (release) digests.add(release.artifactDigest);
          }
        }
      }
    }
  }
  return digests;
}
