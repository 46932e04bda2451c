// The console's files: a small workspace in the browser, so that `berth init` can write a
// berth.yaml and a starter program and `berth deploy` can pack them, as they would on disk. Paths
// are POSIX; the working directory is /workspace. Kept in localStorage (text files only), so a
// reload keeps what `init` wrote and what was edited.

export const WORKSPACE_DIR = '/workspace';
const STORAGE_KEY = 'berth.workspace';
const FILE_MODE = 0o644;

export interface WorkspaceFile {
  text: string;
  mode: number;
}

/** An error shaped as Node's fs errors are, so commands that check `code` (EEXIST) work unchanged. */
export function fsError(code: 'ENOENT' | 'EEXIST' | 'EISDIR', path: string): Error {
  const what = { ENOENT: 'no such file or directory', EEXIST: 'file already exists', EISDIR: 'is a directory' }[code];
  return Object.assign(new Error(`${code}: ${what}, '${path}'`), { code, path });
}

export class Workspace {
  private readonly files = new Map<string, WorkspaceFile>();

  constructor(private readonly storage?: Pick<Storage, 'getItem' | 'setItem'>) {
    const saved = storage?.getItem(STORAGE_KEY);
    if (saved) {
      try {
        for (const [path, file] of Object.entries(JSON.parse(saved) as Record<string, WorkspaceFile>)) this.files.set(path, file);
      } catch {
        // A damaged entry is a lost scratch workspace, not a broken console: start empty.
      }
    }
  }

  resolve(...parts: string[]): string {
    return resolvePosix(WORKSPACE_DIR, ...parts);
  }

  read(path: string): string {
    const file = this.files.get(this.resolve(path));
    if (!file) throw this.isDirectory(path) ? fsError('EISDIR', path) : fsError('ENOENT', path);
    return file.text;
  }

  write(path: string, text: string, options: { mode?: number; exclusive?: boolean } = {}): void {
    const abs = this.resolve(path);
    if (this.isDirectory(abs)) throw fsError('EISDIR', path);
    const existing = this.files.get(abs);
    if (existing && options.exclusive) throw fsError('EEXIST', path);
    this.files.set(abs, { text, mode: options.mode ?? existing?.mode ?? FILE_MODE });
    this.save();
  }

  remove(path: string): boolean {
    const abs = this.resolve(path);
    const gone = [...this.files.keys()].filter((p) => p === abs || p.startsWith(`${abs}/`));
    for (const p of gone) this.files.delete(p);
    this.save();
    return gone.length > 0;
  }

  exists(path: string): boolean {
    return this.files.has(this.resolve(path)) || this.isDirectory(path);
  }

  isDirectory(path: string): boolean {
    const abs = this.resolve(path);
    return abs === WORKSPACE_DIR || [...this.files.keys()].some((p) => p.startsWith(`${abs}/`));
  }

  /** Every file under `dir`, by path relative to it, sorted. */
  filesUnder(dir: string): { path: string; file: WorkspaceFile }[] {
    const abs = this.resolve(dir);
    const prefix = abs === '/' ? '/' : `${abs}/`;
    return [...this.files.entries()]
      .filter(([p]) => p.startsWith(prefix))
      .map(([p, file]) => ({ path: p.slice(prefix.length), file }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private save(): void {
    this.storage?.setItem(STORAGE_KEY, JSON.stringify(Object.fromEntries(this.files)));
  }
}

/** `path.posix.resolve` from `cwd`, without Node. */
export function resolvePosix(cwd: string, ...parts: string[]): string {
  let joined = cwd;
  for (const p of parts) joined = p.startsWith('/') ? p : `${joined}/${p}`;
  const out: string[] = [];
  for (const segment of joined.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return `/${out.join('/')}`;
}
