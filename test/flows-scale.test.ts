// Flow 6 (scale) through the CLI as a subprocess against `npm start`'s entry: scale up and down,
// set an autoscaling range, change cpu/memory; `status` shows desired and current per workload,
// and real instances (processes answering on the endpoint) appear and disappear.
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.ts';
import { instancePids } from './support/processes.ts';
import { alive, createSelected, deployOrThrow, httpGet, startFlow, writeFiles, type Flow } from './support/cli-flow.ts';

// Answers with who served the request.
const SERVER = `import { createServer } from 'node:http';
createServer((req, res) => res.end(JSON.stringify({ instance: process.env.BERTH_INSTANCE_ID })))
  .listen(Number(process.env.PORT));
`;

let flow: Flow;
let port: number;

interface Status {
  workloads: { name: string; desired: Record<string, unknown>; current: Record<string, unknown>; instances: { id: string; state: string }[] }[];
  endpoints: { name: string; targets: string[] }[];
}

async function status(): Promise<{ text: string; json: Status }> {
  const [text, json] = await Promise.all([flow.berth(['status']), flow.berth(['status', '--json'])]);
  expect(text.code, text.stderr).toBe(0);
  return { text: text.stdout, json: JSON.parse(json.stdout) };
}

/**
 * Who answers on the endpoint: instance id → its process's host pid (a sandboxed process knows
 * only its pid inside the sandbox), from enough requests to go round every target.
 */
async function answering(targets: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < targets * 4; i++) {
    const { body } = await httpGet('::1', port, `/${i}`);
    const { instance } = JSON.parse(body);
    const pids = instancePids(instance);
    expect(pids).toHaveLength(1);
    seen.set(instance, pids[0]);
  }
  return seen;
}

const row = (text: string) => text.split('\n').find((l) => l.startsWith('web ')) ?? '';

beforeAll(async () => {
  flow = await startFlow('scale');
  port = await freePort();
  writeFiles(join(flow.dir, 'app'), {
    'server.mjs': SERVER,
    'berth.yaml': stringify({
      app: 'pool',
      workloads: { web: { command: ['node', 'server.mjs'], ports: [8080], healthCheck: { type: 'http', path: '/', intervalSeconds: 0.2 } } },
      endpoints: { web: { workload: 'web', port, targetPort: 8080 } },
    }),
  });
  await createSelected(flow, { org: 'acme', project: 'shop', app: 'pool', env: 'prod' });
  await deployOrThrow(flow);
}, 120_000);

afterAll(async () => {
  await flow?.stop();
});

