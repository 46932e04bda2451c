// What the volume swap task's container (functions/drivers/aws/efs-restore.ts SWAP_SCRIPT) does,
// applied to the EFS twin's file tree: the twin runs no images, so each ACTION of the script is
// mirrored here, line for line. The task mounts the file system's root at /mnt/efs.
import type { EfsState, TwinFileSystem } from './efs.ts';
import type { EcsState } from './ecs.ts';

const under = (files: Map<string, string>, dir: string) => [...files.keys()].filter((p) => p === dir || p.startsWith(`${dir}/`));
const exists = (files: Map<string, string>, dir: string) => under(files, dir).length > 0 || files.has(`${dir}/.dir`);
/** `mv from to` of a directory: every path under `from` moves under `to`. */
function move(files: Map<string, string>, from: string, to: string): void {
  for (const p of under(files, from)) {
    files.set(to + p.slice(from.length), files.get(p)!);
    files.delete(p);
  }
}
const remove = (files: Map<string, string>, dir: string) => under(files, dir).forEach((p) => files.delete(p));
// An empty directory is kept as a marker entry (a Map of files has no directories of its own).
const mkdir = (files: Map<string, string>, dir: string) => files.set(`${dir}/.dir`, '');

export interface SwapRun {
  fileSystemId: string;
  action: string;
  token: string;
  exitCode: number;
}

/** Makes the ECS twin's one-off `berth-volume-swap-*` tasks act on the EFS twin; returns the log of runs. */
export function installVolumeSwap(ecs: EcsState, efs: EfsState): SwapRun[] {
  const runs: SwapRun[] = [];
  ecs.runContainer = (_task, definition, environment) => {
    if (!String(definition.family).startsWith('berth-volume-swap-')) return 0;
    const fileSystemId: string = definition.volumes?.[0]?.efsVolumeConfiguration?.fileSystemId;
    const fs = efs.find(fileSystemId);
    const { ACTION: action = '', TOKEN: token = '' } = environment;
    // A task whose EFS volume cannot mount (no available mount target in its zone) never runs its command.
    const mountable = fs && [...efs.mountTargets.values()].some((m) => m.FileSystemId === fileSystemId && m.LifeCycleState === 'available');
    const exitCode = mountable ? run(fs!, action, token) : 32;
    runs.push({ fileSystemId, action, token, exitCode });
    return exitCode;
  };
  return runs;
}

function run(fs: TwinFileSystem, action: string, token: string): number {
  const files = fs.files;
  const aside = `/.berth-aside/${token}`;
  const recovery = () => [...new Set([...files.keys()].map((p) => p.split('/')[1]).filter((d) => d.startsWith('aws-backup-restore_')))].sort();
  switch (action) {
    case 'aside':
      if (!exists(files, aside)) {
        if (exists(files, '/data')) move(files, '/data', aside);
        else mkdir(files, aside);
      }
      return 0;
    case 'place': {
      if (exists(files, '/data')) return 0;
      const latest = recovery().pop();
      if (!latest) return 3;
      if (exists(files, `/${latest}/data`)) move(files, `/${latest}/data`, '/data');
      else mkdir(files, '/data');
      remove(files, `/${latest}`);
      return 0;
    }
    case 'back':
      if (exists(files, aside)) {
        remove(files, '/data');
        move(files, aside, '/data');
      }
      for (const dir of recovery()) remove(files, `/${dir}`);
      return 0;
    case 'discard':
      remove(files, aside);
      return 0;
    default:
      return 2;
  }
}
