import type { Isolation } from '../../contract/responses.ts';
import type { EventLog } from '../event-log.ts';
import type { ArtifactStore, BillingTags, ComputeDriver, EndpointDriver, ExecGateway, LogStore, Orchestrator, SecretCipher, VolumeDriver } from '../ports.ts';
import type { StateStore } from '../state-store.ts';

/** Everything the platform's services reach the world through: ports only, never SDK clients. */
export interface PlatformDeps {
  store: StateStore;
  events: EventLog;
  orchestrator: Orchestrator;
  compute: ComputeDriver;
  endpoints: EndpointDriver;
  volumes: VolumeDriver;
  artifacts: ArtifactStore;
  logs: LogStore;
  cipher: SecretCipher;
  billing: BillingTags;
  exec: ExecGateway;
  /** What the compute gives each instance in isolation; shown in /v1/health and env status. */
  isolation?: Isolation;
}

/** Who is acting: recorded on everything they create. */
export interface Actor {
  id: string;
  name: string;
}
