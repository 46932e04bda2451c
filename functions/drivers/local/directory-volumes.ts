// Embedded volumes are directories under the data dir that outlive every instance and release.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Volume } from '../../contract/manifest.ts';
import type { EnvRef, VolumeDriver } from '../../core/ports.ts';

export class DirectoryVolumeDriver implements VolumeDriver {
  constructor(private readonly root: string) {}

  async ensure(env: EnvRef, name: string, _volume: Volume): Promise<{ dir: string }> {
    // Size and zone only constrain placement on AWS; a directory has neither.
    const dir = join(this.root, env.org, env.project, env.app, env.env, name);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return { dir };
  }
}
