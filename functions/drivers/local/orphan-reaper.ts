// Cleans up after the instances of a platform killed by SIGKILL: their dirs (secrets included)
// always, and their processes where they outlived it. A sandboxed instance dies with its platform
// (PR_SET_PDEATHSIG on its launcher); an unsandboxed one runs in a process group of its own
// (spawned detached), so nothing took it down: it holds its ports and memory, unknown to the
// restarted platform.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { hasProcfs, livingMembers, procStat, terminateGroup } from './process-group.ts';
import { readProcessRecord, type ProcessRecord } from './process-record.ts';

// Instance dirs are named by the driver (`i-` and 8 hex digits); nothing else under the dir is touched.
const INSTANCE_DIR = /^i-[0-9a-f]{8}$/;

export interface OrphanReport {
  /** Instances whose dirs were removed. */
  removed: string[];
  /** Those of them whose processes were still running, and were stopped. */
  stopped: string[];
}

/**
 * For every instance dir under `instancesDir` not `inUse`: stops its process group if the
 * recorded process is verifiably still the one spawned (SIGTERM, SIGKILL after `graceMs`), then
 * removes the dir, secrets included.
 */
export async function reapOrphanedInstances(instancesDir: string, graceMs: number, inUse: (id: string) => boolean): Promise<OrphanReport> {
  let entries: string[];
  try {
    entries = readdirSync(instancesDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { removed: [], stopped: [] };
    throw err;
  }
  const ids = entries.filter((id) => INSTANCE_DIR.test(id) && !inUse(id));
  const canIdentify = hasProcfs();
  const stopped: string[] = [];
  await Promise.all(
    ids.map(async (id) => {
      const dir = path.join(instancesDir, id);
      const record = readProcessRecord(dir);
      // Without /proc a reused pid cannot be told from the instance: leave the process alone.
      if (record && canIdentify && ownsGroup(id, record)) {
        stopped.push(id);
        await terminateGroup(record.pgid, Promise.resolve(), graceMs);
      }
      rmSync(dir, { recursive: true, force: true });
    }),
  );
  return { removed: ids, stopped };
}

/** Linux only: whether the record's process group is still the instance's. */
function ownsGroup(id: string, record: ProcessRecord): boolean {
  const leader = procStat(record.pid);
  // A zombie leader still shows its start time, so this also covers a leader nobody reaped.
  if (leader) return record.procStartTime !== null && leader.startTime === record.procStartTime;
  // The leader is gone, but its children may live on in its group (a shell that exited). The
  // kernel does not reuse a pid while a group still bears it, yet the group could be a stranger's
  // formed after the instance died; only processes that carry the instance's id are taken for it.
  const members = livingMembers(record.pgid);
  return members.length > 0 && members.every((pid) => carriesInstanceId(pid, id));
}

function carriesInstanceId(pid: number, id: string): boolean {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Gone meanwhile, or another user's process: not the instance's.
    if (code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES') return false;
    throw err;
  }
  return environ.split('\0').includes(`BERTH_INSTANCE_ID=${id}`);
}
