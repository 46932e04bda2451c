import type { FlagDefs } from './command.ts';

/** Flags every command accepts. Their short letters are taken everywhere (see cli/core/flags.ts). */
export const GLOBAL_FLAGS = {
  json: { type: 'boolean', description: 'Print JSON only (errors too); no colour, no progress' },
  help: { type: 'boolean', short: 'h', description: 'Show help for the command' },
  org: { type: 'string', valueName: 'name', description: 'Org (default: BERTH_ORG or the saved selection)' },
  project: { type: 'string', valueName: 'name', description: 'Project (default: BERTH_PROJECT or the saved selection)' },
  app: { type: 'string', valueName: 'name', description: 'App (default: BERTH_APP, the saved selection, or `app` in berth.yaml)' },
  env: { type: 'string', short: 'e', valueName: 'name', description: 'Env (default: BERTH_ENV or the saved selection)' },
  api: { type: 'string', valueName: 'url', description: 'API URL (default: BERTH_API, the saved login, or the embedded platform)' },
} as const satisfies FlagDefs;

export type GlobalFlags = typeof GLOBAL_FLAGS;
