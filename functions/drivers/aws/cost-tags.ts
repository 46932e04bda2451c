// Cost Explorer groups costs only by *activated* cost-allocation tags. Activation is an account
// setting (run once, by the stack's custom resource or `berth setup`), and AWS lists a tag key
// for activation only after a resource carried it: until then the tag comes back in `Errors`.
// The Cost Explorer API lives in us-east-1; the client must be created for that region.
import { UpdateCostAllocationTagsStatusCommand, type CostExplorerClient, type UpdateCostAllocationTagsStatusError } from '@aws-sdk/client-cost-explorer';
import { attempt } from './aws-errors.ts';
import { TAG_KEYS } from './tags.ts';
import type { BillingTags } from '../../core/ports.ts';

/** Activates the four berth:* tags; resolves with the tags AWS could not activate yet (and why). */
export async function activateCostAllocationTags(ce: CostExplorerClient): Promise<UpdateCostAllocationTagsStatusError[]> {
  const out = await attempt('activate the berth:* cost allocation tags', () =>
    ce.send(new UpdateCostAllocationTagsStatusCommand({ CostAllocationTagsStatus: TAG_KEYS.map((TagKey) => ({ TagKey, Status: 'Active' as const })) })),
  );
  return out.Errors ?? [];
}

/** The BillingTags port on AWS. Cost Explorer's API lives in us-east-1 whatever the platform's region. */
export class CostExplorerBillingTags implements BillingTags {
  constructor(private readonly clients: { ce: CostExplorerClient }) {}

  async activate(): Promise<{ activated: string[]; notYetSeen: string[] }> {
    const errors = await activateCostAllocationTags(this.clients.ce);
    const failed = new Set(errors.map((e) => e.TagKey));
    return { activated: TAG_KEYS.filter((k) => !failed.has(k)), notYetSeen: [...failed].filter((k): k is string => Boolean(k)) };
  }
}
