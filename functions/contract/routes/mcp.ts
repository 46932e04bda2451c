// `/v1/mcp`: the Model Context Protocol over streamable HTTP (stateless, JSON responses).
import { z } from 'zod';
import { defineRoute } from '../route-def.ts';

export const JsonRpcMessage = z.looseObject({ jsonrpc: z.literal('2.0') }).describe('A JSON-RPC 2.0 message of the Model Context Protocol (initialize, tools/list, tools/call, …)');

export const callMcp = defineRoute({
  operationId: 'callMcp', method: 'post', path: '/mcp', tag: 'mcp', permission: 'authenticated',
  summary: 'Model Context Protocol, streamable HTTP (stateless, JSON responses): deploy, status, releases, rollback, scale, logs, events, endpoints, volumes as tools, each an API call made with your token',
  body: z.union([JsonRpcMessage, z.array(JsonRpcMessage).min(1)]), requestExample: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
  errors: [405],
  responses: {
    200: { description: 'The JSON-RPC response (or responses, for a batch)', schema: z.union([JsonRpcMessage, z.array(JsonRpcMessage)]) },
    202: { description: 'Accepted: only notifications were sent, there is no body' },
  },
});

export const MCP_ROUTES = [callMcp] as const;
