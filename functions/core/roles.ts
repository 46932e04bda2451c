// Who may do what: four roles in a strict order, and the permission every API route declares
// (functions/api/route.ts). The table in the README is generated from the same constants.
import type { Role } from './model.ts';

export const ROLES: readonly Role[] = ['viewer', 'deployer', 'admin', 'owner'];

/**
 * What a route needs:
 * - read: see an org's state (status, logs, releases, config names…)   viewer and up
 * - deploy: change what runs (deploy, rollback, scale, config, secrets, exec)   deployer and up
 * - admin: change the org's shape and people (projects, apps, envs, endpoints, volumes, members, tokens, audit)   admin and up
 * - owner: hand out or take away ownership   owner
 * - platform: the installer's bootstrap token only (create orgs, account-wide billing settings)
 * - authenticated: any valid token (whoami, logout, the orgs it can see)
 * - public: no token at all (the device-login endpoints, which hand tokens out)
 */
export type Permission = 'read' | 'deploy' | 'admin' | 'owner' | 'platform' | 'authenticated' | 'public';

export const MINIMUM_ROLE: Record<'read' | 'deploy' | 'admin' | 'owner', Role> = { read: 'viewer', deploy: 'deployer', admin: 'admin', owner: 'owner' };

export const rank = (role: Role): number => ROLES.indexOf(role);

export function roleAllows(role: Role, permission: keyof typeof MINIMUM_ROLE): boolean {
  return rank(role) >= rank(MINIMUM_ROLE[permission]);
}

/** The weaker of two roles: a token never acts above the member it belongs to. */
export function weaker(a: Role, b: Role): Role {
  return rank(a) <= rank(b) ? a : b;
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
