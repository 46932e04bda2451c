// The "stack destroy" check (issue 15 item 4): what Berth creates per env is removed by env
// destroy or is on the documented retained list, and nothing retained keeps the VPC from being
// deleted. The functions take plain lists, so the AWS twin can feed them its inventory.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { judgeEnvDestroy, PER_ENV, unknownKinds, type Resource } from './support/stack-destroy-check.ts';

describe('stack destroy check', () => {
  it('[15.4] nothing on the retained list (log groups, volumes, snapshots, task definitions) keeps the VPC from being deleted', () => {
    expect(PER_ENV.filter((f) => f.retained && f.blocksVpc)).toEqual([]);
    for (const f of PER_ENV) expect(Boolean(f.removedBy) !== Boolean(f.retained), f.kind).toBe(true);
  });

  it('every retained kind is on the README and infra/README.md retained lists', () => {
    const docs = readFileSync('README.md', 'utf8') + readFileSync('infra/README.md', 'utf8');
    for (const f of PER_ENV.filter((f) => f.retained)) expect(docs, f.kind).toContain(`\`${f.kind}\``);
  });

  it('judges a leftover security group and mount target as leftovers that block the VPC; kept volumes and logs as retained', () => {
    const remaining: Resource[] = [
      { kind: 'security-group', id: 'sg-nlb' },
      { kind: 'efs-mount-target', id: 'fsmt-1' },
      { kind: 'efs-file-system', id: 'fs-1' },
      { kind: 'log-group', id: '/berth/acme/shop/api/prod' },
    ];
    const verdict = judgeEnvDestroy(remaining, { purgeVolumes: false });
    expect(verdict.leftovers.map((r) => r.id)).toEqual(['sg-nlb', 'fsmt-1']);
    expect(verdict.blockingVpc.map((r) => r.id)).toEqual(['sg-nlb', 'fsmt-1']);
    expect(verdict.retained.map((r) => r.id)).toEqual(['fs-1', '/berth/acme/shop/api/prod']);
  });

  it('with purge-volumes a remaining file system is a leftover', () => {
    expect(judgeEnvDestroy([{ kind: 'efs-file-system', id: 'fs-1' }], { purgeVolumes: true }).leftovers).toEqual([{ kind: 'efs-file-system', id: 'fs-1' }]);
  });

  it('a kind of resource nobody listed is reported, so a new one must say how it goes', () => {
    expect(unknownKinds([{ kind: 'security-group' }, { kind: 'nat-gateway' }])).toEqual(['nat-gateway']);
  });
});