describe('scale through the CLI', () => {
  let firstThree: Map<string, number>;

  it('scales up to 3: the receipt shows from and to, status shows 3 desired and 3 current, and 3 processes answer', async () => {
    const r = await flow.berth(['scale', 'count', '3', '--wait']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Scale of web accepted for acme\/shop\/pool\/prod; applying as op-\S+/);
    expect(r.stdout).toMatch(/^ {2}from {2}count 1, cpu 256, memory 512 MiB$/m);
    expect(r.stdout).toMatch(/^ {2}to {4}count 3, cpu 256, memory 512 MiB$/m);
    expect(r.stdout).toMatch(/scale op-\S+ succeeded/);

    const s = await status();
    expect(row(s.text)).toMatch(/^web\s+3\s+3\/3 healthy\s+256\/512\s+rel-1$/);
    expect(s.text).toContain('converged');
    const web = s.json.workloads[0];
    expect(web.desired).toEqual({ count: 3, cpu: 256, memory: 512, releaseId: 'rel-1' });
    expect(web.current).toMatchObject({ running: 3, healthy: 3, upToDate: 3, releases: ['rel-1'] });
    const ids = web.instances.map((i) => i.id).sort();
    expect(ids).toHaveLength(3);
    expect(s.json.endpoints[0].targets.sort()).toEqual(ids);

    firstThree = await answering(3);
    expect([...firstThree.keys()].sort()).toEqual(ids);
    expect(new Set(firstThree.values()).size).toBe(3);
    for (const pid of firstThree.values()) expect(alive(pid)).toBe(true);
  });

  it('stores an autoscaling range, shows it in status, and refuses a count outside it without changing anything', async () => {
    const r = await flow.berth(['scale', 'count', '--min', '2', '--max', '4', '--wait']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}to {4}count 3 \(min 2, max 4\), cpu 256, memory 512 MiB$/m);

    const [above, inverted, s] = await Promise.all([flow.berth(['scale', 'count', '5']), flow.berth(['scale', 'count', '--min', '4', '--max', '2', '--json']), status()]);
    expect(above.code).toBe(2);
    expect(above.stderr).toContain('Error (invalid-input): count 5 is above max 4; lower the count or raise max');
    expect(inverted.code).toBe(2);
    expect(JSON.parse(inverted.stdout).error).toMatchObject({ category: 'invalid-input', code: 'scale-range-invalid' });

    expect(row(s.text)).toMatch(/^web\s+3 \(min 2, max 4\)\s+3\/3 healthy\s+256\/512\s+rel-1$/);
    expect(s.json.workloads[0].desired).toEqual({ count: 3, min: 2, max: 4, cpu: 256, memory: 512, releaseId: 'rel-1' });
    // Changing only the range touches no instance.
    expect(s.json.workloads[0].instances.map((i) => i.id).sort()).toEqual([...firstThree.keys()].sort());
  });

  it('changes cpu and memory by replacing every instance, and refuses a size Fargate does not offer', async () => {
    const bad = await flow.berth(['scale', 'vm', '--memory', '4096']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('memory 4096 MiB does not fit cpu 256; use one of 512, 1024, 2048');
    expect(bad.stderr).toContain('berth scale vm --workload web --cpu 256 --memory 512');

    const r = await flow.berth(['scale', 'vm', '--cpu', '512', '--memory', '1024', '--wait']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}from {2}count 3 \(min 2, max 4\), cpu 256, memory 512 MiB$/m);
    expect(r.stdout).toMatch(/^ {2}to {4}count 3 \(min 2, max 4\), cpu 512, memory 1024 MiB$/m);

    const s = await status();
    expect(row(s.text)).toMatch(/^web\s+3 \(min 2, max 4\)\s+3\/3 healthy\s+512\/1024\s+rel-1$/);
    expect(s.json.workloads[0].current).toMatchObject({ running: 3, healthy: 3, upToDate: 3 });
    const now = await answering(3);
    expect(now.size).toBe(3);
    for (const id of now.keys()) expect(firstThree.has(id)).toBe(false);
    for (const pid of firstThree.values()) expect(alive(pid)).toBe(false);
    firstThree = now;
  });

  it('scales down to 2 and to 0: the stopped processes are gone and the rest keep serving', async () => {
    const below = await flow.berth(['scale', 'count', '1']);
    expect(below.code).toBe(2);
    expect(below.stderr).toContain('count 1 is below min 2');

    const r = await flow.berth(['scale', 'count', '2', '--min', '0', '--max', '4', '--wait']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}to {4}count 2 \(min 0, max 4\), cpu 512, memory 1024 MiB$/m);
    const left = await answering(2);
    expect(left.size).toBe(2);
    const stopped = [...firstThree].filter(([id]) => !left.has(id));
    expect(stopped).toHaveLength(1);
    for (const [, pid] of stopped) expect(alive(pid)).toBe(false);
    for (const pid of left.values()) expect(alive(pid)).toBe(true);

    const down = await flow.berth(['scale', 'count', '0', '--wait']);
    expect(down.code, down.stderr).toBe(0);
    for (const pid of left.values()) expect(alive(pid)).toBe(false);
    const none = await status();
    expect(row(none.text)).toMatch(/^web\s+0 \(min 0, max 4\)\s+0\/0 healthy\s+512\/1024\s+rel-1$/);
    expect(none.json.workloads[0].instances).toEqual([]);
  });

  it('scales back up (--wait --json prints JSON lines only), and a new release keeps the scale', async () => {
    // The receipt, each event, the operation: one JSON document per line, nothing else.
    const up = await flow.berth(['scale', 'count', '1', '--wait', '--json']);
    expect(up.code, up.stderr).toBe(0);
    const lines = up.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].receipt).toMatchObject({ workload: 'web', desired: { count: 1 } });
    expect(lines.slice(1, -1).every((l) => l.event?.type)).toBe(true);
    expect(lines.at(-1).operation).toMatchObject({ kind: 'scale', status: 'succeeded' });
    // The env keeps its scale (count, range, cpu, memory) across a new release.
    await deployOrThrow(flow);
    const after = await status();
    expect(row(after.text)).toMatch(/^web\s+1 \(min 0, max 4\)\s+1\/1 healthy\s+512\/1024\s+rel-2$/);
    expect((await answering(1)).size).toBe(1);
  });
});
