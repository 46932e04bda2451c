import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { BerthError } from '../functions/core/errors.ts';
import { MANIFEST_SCHEMA_ID, MANIFEST_SCHEMA_PATH, manifestJsonSchema } from '../functions/contract/emit-json-schema.ts';
import { formatIssuePath, parseManifest, type ManifestProblem } from '../functions/contract/parse-manifest.ts';

const GOOD = `
app: shop
workloads:
  web:
    image: ghcr.io/acme/shop@sha256:${'a'.repeat(64)}
    command: node server.js
    cpu: 512
    memory: 1024
    count: 2
    ports: [8080, 9090]
    healthCheck:
      type: http
      port: 8080
      path: /healthz
      intervalSeconds: 5
      timeoutSeconds: 2
      deadlineSeconds: 90
    env:
      NODE_ENV: production
      LOG_LEVEL: "3"
    requires:
      env: [DATABASE_URL]
      secrets: [stripe]
    volumes:
      - volume: uploads
        path: /data/uploads
  worker:
    command: [node, worker.js, --queue, default]
    healthCheck: { type: tcp, port: 7000 }
    ports: [7000]
endpoints:
  web:
    workload: web
    protocol: tcp
    port: 443
    targetPort: 8080
    ipv4: true
    proxyProtocol: v2
  metrics:
    workload: web
    port: 9090
volumes:
  uploads:
    sizeGiB: 10
    zone: eu-west-1a
    access: shared
`;

/** Parses `text` expecting failure; returns the error. */
function failure(text: string): BerthError {
  try {
    parseManifest(text);
  } catch (err) {
    expect(err).toBeInstanceOf(BerthError);
    return err as BerthError;
  }
  throw new Error('expected the manifest to be rejected');
}

/** The one problem reported at `path`, after checking the message lists it in the agreed format. */
function problemAt(err: BerthError, path: string): ManifestProblem {
  expect(err.code).toBe('manifest-invalid');
  expect(err.category).toBe('invalid-input');
  const problems = err.details as ManifestProblem[];
  const problem = problems.find((p) => p.path === path);
  expect(problem, `no problem at ${path}; got ${problems.map((p) => p.path).join(', ')}`).toBeDefined();
  expect(err.message).toContain(`berth.yaml: ${path}: ${problem!.message} (got `);
  return problem!;
}

const minimal = (workload: string, extra = '') => `app: shop\nworkloads:\n  web:\n${workload}${extra}`;

