// Data dirs from before members existed hold orgs nobody belongs to; on this machine the
// installer owns them, as they did then. Cheap at boot: one Query per org, and orgs are few.
import { INSTALLER } from '../api/auth.ts';
import { ConflictError } from '../core/errors.ts';
import type { StateStore } from '../core/state-store.ts';

export async function adoptOrgsWithoutMembers(store: StateStore): Promise<string[]> {
  const adopted: string[] = [];
  for (const org of await store.listOrgs()) {
    if ((await store.listMembers(org.name)).length) continue;
    await store.createMember({ org: org.name, email: INSTALLER, role: 'owner', status: 'active', invitedBy: INSTALLER, createdAt: new Date().toISOString() }).catch((err: unknown) => {
      if (!(err instanceof ConflictError)) throw err;
    });
    adopted.push(org.name);
  }
  return adopted;
}
