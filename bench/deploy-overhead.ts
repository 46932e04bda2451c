// Figure 1: what the platform itself adds to a rollout. Embedded, with instances that are healthy
// the moment they start (bench/support/instant-compute.ts), a deploy, a rollback and a scale are
// timed from the receipt to the operation's end (its execution finished, the env converged).
// Floor: the same number of bare DynamoDB round trips (reads and writes counted per operation) on
// the same client and dynalite: the cost of the store I/O alone, done one call after another.
// Each floor sample is taken right after its operation, so both see the same neighbours' noise.
import { StateMachine } from 'aws-local-stepfunctions';
import { LOCAL_SUBSTITUTIONS } from '../functions/reconciler/local-orchestrator.ts';
import { loadDefinition, taskStateNames } from '../functions/reconciler/state-machine-files.ts';
import { progress, runAsScript, timeMs, type FigureResult } from './lib/figure.ts';
import { makeRow, type Row } from './lib/report.ts';
import { median } from './lib/stats.ts';
import { benchManifest, createReadyEnv, envPath, freePort, startBenchPlatform, uploadApp } from './support/bench-platform.ts';
import { bareRoundTrips, countRoundTrips, minus, type RoundTrips } from './support/round-trips.ts';

const RUNS = Number(process.env.BENCH_DEPLOYS ?? 50);
const WARMUP = 3;
const GOAL_MS = 150;

interface OpSample {
  receiptMs: number;
  convergeMs: number;
  receiptTrips: RoundTrips;
  convergeTrips: RoundTrips;
  /** The same round trips, bare, timed right after the operation. */
  receiptFloorMs: number;
  convergeFloorMs: number;
}

export async function measure(): Promise<FigureResult> {
  const bp = await startBenchPlatform();
  try {
    const ref = { org: 'bench', project: 'shop', app: 'web', env: 'prod' };
    await createReadyEnv(bp, ref);
    const digest = await uploadApp(bp, ref.org);
    const manifest = benchManifest(ref.app, await freePort());
    const trips = countRoundTrips(bp.platform.dynamo.client);

    const operate = async (path: string, body: unknown): Promise<OpSample> => {
      const before = trips.read();
      const t0 = performance.now();
      const { receipt } = await bp.call('POST', `${envPath(ref)}${path}`, body, 202);
      const t1 = performance.now();
      const accepted = trips.read();
      await bp.platform.orchestrator.idle();
      const t2 = performance.now();
      // Compute events are recorded in the background; let them land inside this operation's count.
      await new Promise((resolve) => setTimeout(resolve, 5));
      const after = trips.read();
      const op = await bp.platform.deps.store.getOperation(ref, receipt.operationId);
      if (op?.status !== 'succeeded') throw new Error(`${path} ${receipt.operationId} ended ${op?.status}: ${JSON.stringify(op?.error)}`);
      const receiptTrips = minus(accepted, before);
      const convergeTrips = minus(after, accepted);
      const { client } = bp.platform.dynamo;
      const receiptFloorMs = await timeMs(() => bareRoundTrips(client, receiptTrips));
      const convergeFloorMs = await timeMs(() => bareRoundTrips(client, convergeTrips));
      return { receiptMs: t1 - t0, convergeMs: t2 - t1, receiptTrips, convergeTrips, receiptFloorMs, convergeFloorMs };
    };

    const deployBody = { manifest, artifactDigest: digest };
    for (let i = 0; i < WARMUP; i++) await operate('/deploys', deployBody);
    progress(`figure 1: ${RUNS} deploys, ${RUNS} rollbacks, ${RUNS} scales (instances ready at once)`);
    const converged = async (what: string) => {
      const { status } = await bp.call('GET', `${envPath(ref)}/status`, undefined, 200);
      if (!status.converged) throw new Error(`after the ${what} the env is not converged: ${JSON.stringify(status)}`);
    };
    const deploys: OpSample[] = [];
    for (let i = 0; i < RUNS; i++) deploys.push(await operate('/deploys', deployBody));
    await converged('deploys');
    // Each rollback returns to the release before the current one: 50 steps back through the deploys above.
    const rollbacks: OpSample[] = [];
    for (let i = 0; i < RUNS; i++) rollbacks.push(await operate('/rollbacks', {}));
    await converged('rollbacks');
    const scales: OpSample[] = [];
    for (let i = 0; i < RUNS; i++) scales.push(await operate('/scale', { workload: 'web', settings: { count: i % 2 ? 1 : 2 } }));
    await converged('scales');

    const typical = (samples: OpSample[], pick: (s: OpSample) => RoundTrips): RoundTrips => ({ reads: median(samples.map((s) => pick(s).reads)), writes: median(samples.map((s) => pick(s).writes)) });
    const label = (t: RoundTrips) => `${Math.round(t.reads)} reads + ${Math.round(t.writes)} writes`;
    const kinds = { deploy: deploys, rollback: rollbacks, scale: scales };
    const converge = Object.fromEntries(Object.entries(kinds).map(([k, s]) => [k, typical(s, (x) => x.convergeTrips)])) as Record<keyof typeof kinds, RoundTrips>;
    const receiptTrips = typical(deploys, (x) => x.receiptTrips);
    progress('figure 1: the deploy machine with no-op Tasks (interpreter alone)');
    const interpreter = await interpreterAlone();

    const goal = { text: `≤ ${GOAL_MS} ms`, check: ({ median: m }: { median: number }) => m <= GOAL_MS };
    const rows: Row[] = [
      makeRow({ figure: 1, measure: 'deploy: request → receipt', unit: 'ms', samples: deploys.map((s) => s.receiptMs), floor: { label: label(receiptTrips), samples: deploys.map((s) => s.receiptFloorMs) } }),
      ...(Object.keys(kinds) as (keyof typeof kinds)[]).map((k) =>
        makeRow({ figure: 1, measure: `${k}: receipt → converged`, unit: 'ms', samples: kinds[k].map((s) => s.convergeMs), floor: { label: label(converge[k]), samples: kinds[k].map((s) => s.convergeFloorMs) }, goal }),
      ),
      makeRow({ figure: 1, measure: 'deploy.asl.json, no-op Tasks (interpreter alone)', unit: 'ms', samples: interpreter, note: 'the 8 states of a deploy in aws-local-stepfunctions with nothing behind the Tasks: part of every converge time above' }),
    ];
    return { rows, details: { runs: RUNS, roundTrips: { receipt: receiptTrips, ...converge } } };
  } finally {
    await bp.close();
  }
}

/** The deploy machine run by the same interpreter, every Task answering at once with what the next state reads. */
async function interpreterAlone(): Promise<number[]> {
  const definition = loadDefinition('deploy', LOCAL_SUBSTITUTIONS);
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
  const noop = async () => ({ StatusCode: 200, Payload: { instances: [], stop: [], done: true } }) as never;
  const taskResourceLocalHandlers = Object.fromEntries(taskStateNames(definition).map((name) => [name, noop]));
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const ms = await timeMs(async () => {
      const execution = machine.run({ operation: { operationId: `op-${i}` } } as never, { overrides: { taskResourceLocalHandlers }, context: { Execution: { Name: `op-${i}` }, Task: { Token: 'local' } } });
      // Drained the way LocalOrchestrator drains it.
      for await (const _ of execution.eventLogs) void _;
      await execution.result;
    });
    if (i >= WARMUP) samples.push(ms);
  }
  return samples;
}

await runAsScript(import.meta.url, measure);
