import { VERSION } from '../../functions/version.ts';
import { defineCommand } from '../core/command.ts';
import { cliError } from '../core/errors.ts';

export default defineCommand({
  description:
    'Serves Berth’s tools to an AI agent over the Model Context Protocol on stdin/stdout: deploy, status, releases, rollback, scale, logs, events, endpoints, volumes. ' +
    'Each tool call is a request to the API this CLI uses, with its token: the same role checks, audit and limits as any command. ' +
    'The selected org, project, app and env (flags, BERTH_* variables, saved selection) become the tools’ defaults. ' +
    'Run it from an MCP client’s configuration, not by hand; over HTTP, clients use <api>/v1/mcp with a bearer token instead.',
  requires: ['auth'],
  examples: ['berth mcp', 'claude mcp add berth -- npx berth mcp', 'BERTH_ORG=acme BERTH_ENV=prod berth mcp'],
  async handler(ctx) {
    if (!ctx.host.serveMcp) {
      throw cliError('invalid-input', 'mcp-needs-stdio', 'berth mcp serves on stdin/stdout, which only a process started by an MCP client has', [`connect the MCP client to ${ctx.api.baseUrl ?? '<api>'}/v1/mcp with a bearer token`]);
    }
    const baseUrl = ctx.api.baseUrl;
    if (!baseUrl) throw cliError('invalid-input', 'api-unknown', 'no Berth API is configured', ['npm start (embedded platform; the CLI then finds it)', 'export BERTH_API=<url>', 'berth login --api <url>']);
    // Loaded only here: `berth --help` and every other command stay free of the SDK.
    const [{ createMcpServer }, { fetchApi }] = await Promise.all([import('../../functions/mcp/server.ts'), import('../../functions/mcp/api-caller.ts')]);
    const defaults = Object.fromEntries(Object.entries(ctx.target).filter(([, value]) => value));
    const server = createMcpServer({ version: VERSION, defaults, api: fetchApi({ baseUrl, authorization: `Bearer ${ctx.settings.read().token}` }) });
    void ctx.host.interrupted.then(() => server.close());
    const selection = Object.entries(defaults).map(([k, v]) => `${k}=${v}`).join(' ');
    ctx.out.note(`berth mcp: serving tools for ${baseUrl}${selection ? ` (defaults: ${selection})` : ''} on stdio until the client closes it`);
    await ctx.host.serveMcp(server);
  },
});
