// When the platform runs as root, each env's instances run as a uid of their own, so even outside
// the sandbox's view the kernel keeps one env's files and processes from another's. The uids are
// allocated once per env and kept in `<dataDir>/uids.json`; each data dir draws from its own
// random block, so two platforms on one machine do not hand out the same uid.
import { randomInt } from 'node:crypto';
import { lchownSync, lstatSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// Above any uid a distribution gives its users (login.defs UID_MAX is 60000) and below 2^31.
const BLOCK = 65536;
const FIRST_BLOCK = 16;
const BLOCKS = 30000;

interface UidFile {
  base: number;
  envs: Record<string, number>;
}

export class EnvUids {
  private readonly file: string;
  private state: UidFile;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'uids.json');
    this.state = readUidFile(this.file) ?? { base: (FIRST_BLOCK + randomInt(BLOCKS)) * BLOCK, envs: {} };
  }

  /** The env's uid (also its gid), allocated on first use. */
  uidOf(envKey: string): number {
    const known = this.state.envs[envKey];
    if (known !== undefined) return known;
    const used = Object.keys(this.state.envs).length;
    if (used >= BLOCK) throw new Error(`all ${BLOCK} sandbox uids of ${this.file} are allocated`);
    const uid = this.state.base + used;
    this.state = { ...this.state, envs: { ...this.state.envs, [envKey]: uid } };
    // Aside and renamed: a platform killed mid-write keeps the old map, never a torn one.
    const temp = `${this.file}.tmp`;
    writeFileSync(temp, JSON.stringify(this.state, null, 2) + '\n', { mode: 0o600 });
    renameSync(temp, this.file);
    return uid;
  }
}

function readUidFile(file: string): UidFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as UidFile;
  if (!Number.isInteger(parsed.base) || typeof parsed.envs !== 'object') throw new Error(`${file} is not a uid map; move it aside and restart`);
  return parsed;
}

/**
 * Gives `uid` every entry of the tree that it does not own yet (a new volume, a restored snapshot,
 * files written when the env had another uid). Symlinks are changed themselves, never followed.
 */
export function ownTree(dir: string, uid: number): void {
  const stat = lstatSync(dir);
  if (stat.uid !== uid || stat.gid !== uid) lchownSync(dir, uid, uid);
  if (!stat.isDirectory()) return;
  for (const name of readdirSync(dir)) ownTree(path.join(dir, name), uid);
}
