// Cost Explorer groups costs only by *activated* cost-allocation tags. Activation is an account
// setting (run once, by the stack's custom resource or `berth setup`), and AWS lists a tag key
// for activation only after a resource carried it: until then the tag comes back in `Errors`.
// The Cost Explorer API lives in us-east-1; the client must be created for that region.
import { UpdateCostAllocationTagsStatusCommand, type CostExplorerClient, type UpdateCostAllocationTagsStatusError } from '@aws-sdk/client-cost-explorer';
import { attempt } from './aws-errors.ts';
import { TAG_KEYS } from './tags.ts';

/** Activates the four berth:* tags; resolves with the tags AWS could not activate yet (and why). */
export async function activateCostAllocationTags(ce: CostExplorerClient): Promise<UpdateCostAllocationTagsStatusError[]> {
  const out = await attempt('activate the berth:* cost allocation tags', () =>
    ce.send(new UpdateCostAllocationTagsStatusCommand({ CostAllocationTagsStatus: TAG_KEYS.map((TagKey) => ({ TagKey, Status: 'Active' as const })) })),
  );
  return out.Errors ?? [];
}
