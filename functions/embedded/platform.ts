// The embedded platform's composition root: the same API, services and state machines as on AWS,
// wired to the local adapters (dynalite, the ASL interpreter, processes, TCP listeners, dirs, files).
import '../core/polyfills.ts';
import { chmodSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { createApi, type ApiOptions } from '../api/app.ts';
import type { ConsoleAssets } from '../api/routes/console-pages.ts';
import { embeddedConsole } from '../../console/server/assets.ts';
import { EventLog } from '../core/event-log.ts';
import type { PlatformDeps } from '../core/services/deps.ts';
import type { ComputeDriver, LogStore } from '../core/ports.ts';
import { LocalArtifactStore } from '../drivers/local/artifact-store.ts';
import { DirectoryVolumeDriver } from '../drivers/local/directory-volumes.ts';
import { TcpEndpointDriver } from '../drivers/local/endpoint-proxy.ts';
import { KeyFileCipher } from '../drivers/local/key-file-cipher.ts';
import { NoBilling } from '../drivers/local/no-billing.ts';
import { FileLogStore } from '../drivers/local/log-files.ts';
import { ProcessDriver } from '../drivers/local/process-driver.ts';
import { createDeploySteps } from '../reconciler/deploy-steps.ts';
import { createScaleSteps } from '../reconciler/scale-steps.ts';
import { createEndpointSteps } from '../reconciler/endpoint-steps.ts';
import { createVolumeSteps } from '../reconciler/volume-steps.ts';
import { createEnvSteps } from '../reconciler/env-steps.ts';
import { LocalOrchestrator, type FaultInjector } from '../reconciler/local-orchestrator.ts';
import { DynamoStateStore } from '../store/dynamo-state-store.ts';
import { DEFAULT_TABLE_NAME } from '../store/table.ts';
import { startLocalDynamo, type LocalDynamo } from './local-dynamo.ts';
import { recoverInterruptedOperations } from '../reconciler/recovery.ts';
import { startReconcileLoop } from '../reconciler/reconcile-loop.ts';
import { recordComputeEvents } from './compute-events.ts';
import { attachExecServer, type ExecCompute } from './exec-server.ts';
import type { OrphanReport } from '../drivers/local/orphan-reaper.ts';
import type { Isolation } from '../contract/responses.ts';
import { ExecTickets } from './exec-tickets.ts';
import { startArtifactGc } from './artifact-gc-loop.ts';

const LOG_SWEEP_MS = 3600_000;

export interface EmbeddedOptions {
  /** Data dir: state, artifacts, logs, volumes, secrets key. */
  home: string;
  /** API port; 0 picks a free one. */
  port: number;
  host?: string;
  version: string;
  /** Compute driver tuning (tests shorten the restart backoff). */
  restartBackoffMs?: number[];
  /**
   * How often the reconcile loop wakes; 0 turns it off. Default 5000. An env that changed is looked
   * at within one tick, one that runs a release every 6 ticks, every env every 60 (reconcile-loop.ts).
   */
  reconcileIntervalMs?: number;
  /**
   * How often unreferenced artifacts are garbage-collected (see core/services/artifact-gc.ts); a
   * pass also follows every deploy. 0 turns it off. Default 600000 (10 minutes).
   */
  artifactGcIntervalMs?: number;
  /** Test-only: fail chosen Task states (see LocalOrchestrator). */
  faultInjector?: FaultInjector;
  /**
   * Builds the compute driver from the platform's log store and its instances dir.
   * @default the ProcessDriver (supervised child processes). `npm run bench` passes a driver whose
   * instances are healthy at once, so that it measures the platform's own overhead.
   */
  compute?: (parts: { dataDir: string; logs: LogStore; restartBackoffMs?: number[] }) => EmbeddedCompute;
  /** Test-only: the device login's interval, code lifetime and clock (see ApiOptions). */
  deviceFlow?: ApiOptions['deviceFlow'];
  /**
   * The web console served at `/`; `false` serves none.
   * @default embeddedConsole(): built from console/ on the first request in a checkout, dist/console/ when installed
   */
  console?: ConsoleAssets | false;
}

/** What the embedded platform needs of its compute driver: the port, exec, and startup cleanup. */
export type EmbeddedCompute = ComputeDriver & ExecCompute & { reapOrphans(): Promise<OrphanReport>; isolation?(): Isolation };

export interface EmbeddedPlatform {
  url: string;
  port: number;
  deps: PlatformDeps;
  orchestrator: LocalOrchestrator;
  /** The embedded DynamoDB (dynalite) the store talks to; the bench counts its round trips. */
  dynamo: Pick<LocalDynamo, 'client' | 'endpoint'>;
  close(): Promise<void>;
}

export async function startEmbeddedPlatform(options: EmbeddedOptions): Promise<EmbeddedPlatform> {
  const home = options.home;
  mkdirSync(home, { recursive: true, mode: 0o700 });
  // mkdir's mode applies only to a dir it creates, and through the umask; an older home is tightened.
  chmodSync(home, 0o700);
  const dynamo = await startLocalDynamo(join(home, 'dynamo'), DEFAULT_TABLE_NAME);
  const store = new DynamoStateStore(dynamo.client, DEFAULT_TABLE_NAME);
  const events = new EventLog(store);
  const logs = new FileLogStore(join(home, 'logs'));
  const buildCompute = options.compute ?? ((parts) => new ProcessDriver(parts));
  const compute = buildCompute({ dataDir: join(home, 'instances'), logs, restartBackoffMs: options.restartBackoffMs });
  const endpoints = new TcpEndpointDriver();
  const volumes = new DirectoryVolumeDriver(join(home, 'volumes'));
  const artifacts = new LocalArtifactStore(join(home, 'artifacts'));
  const cipher = new KeyFileCipher(join(home, 'secrets.key'));

  const tickets = new ExecTickets();
  const isolation = compute.isolation?.();
  const partial = { store, events, compute, endpoints, volumes, artifacts, logs, cipher, billing: new NoBilling(), exec: tickets, isolation };
  const machines = {
    deploy: createDeploySteps(partial),
    scale: createScaleSteps(partial),
    endpoint: createEndpointSteps(partial),
    volume: createVolumeSteps(partial),
    env: createEnvSteps(partial),
  };
  const orchestrator = new LocalOrchestrator(machines, store, events, options.faultInjector);
  const deps: PlatformDeps = { ...partial, orchestrator };
  const stopRecording = recordComputeEvents(compute, events);
  // Retention by age needs a clock as well as writes: an env that went quiet still ages out.
  const stopSweepingLogs = logs.startSweeping(LOG_SWEEP_MS, (err) => console.error('log retention:', err));

  // Order matters: processes a killed platform left behind go first, then interrupted operations
  // are compensated, then the reconcile loop brings every env back to its desired state.
  const reaped = await compute.reapOrphans();
  if (reaped.removed.length) {
    const how = reaped.stopped.length ? `${reaped.stopped.length} still running, stopped` : 'ended with it';
    console.error(`cleaned up ${reaped.removed.length} instance(s) of a previous platform process (${how}): ${reaped.removed.join(', ')}`);
  }
  const recovered = await recoverInterruptedOperations(store, events, orchestrator);
  if (recovered.length) console.error(`compensating ${recovered.length} operation(s) interrupted by a restart: ${recovered.join(', ')}`);
  const reconcileMs = options.reconcileIntervalMs ?? 5000;
  const gcMs = options.artifactGcIntervalMs ?? 600_000;
  const gc =
    gcMs > 0
      ? startArtifactGc(
          deps,
          artifacts,
          gcMs,
          (report) => {
            if (report.removed.length) console.error(`removed ${report.removed.length} artifact(s) no release in the rollback window uses: ${report.removed.join(', ')}`);
          },
          (err) => console.error('artifact gc:', err),
        )
      : undefined;
  const stopGcAfterDeploys = orchestrator.onExecutionEnd((machine) => {
    if (machine === 'deploy') gc?.soon();
  });
  const stopReconciling = reconcileMs > 0 ? startReconcileLoop(deps, { intervalMs: reconcileMs }, (err) => console.error('reconcile:', err)) : async () => undefined;

  const consoleAssets = options.console === false ? undefined : (options.console ?? embeddedConsole());
  const app = createApi(deps, { version: options.version, deviceFlow: options.deviceFlow, console: consoleAssets });
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host ?? '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
  const stopExec = attachExecServer(server, { tickets }, compute);
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    port,
    deps,
    orchestrator,
    dynamo,
    async close() {
      // A pass in flight would otherwise read the instances being stopped below as drift, and
      // write to the store after it closed.
      await stopReconciling();
      stopGcAfterDeploys();
      await gc?.stop();
      stopRecording();
      stopExec();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Streams (logs --follow) keep connections open; end them so close() returns.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await compute.shutdown();
      // After the instances stopped: their last lines are on disk before close() returns.
      stopSweepingLogs();
      await logs.close();
      await endpoints.shutdown();
      await orchestrator.idle();
      await dynamo.close();
    },
  };
}
