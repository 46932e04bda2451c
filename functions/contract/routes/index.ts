// The route table of the HTTP API, keyed by operationId.
import { CONFIG_ROUTES } from './config.ts';
import { DEPLOY_ROUTES } from './deploys.ts';
import { DEVICE_ROUTES } from './device.ts';
import { HIERARCHY_ROUTES } from './hierarchy.ts';
import { MCP_ROUTES } from './mcp.ts';
import { OBSERVE_ROUTES } from './observe.ts';
import { PEOPLE_ROUTES } from './people.ts';
import { RESOURCE_ROUTES } from './resources.ts';

export * from './config.ts';
export * from './deploys.ts';
export * from './device.ts';
export * from './hierarchy.ts';
export * from './mcp.ts';
export * from './observe.ts';
export * from './people.ts';
export * from './resources.ts';

export const ROUTES = [...HIERARCHY_ROUTES, ...CONFIG_ROUTES, ...DEPLOY_ROUTES, ...OBSERVE_ROUTES, ...RESOURCE_ROUTES, ...PEOPLE_ROUTES, ...DEVICE_ROUTES, ...MCP_ROUTES] as const;
export type AnyRoute = (typeof ROUTES)[number];
