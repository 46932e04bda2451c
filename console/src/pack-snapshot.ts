// `berth deploy` in the console packs the workspace as the CLI packs a directory: the same entries
// (directories included, sorted, .berthignore applied) through the same archive code, so the same
// files give the same digest (test/console-snapshot.test.ts checks it against cli/lib/pack-snapshot.ts).
import { archiveSnapshot, checkSnapshotEntries, IGNORE_FILE, ignoreMatcher, sortEntries, type PackedSnapshot, type SnapshotEntry } from '../../cli/core/snapshot-archive.ts';
import { InvalidInputError } from '../../functions/core/errors.ts';
import type { Workspace } from './workspace.ts';

const DIR_MODE = 0o755;

export async function packWorkspace(workspace: Workspace, dir: string): Promise<PackedSnapshot> {
  if (!workspace.isDirectory(dir)) {
    throw new InvalidInputError('snapshot-dir-missing', `cannot snapshot "${dir}": it is not a directory of the console's workspace; run \`berth init\` first (it writes berth.yaml there)`, {
      details: { dir },
    });
  }
  const files = workspace.filesUnder(dir);
  const ignoreFile = files.find((f) => f.path === IGNORE_FILE);
  const isIgnored = ignoreMatcher(ignoreFile?.file.text ?? '');
  const utf8 = new TextEncoder();
  const entries: SnapshotEntry[] = [];
  const data = new Map<string, Uint8Array>();
  const dirs = new Set<string>();
  for (const { path, file } of files) {
    // A directory that is ignored takes everything under it along, as the CLI's walk does.
    const segments = path.split('/');
    const parents = segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).join('/'));
    if (parents.some((p) => isIgnored(p, true))) continue;
    // Its directories go in even when the file itself is ignored: the CLI walks into them first.
    for (const p of parents) {
      if (!dirs.has(p)) {
        dirs.add(p);
        entries.push({ path: p, type: 'directory', mode: DIR_MODE, size: 0 });
      }
    }
    if (isIgnored(path, false)) continue;
    const bytes = utf8.encode(file.text);
    data.set(path, bytes);
    entries.push({ path, type: 'file', mode: file.mode & 0o777, size: bytes.byteLength });
  }
  sortEntries(entries);
  checkSnapshotEntries(dir, entries);
  return archiveSnapshot(entries, async (path) => data.get(path)!);
}