describe('parseManifest', () => {
  it('accepts a manifest that uses every field', () => {
    const m = parseManifest(GOOD);
    expect(m.app).toBe('shop');
    expect(m.workloads.web!.command).toBe('node server.js');
    expect(m.workloads.worker!.command).toEqual(['node', 'worker.js', '--queue', 'default']);
    expect(m.workloads.web!.healthCheck).toMatchObject({ type: 'http', port: 8080, path: '/healthz' });
    expect(m.workloads.worker!.healthCheck).toMatchObject({ type: 'tcp', port: 7000 });
    expect(m.workloads.web!.requires).toEqual({ env: ['DATABASE_URL'], secrets: ['stripe'] });
    expect(m.endpoints!.web).toMatchObject({ port: 443, targetPort: 8080, ipv4: true, proxyProtocol: 'v2' });
    expect(m.volumes!.uploads).toEqual({ sizeGiB: 10, zone: 'eu-west-1a', access: 'shared' });
  });

  it('rejects a port above 65535 at workloads.web.ports[0]', () => {
    const err = failure(minimal('    command: node server.js\n    ports: [70000]\n'));
    const p = problemAt(err, 'workloads.web.ports[0]');
    expect(p.value).toBe(70000);
    expect(p.message).toContain('between 1 and 65535');
    expect(err.message).toContain('(got 70000)');
  });

  it('rejects an endpoint that points at an unknown workload, naming the known ones', () => {
    const err = failure(minimal('    command: x\n    ports: [80]\n', 'endpoints:\n  pub: { workload: api, port: 80 }\n'));
    const p = problemAt(err, 'endpoints.pub.workload');
    expect(p.value).toBe('api');
    expect(p.message).toContain('use one of web');
  });

  it('rejects a targetPort the workload does not listen on', () => {
    const err = failure(minimal('    command: x\n    ports: [8080]\n', 'endpoints:\n  web: { workload: web, port: 443, targetPort: 9090 }\n'));
    const p = problemAt(err, 'endpoints.web.targetPort');
    expect(p.value).toBe(9090);
    expect(p.message).toContain('add it to workloads.web.ports or set targetPort to one of [8080]');
  });

  it('rejects a cpu/memory pair Fargate does not offer, listing the valid sizes', () => {
    const err = failure(minimal('    command: x\n    cpu: 256\n    memory: 4096\n'));
    const p = problemAt(err, 'workloads.web.memory');
    expect(p.value).toBe(4096);
    expect(p.message).toContain('use one of 512, 1024, 2048');
  });

  it('asks for memory when a larger cpu leaves the default memory out of range', () => {
    const err = failure(minimal('    command: x\n    cpu: 1024\n'));
    const p = problemAt(err, 'workloads.web.memory');
    expect(p.message).toContain('must be set for cpu 1024');
    expect(p.message).toContain('2048');
  });

  it('rejects an uppercase app name and an uppercase workload name as DNS labels', () => {
    const err = failure('app: MyShop\nworkloads:\n  Web: { command: x }\n');
    expect(problemAt(err, 'app').message).toContain('lowercase');
    const key = problemAt(err, 'workloads.Web');
    expect(key.value).toBe('Web');
    expect(key.message).toContain('lowercase');
  });

  it('rejects a mount of a volume that is not declared', () => {
    const err = failure(minimal('    command: x\n    volumes: [{ volume: data, path: /data }]\n'));
    const p = problemAt(err, 'workloads.web.volumes[0].volume');
    expect(p.value).toBe('data');
    expect(p.message).toContain('declare it under `volumes`');
  });

  it('rejects a volume mounted over a path the sandbox provides, and one mounted above it', () => {
    for (const path of ['/app', '/tmp/cache', '/etc', '/usr/local/data', '/berth', '/data/../proc']) {
      const err = failure(minimal(`    command: x\n    volumes: [{ volume: data, path: ${path} }]\n`, 'volumes:\n  data: { sizeGiB: 1 }\n'));
      const p = problemAt(err, 'workloads.web.volumes[0].path');
      expect(p.message).toContain('which every instance\'s sandbox provides itself; mount volumes elsewhere, e.g. /data');
    }
    expect(() => parseManifest(minimal('    command: x\n    volumes: [{ volume: data, path: /var/lib/postgresql }]\n', 'volumes:\n  data: { sizeGiB: 1 }\n'))).not.toThrow();
  });

  it('rejects a command list whose program is NAME=VALUE', () => {
    const p = problemAt(failure(minimal('    command: ["PORT=1", "node", "s.js"]\n')), 'workloads.web.command[0]');
    expect(p.message).toContain('put variables under `env`');
  });

  it('refuses more than one instance on a single-writer volume (the default), and maxSurge on one', () => {
    const volumes = 'volumes:\n  data: { sizeGiB: 1 }\n';
    const count = problemAt(failure(minimal('    command: x\n    count: 2\n    volumes: [{ volume: data, path: /data }]\n', volumes)), 'workloads.web.count');
    expect(count.message).toContain('volume "data" is single-writer');
    expect(count.message).toContain('access: shared');
    const surge = problemAt(failure(minimal('    command: x\n    rollout: { maxSurge: 1 }\n    volumes: [{ volume: data, path: /data }]\n', volumes)), 'workloads.web.rollout.maxSurge');
    expect(surge.message).toContain('stop the old instance before starting the new one');
    expect(() => parseManifest(minimal('    command: x\n    count: 3\n    volumes: [{ volume: data, path: /data }]\n', 'volumes:\n  data: { sizeGiB: 1, access: shared }\n'))).not.toThrow();
  });

  it('rejects an unknown key, listing the allowed keys and the likely one', () => {
    const err = failure(minimal('    command: x\n    prots: [8080]\n'));
    const p = problemAt(err, 'workloads.web.prots');
    expect(p.value).toEqual([8080]);
    expect(p.message).toContain('did you mean "ports"');
    expect(p.message).toContain('allowed keys here: image, command, cpu, memory, user, count, ports, healthCheck, env, requires, volumes');
  });

  it('says a missing field is required and what it is for', () => {
    const err = failure(minimal('    ports: [8080]\n'));
    const p = problemAt(err, 'workloads.web.command');
    expect(p.value).toBeUndefined();
    expect(p.message).toContain('is required: Command to run');
    expect(err.message).toContain('(got nothing)');
  });

  it('rejects a manifest without workloads', () => {
    const err = failure('app: shop\nworkloads: {}\n');
    expect(problemAt(err, 'workloads').message).toContain('at least one workload');
  });

  it('lists every problem, not just the first', () => {
    const err = failure('app: Shop\nworkloads:\n  web: { command: x, ports: [0, 70000], count: -1 }\n');
    const paths = (err.details as ManifestProblem[]).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['app', 'workloads.web.ports[0]', 'workloads.web.ports[1]', 'workloads.web.count']));
    expect(err.message).toContain('4 problems');
  });

  it('reports a YAML syntax error with its line and column', () => {
    const err = failure('app: shop\nworkloads:\n  web:\n    command: "node server.js\n');
    expect(err.code).toBe('manifest-yaml');
    expect(err.category).toBe('invalid-input');
    expect(err.message).toMatch(/^berth\.yaml:5:\d+: /);
    const [detail] = err.details as { line: number; column: number; message: string }[];
    expect(detail!.line).toBe(5);
    expect(detail!.message).toContain('close the quote');
  });

  it('reports a duplicate key as a YAML error with the fix', () => {
    const err = failure('app: shop\napp: other\nworkloads: { web: { command: x } }\n');
    expect(err.code).toBe('manifest-yaml');
    expect(err.message).toMatch(/^berth\.yaml:2:1: /);
    expect(err.message).toContain('remove or merge the repeated one');
  });

  it('names the file it was given', () => {
    const err = (() => {
      try {
        parseManifest('app: shop\nworkloads: {}\n', 'deploy/berth.prod.yaml');
      } catch (e) {
        return e as BerthError;
      }
      throw new Error('expected failure');
    })();
    expect(err.message).toContain('deploy/berth.prod.yaml: workloads: ');
  });

  it('says what an empty file needs', () => {
    const err = failure('');
    expect(err.code).toBe('manifest-invalid');
    expect(err.message).toContain('app:');
  });
});

