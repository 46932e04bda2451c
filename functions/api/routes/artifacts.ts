// Release snapshots are uploaded once per content digest and are then immutable.
import { Digest, OrgParams } from '../../contract/api.ts';
import { InvalidInputError } from '../../core/errors.ts';
import type { PlatformDeps } from '../../core/services/deps.ts';
import { requireOrg } from '../../core/services/hierarchy.ts';
import * as R from '../../contract/routes/index.ts';
import type { Api } from '../app.ts';
import { authorize } from '../auth.ts';
import { document } from '../route.ts';

/** Embedded snapshot limit; on AWS the artifact is an image in ECR and never passes through here. */
export const MAX_ARTIFACT_BYTES = 200 * 1024 * 1024;

/** The routes this file serves with plain handlers (documented from the table), with their permissions. */
export const ARTIFACT_ROUTES = [R.getArtifact, R.uploadArtifact] as const;

export function registerArtifactRoutes(api: Api, { store, artifacts }: PlatformDeps): void {
  const params = (c: { req: { param: (k: string) => string | undefined } }) => {
    const org = OrgParams.shape.org.safeParse(c.req.param('org'));
    const digest = Digest.safeParse(c.req.param('digest'));
    if (!org.success) throw new InvalidInputError('org-invalid', `org ${JSON.stringify(c.req.param('org'))} ${org.error.issues[0].message}`);
    if (!digest.success) throw new InvalidInputError('digest-invalid', `artifact digest ${JSON.stringify(c.req.param('digest'))} ${digest.error.issues[0].message}`);
    return { org: org.data, digest: digest.data };
  };

  // Raw bytes, so plain routes (a JSON validator has nothing to read); guarded like every route.
  for (const r of ARTIFACT_ROUTES) document(api, r);
  api.get('/orgs/:org/artifacts/:digest', authorize(ARTIFACT_ROUTES[0].permission), async (c) => {
    const { org, digest } = params(c);
    await requireOrg(store, org);
    const present = (await store.hasArtifactRef(org, digest)) && (await artifacts.has(digest));
    return c.json({ digest, present }, 200);
  });

  api.put('/orgs/:org/artifacts/:digest', authorize(ARTIFACT_ROUTES[1].permission), async (c) => {
    const { org, digest } = params(c);
    await requireOrg(store, org);
    const length = Number(c.req.header('content-length') ?? 0);
    if (length > MAX_ARTIFACT_BYTES) {
      throw new InvalidInputError('artifact-too-large', `the snapshot is ${length} bytes; the limit is ${MAX_ARTIFACT_BYTES}`, { next: ['list large files in .berthignore'] });
    }
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    await artifacts.put(digest, bytes);
    await store.putArtifactRef(org, digest, c.get('actor').name);
    return c.json({ digest, size: bytes.length }, 201);
  });
}
