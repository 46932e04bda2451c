// Every answer of a whole quick start, read through the ops harness (which checks each answer
// against the OpenAPI document, test/support/response-check.ts), plus the streams and the CSV
// export, checked line by line and row by row; and the checker itself catches a body that
// does not match.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathFor } from '../functions/contract/path.ts';
import * as R from '../functions/contract/routes/index.ts';
import type { BerthEvent } from '../functions/contract/responses.ts';
import type { LogLine } from '../functions/contract/wire.ts';
import { freePort } from './support/free-port.ts';
import { createReadyEnv, manifestFor, serverSource, startOpsPlatform, uploadApp, type OpsPlatform } from './support/ops-harness.ts';
import { checkStream } from './support/response-check.ts';

const REF = { org: 'docs', project: 'shop', app: 'web', env: 'prod' };
let home: string;
let ops: OpsPlatform;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'berth-documented-'));
  ops = await startOpsPlatform(home);
});
afterAll(async () => {
  await ops?.platform.close();
  rmSync(home, { recursive: true, force: true });
});

const ok = async (method: string, path: string, body?: unknown, status = [200, 201, 202]) => {
  const res = await ops.call(method, path, body);
  expect(status, `${method} ${path}: ${res.text}`).toContain(res.status);
  return res.body;
};

describe('responses match the OpenAPI document', () => {
  it('a quick start (create, config, secrets, upload, deploy, wait, reads) answers only what the document says', async () => {
    await createReadyEnv(ops, REF);
    const digest = await uploadApp(ops, REF.org, join(home, 'app'), serverSource('one'));
    const port = await freePort();
    const deploy = await ok('POST', pathFor(R.createDeploy, REF), { manifest: manifestFor(REF.app, port), artifactDigest: digest });
    const operation = deploy.receipt.operationId as string;
    await ops.platform.orchestrator.idle();
    const op = await ok('GET', pathFor(R.getOperation, { ...REF, operation }));
    expect(op.operation.status, JSON.stringify(op.operation.error)).toBe('succeeded');

    await ok('GET', pathFor(R.getHealth, {}));
    await ok('GET', pathFor(R.getWhoami, {}));
    await ok('GET', pathFor(R.listOrgs, {}));
    await ok('GET', pathFor(R.listProjects, REF));
    await ok('GET', pathFor(R.listApps, REF));
    await ok('GET', pathFor(R.listEnvs, REF));
    await ok('GET', pathFor(R.getConfig, REF));
    await ok('GET', pathFor(R.listSecretBundles, REF));
    await ok('GET', pathFor(R.getArtifact, { org: REF.org, digest }));
    await ok('GET', pathFor(R.getStatus, REF));
    const releases = await ok('GET', pathFor(R.listReleases, REF));
    await ok('GET', pathFor(R.getRelease, { ...REF, release: releases.releases[0].id }));
    await ok('GET', pathFor(R.listEvents, REF));
    await ok('GET', pathFor(R.listLogs, REF));
    await ok('GET', pathFor(R.listEndpoints, REF));
    await ok('GET', pathFor(R.getEndpoint, { ...REF, name: 'web' }));
    await ok('GET', pathFor(R.listOrgEndpoints, REF));
    await ok('POST', pathFor(R.scaleWorkload, REF), { workload: 'web', settings: { count: 2 } });
    await ops.platform.orchestrator.idle();
    await ok('POST', pathFor(R.createDeploy, REF), { manifest: manifestFor(REF.app, port), artifactDigest: digest, dryRun: true });
    await ok('PUT', pathFor(R.createVolume, { ...REF, name: 'data' }), { sizeGiB: 1 });
    await ops.platform.orchestrator.idle();
    await ok('GET', pathFor(R.listVolumes, REF));
    await ok('GET', pathFor(R.getVolume, { ...REF, name: 'data' }));
    await ok('POST', pathFor(R.createVolumeSnapshot, { ...REF, name: 'data' }), {});
    await ops.platform.orchestrator.idle();
    await ok('POST', pathFor(R.inviteMember, REF), { email: 'alice@example.com', role: 'viewer' });
    await ok('GET', pathFor(R.listMembers, REF));
    await ok('PATCH', pathFor(R.changeMemberRole, { ...REF, email: 'alice@example.com' }), { role: 'deployer' });
    const token = await ok('POST', pathFor(R.createToken, REF), { name: 'ci', role: 'deployer' });
    await ok('GET', pathFor(R.listTokens, REF));
    await ok('DELETE', pathFor(R.revokeToken, { org: REF.org, id: token.record.id }));
    await ok('DELETE', pathFor(R.removeMember, { ...REF, email: 'alice@example.com' }));
    const second = await uploadApp(ops, REF.org, join(home, 'app'), serverSource('two'));
    await ok('POST', pathFor(R.createDeploy, REF), { manifest: manifestFor(REF.app, port), artifactDigest: second });
    await ops.platform.orchestrator.idle();
    await ok('POST', pathFor(R.createRollback, REF), {});
    await ops.platform.orchestrator.idle();
    await ok('GET', pathFor(R.listAudit, REF));

    // Refusals answer the envelope with a documented status.
    await ok('GET', pathFor(R.getRelease, { ...REF, release: 'rel-999' }), undefined, [404]);
    await ok('POST', pathFor(R.createOrg, {}), { name: 'NOT A NAME' }, [400]);
    await ok('POST', pathFor(R.createOrg, {}), { name: REF.org }, [409]);
    const unauthenticated = await ops.fetch(`${ops.platform.url}${pathFor(R.listOrgs, {})}`);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('www-authenticate')).toBe('Bearer realm="berth"');

    const seen = [...ops.checker.seen.keys()];
    expect(seen.length, `operations checked: ${seen.join(' ')}`).toBeGreaterThanOrEqual(40);
  }, 120_000);

  it('the events and logs streams (NDJSON) answer documented lines', async () => {
    const auth = { authorization: `Bearer ${ops.token}` };
    const eventsUrl = `${ops.platform.url}${pathFor(R.listEvents, REF, { follow: true })}`;
    const events = await checkStream<BerthEvent>(ops.checker, eventsUrl, await fetch(eventsUrl, { headers: auth }), () => true);
    expect(events.length).toBe(1);
    const logsUrl = `${ops.platform.url}${pathFor(R.listLogs, REF, { follow: true })}`;
    const lines = await checkStream<LogLine>(ops.checker, logsUrl, await fetch(logsUrl, { headers: auth }), () => true);
    expect(lines.length).toBe(1);
  });

  it('the audit export (CSV) answers documented rows', async () => {
    const res = await ops.call('GET', pathFor(R.listAudit, REF, { format: 'csv', limit: 5 }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('x-berth-next')).toMatch(/^aud-/);
  });

  it('the check fails a body that is not what the document says', () => {
    const url = pathFor(R.getRelease, { ...REF, release: 'rel-1' });
    expect(ops.checker.check('GET', url, 200, 'application/json', JSON.stringify({ release: { id: 'rel-1' } })).join('\n')).toMatch(/getRelease 200: \/release must have required property/);
    expect(ops.checker.check('GET', url, 418, 'application/json', '{}')).toEqual([expect.stringContaining('status 418 is not documented')]);
    expect(ops.checker.check('GET', pathFor(R.listEvents, REF), 200, 'application/x-ndjson', '{"id":1}\n').join('\n')).toMatch(/listEvents 200 line 1: \/id must be string/);
  });
});
