// Embedded Berth runs on one machine and sends nobody a bill: there are no cost allocation tags.
import { InvalidInputError } from '../../core/errors.ts';
import type { BillingTags } from '../../core/ports.ts';

export class NoBilling implements BillingTags {
  async activate(): Promise<{ activated: string[]; notYetSeen: string[] }> {
    throw new InvalidInputError('no-bill-embedded', 'cost allocation tags belong to an AWS bill; the embedded platform has none', {
      next: ['run the command against the platform deployed to AWS (berth login --api <ApiUrl>)'],
    });
  }
}
