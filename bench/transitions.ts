// Figure 2: state transitions per operation, read from the interpreter's event history the way an
// operator reads a Step Functions execution: every state entered is a `step.started` event, every
// retry a `step.retried` (AWS bills a retry as a transition too). Standard workflows cost $0.025 per
// 1,000 transitions. Floor: the shortest path through the ASL file, which any execution must pay.
import type { EnvRef, StateMachineName } from '../functions/core/ports.ts';
import { loadDefinition } from '../functions/reconciler/state-machine-files.ts';
import { LOCAL_SUBSTITUTIONS } from '../functions/reconciler/local-orchestrator.ts';
import { progress, runAsScript, type FigureResult } from './lib/figure.ts';
import { makeRow, type Row } from './lib/report.ts';
import { benchManifest, createReadyEnv, envPath, freePort, startBenchPlatform, uploadApp, type BenchPlatform } from './support/bench-platform.ts';

const RUNS = 3;
const GOAL = 12;
/** Step Functions Standard, per state transition (us-east-1 and most regions). */
export const USD_PER_TRANSITION = 0.025 / 1000;

type State = { Type: string; Next?: string; Default?: string; End?: boolean };

/** States entered when every Choice takes its Default: the least an execution can cost. */
export function shortestPath(machine: StateMachineName): number {
  const { StartAt, States } = loadDefinition(machine, LOCAL_SUBSTITUTIONS) as { StartAt: string; States: Record<string, State> };
  let count = 0;
  for (let name: string | undefined = StartAt; name; count++) {
    const s: State = States[name];
    name = s.End ? undefined : s.Type === 'Choice' ? s.Default : s.Next;
  }
  return count;
}

async function transitionsOf(bp: BenchPlatform, ref: EnvRef, operationId: string): Promise<number> {
  const events = await bp.platform.deps.store.listEvents(ref, { operationId });
  return events.filter((e) => e.type === 'step.started' || e.type === 'step.retried').length;
}

export async function measure(): Promise<FigureResult> {
  const bp = await startBenchPlatform();
  try {
    progress('figure 2: transitions of deploys, rollbacks and scales');
    const port = await freePort();
    const run = async (ref: EnvRef, path: string, body: unknown): Promise<number> => {
      const { receipt } = await bp.call('POST', `${envPath(ref)}${path}`, body, 202);
      await bp.platform.orchestrator.idle();
      return transitionsOf(bp, ref, receipt.operationId);
    };
    const series = async (ref: EnvRef, manifest: string, then?: { path: string; body: (i: number) => unknown }): Promise<{ deploys: number[]; then: number[] }> => {
      await createReadyEnv(bp, ref);
      const digest = await uploadApp(bp, ref.org);
      const deploys: number[] = [];
      // The first deploy has nothing to replace; the ones after it are the usual kind.
      await run(ref, '/deploys', { manifest, artifactDigest: digest });
      for (let i = 0; i < RUNS; i++) deploys.push(await run(ref, '/deploys', { manifest, artifactDigest: digest }));
      const after: number[] = [];
      for (let i = 0; i < (then ? RUNS : 0); i++) after.push(await run(ref, then!.path, then!.body(i)));
      return { deploys, then: after };
    };

    const one = { org: 'bench', project: 'shop', app: 'web', env: 'prod' };
    const single = await series(one, benchManifest('web', port));
    const rollbacks = (await series({ ...one, env: 'rollback' }, benchManifest('web', port + 1), { path: '/rollbacks', body: () => ({}) })).then;
    const scales = (await series({ ...one, env: 'scale' }, benchManifest('web', port + 2), { path: '/scale', body: (i) => ({ workload: 'web', settings: { count: i % 2 ? 1 : 2 } }) })).then;
    const two = await series({ ...one, app: 'pair' }, benchManifest('pair', port + 3, 2));
    const three = await series({ ...one, app: 'trio' }, benchManifest('trio', port + 4, 1, 3));

    const deployFloor = shortestPath('deploy');
    const scaleFloor = shortestPath('scale');
    const floor = (machine: StateMachineName, n: number) => ({ label: `shortest path of ${machine}.asl.json`, samples: [n] });
    const goal = { text: `≤ ${GOAL}`, check: ({ median }: { median: number }) => median <= GOAL };
    const rows: Row[] = [
      makeRow({ figure: 2, measure: 'transitions: deploy, 1 workload × 1', unit: 'transitions', samples: single.deploys, spread: 'worst', floor: floor('deploy', deployFloor), goal }),
      makeRow({ figure: 2, measure: 'transitions: rollback', unit: 'transitions', samples: rollbacks, spread: 'worst', floor: floor('deploy', deployFloor) }),
      makeRow({ figure: 2, measure: 'transitions: scale 1 ↔ 2', unit: 'transitions', samples: scales, spread: 'worst', floor: floor('scale', scaleFloor) }),
      makeRow({ figure: 2, measure: 'transitions: deploy, 2 workloads × 1', unit: 'transitions', samples: two.deploys, spread: 'worst', floor: floor('deploy', deployFloor) }),
      makeRow({
        figure: 2,
        measure: 'transitions: deploy, 1 workload × 3',
        unit: 'transitions',
        samples: three.deploys,
        spread: 'worst',
        floor: floor('deploy', deployFloor),
        note: 'one batch per instance (maxSurge 1 + maxUnavailable 0): each batch after the first adds StartNextBatch … MoreBatches',
      }),
      makeRow({
        figure: 2,
        measure: 'Step Functions Standard per 1,000 deploys (1 workload)',
        unit: 'USD',
        samples: single.deploys.map((t) => t * USD_PER_TRANSITION * 1000),
        spread: 'none',
        goal: { text: `≤ $${(GOAL * USD_PER_TRANSITION * 1000).toFixed(2)}`, check: ({ median }) => median <= GOAL * USD_PER_TRANSITION * 1000 + 1e-9 },
      }),
    ];
    return { rows, details: { deploy: single.deploys, rollback: rollbacks, scale: scales, deployTwoWorkloads: two.deploys, deployThreeInstances: three.deploys, usdPerTransition: USD_PER_TRANSITION } };
  } finally {
    await bp.close();
  }
}

await runAsScript(import.meta.url, measure);