describe('formatIssuePath', () => {
  it('writes paths the way a person would type them', () => {
    expect(formatIssuePath(['workloads', 'web', 'ports', 0])).toBe('workloads.web.ports[0]');
    expect(formatIssuePath(['endpoints', 'web', 'targetPort'])).toBe('endpoints.web.targetPort');
    expect(formatIssuePath(['workloads', 'my-api', 'env', 'A B'])).toBe('workloads.my-api.env["A B"]');
    expect(formatIssuePath([])).toBe('');
  });
});

describe('manifest JSON schema', () => {
  const schema = manifestJsonSchema() as {
    $id: string;
    title: string;
    required: string[];
    additionalProperties: boolean;
    properties: Record<string, { minProperties?: number; propertyNames?: { pattern: string }; additionalProperties?: { required?: string[] } }>;
  };

  it('describes the manifest shape', () => {
    expect(schema.$id).toBe(MANIFEST_SCHEMA_ID);
    expect(schema.title).toBeTruthy();
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['app', 'workloads', 'endpoints', 'volumes']));
    expect(schema.required).toEqual(expect.arrayContaining(['app', 'workloads']));
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.workloads!.minProperties).toBe(1);
    expect(schema.properties.workloads!.propertyNames!.pattern).toBe('^[a-z][a-z0-9-]{0,38}[a-z0-9]$');
    expect(schema.properties.workloads!.additionalProperties!.required).toEqual(['command']);
    expect(JSON.stringify(schema)).not.toContain('starts_with');
  });

  it('is the one checked in (run `npm run schema` after changing the manifest)', async () => {
    const written = JSON.parse(await readFile(new URL(`../${MANIFEST_SCHEMA_PATH}`, import.meta.url), 'utf8'));
    expect(written).toEqual(schema);
  });
});
