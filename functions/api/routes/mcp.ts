// `/v1/mcp`: the MCP tools over streamable HTTP. Stateless, with JSON responses (no SSE): every
// POST carries its whole exchange, so it works the same behind API Gateway (which buffers) and
// on any number of Lambda containers. Each tool call is a request to this very app, in-process,
// with the caller's own Authorization header: the tool meets the same auth, role check, audit
// and limits as a request from the CLI. This route itself only needs a valid token.
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { z } from 'zod';
import { BerthError } from '../../core/errors.ts';
import { fetchApi } from '../../mcp/api-caller.ts';
import { createMcpServer } from '../../mcp/server.ts';
import type { Api } from '../app.ts';
import * as R from '../../contract/routes/index.ts';
import { register } from '../route.ts';

export const MCP_PATH = '/mcp';

const JsonRpcMessage = z.looseObject({ jsonrpc: z.literal('2.0') }).describe('A JSON-RPC 2.0 message of the Model Context Protocol (initialize, tools/list, tools/call, …)');

export interface McpRouteOptions {
  version: string;
  /** The app's own fetch: tool calls go through every middleware, as a client's request would. */
  dispatch(request: Request, env: unknown): Response | Promise<Response>;
}

export function registerMcpRoutes(api: Api, options: McpRouteOptions): void {
  register(api, R.callMcp, async (c) => {
      const token = c.get('token');
      const server = createMcpServer({
        version: options.version,
        defaults: token.org ? { org: token.org } : {},
        api: fetchApi({
          baseUrl: new URL(c.req.url).origin,
          authorization: c.req.header('authorization'),
          // c.env carries the socket (embedded) or the Lambda event: the source ip the audit and
          // the per-ip limits see stays the agent's.
          fetch: async (input, init) => options.dispatch(new Request(input, init), c.env),
        }),
      });
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await server.connect(transport);
      try {
        // The body was read (and checked to be JSON-RPC) by the route's validator already.
        return (await transport.handleRequest(c.req.raw, { parsedBody: c.req.valid('json') })) as never;
      } finally {
        await server.close();
      }
    },
  );

  // Streamable HTTP's GET (a server-to-client stream) and DELETE (end a session) mean nothing to a
  // stateless server; the spec's answer is 405, which clients take as "not offered".
  api.on(['GET', 'DELETE'], MCP_PATH, (c) => {
    const e = new BerthError('invalid-input', 'method-not-allowed', `${c.req.method} ${MCP_PATH} is not offered: this MCP endpoint is stateless; send every message with POST`, { httpStatus: 405 });
    c.header('allow', 'POST');
    return c.json({ error: e.toBody() }, 405);
  });
}
