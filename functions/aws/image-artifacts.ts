// On AWS a release's artifact is an OCI image digest in the customer's registry: nothing is
// uploaded to Berth, and ECS pulls the image (a missing one fails the rollout with image-pull).
import { InvalidInputError } from '../core/errors.ts';
import type { ArtifactStore } from '../core/ports.ts';

export class ImageArtifacts implements ArtifactStore {
  readonly kind = 'image' as const;

  async put(): Promise<void> {
    throw new InvalidInputError('artifact-upload-unsupported', 'on AWS, releases run images: push the image to your registry and deploy it by digest', {
      next: ['berth deploy --image <repository>@sha256:<digest>'],
    });
  }

  async has(digest: string): Promise<boolean> {
    return /^sha256:[0-9a-f]{64}$/.test(digest);
  }

  async unpack(): Promise<string> {
    // Nothing to unpack: the ECS driver runs `workload.image` pinned to the digest.
    return '';
  }
}
