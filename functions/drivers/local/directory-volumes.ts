// Embedded volumes are directories under the data dir that outlive every instance and release.
// Snapshots are copies beside them; a deleted volume is first moved aside so the delete can be
// undone until its operation succeeds.
import { cp, mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../../core/errors.ts';
import type { Volume } from '../../contract/manifest.ts';
import type { EnvRef, VolumeDriver } from '../../core/ports.ts';

export class DirectoryVolumeDriver implements VolumeDriver {
  constructor(private readonly root: string) {}

  private envDir(env: EnvRef): string {
    return join(this.root, env.org, env.project, env.app, env.env);
  }
  private dir(env: EnvRef, name: string): string {
    return join(this.envDir(env), name);
  }
  private snapshotDir(env: EnvRef, name: string, id: string): string {
    return join(this.envDir(env), '.snapshots', name, id);
  }
  private asideDir(env: EnvRef, name: string, token: string): string {
    return join(this.envDir(env), '.deleted', `${name}.${token}`);
  }

  async ensure(env: EnvRef, name: string, _volume: Volume): Promise<{ dir: string }> {
    // Size and zone only constrain placement on AWS; a directory has neither.
    const dir = this.dir(env, name);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return { dir };
  }

  async exists(env: EnvRef, name: string): Promise<boolean> {
    return stat(this.dir(env, name)).then(
      (s) => s.isDirectory(),
      () => false,
    );
  }

  async resize(): Promise<void> {
    // Nothing to do on a directory; the new size is desired state on the env.
  }

  async snapshot(env: EnvRef, name: string, snapshotId: string): Promise<{ sizeBytes: number }> {
    const target = this.snapshotDir(env, name, snapshotId);
    const partial = `${target}.partial`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(join(target, '..'), { recursive: true, mode: 0o700 });
    if (!(await stat(target).catch(() => undefined))) {
      // Copy aside, then rename: a half-copied snapshot is never taken for a whole one.
      await cp(this.dir(env, name), partial, { recursive: true, preserveTimestamps: true });
      await rename(partial, target);
    }
    return { sizeBytes: await directorySize(target) };
  }

  async deleteSnapshot(env: EnvRef, name: string, snapshotId: string): Promise<void> {
    await rm(this.snapshotDir(env, name, snapshotId), { recursive: true, force: true });
    // An undone first snapshot leaves no empty `.snapshots/<name>/` behind.
    await removeIfEmpty(join(this.envDir(env), '.snapshots', name), join(this.envDir(env), '.snapshots'));
  }

  async setAside(env: EnvRef, name: string, token: string): Promise<void> {
    const aside = this.asideDir(env, name, token);
    if (await stat(aside).catch(() => undefined)) return;
    await mkdir(join(aside, '..'), { recursive: true, mode: 0o700 });
    if (await this.exists(env, name)) await rename(this.dir(env, name), aside);
  }

  async restore(env: EnvRef, name: string, token: string): Promise<void> {
    const aside = this.asideDir(env, name, token);
    if (await stat(aside).catch(() => undefined)) {
      await rm(this.dir(env, name), { recursive: true, force: true });
      await rename(aside, this.dir(env, name));
    }
    await removeIfEmpty(join(this.envDir(env), '.deleted'));
  }

  async restoreSnapshot(env: EnvRef, name: string, snapshotId: string, from = name): Promise<void> {
    const source = this.snapshotDir(env, from, snapshotId);
    if (!(await stat(source).catch(() => undefined))) throw new NotFoundError('snapshot-not-found', `volume ${from} has no snapshot ${snapshotId} on disk`, { next: [`berth volumes snapshots ${from}`] });
    // A dir in place means the copy already finished (it is renamed in whole): nothing to redo.
    if (await this.exists(env, name)) return;
    const partial = `${this.dir(env, name)}.restoring`;
    await rm(partial, { recursive: true, force: true });
    await cp(source, partial, { recursive: true, preserveTimestamps: true });
    await rename(partial, this.dir(env, name));
  }

  async discardAside(env: EnvRef, name: string, token: string): Promise<void> {
    await rm(this.asideDir(env, name, token), { recursive: true, force: true });
    await removeIfEmpty(join(this.envDir(env), '.deleted'));
  }

  async purge(env: EnvRef, name: string, token: string): Promise<void> {
    await rm(this.asideDir(env, name, token), { recursive: true, force: true });
    await rm(join(this.envDir(env), '.snapshots', name), { recursive: true, force: true });
    await removeIfEmpty(join(this.envDir(env), '.deleted'), join(this.envDir(env), '.snapshots'));
  }

  /** A directory is not tied to any network: a kept volume stays exactly as it is. */
  async detach(): Promise<void> {}

  async remove(env: EnvRef, name: string): Promise<void> {
    await rm(this.dir(env, name), { recursive: true, force: true });
  }
}

/** Removes each dir that is empty (rmdir refuses any other); one that is missing or in use stays as it is. */
async function removeIfEmpty(...dirs: string[]): Promise<void> {
  for (const dir of dirs) await rmdir(dir).catch(() => undefined);
}

async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await directorySize(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}
