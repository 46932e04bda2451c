// The MCP server both transports run: `tools/list` from the tool table (JSON Schema generated from
// the contract's zod schemas), `tools/call` as one API call. It uses the SDK's low-level `Server`
// rather than `McpServer`: McpServer validates arguments itself and answers a bad one with a
// plain-text message, while an agent here gets the same error envelope every Berth client gets
// (category, code, message, details, next) as the tool result's structured content.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ErrorBody } from '../core/errors.ts';
import type { EnvRef } from '../core/ports.ts';
import type { ApiCaller } from './api-caller.ts';
import { mcpTools, type McpTool } from './tools.ts';

export interface McpServerOptions {
  /** How tool calls reach the API, with whose token. */
  api: ApiCaller;
  version: string;
  /** Defaults for the env arguments (the CLI's selection, or the token's org). */
  defaults?: Partial<EnvRef>;
}

const INSTRUCTIONS =
  'Berth deploys apps: org > project > app > env. Every mutation (deploy, rollback, scale) answers at once with a receipt ' +
  'and the work continues in the background: call events with the receipt\'s operationId until an operation.succeeded or ' +
  'operation.failed event, then status (desired beside current). Errors carry a category, a code, a message and next ' +
  'steps (berth CLI commands a person can run). Tools act with the token this server was given, within its role.';

// Tool definitions are deterministic: built once per set of defaults, not per request.
const definitions = new Map<string, { tools: McpTool[]; listed: Tool[] }>();

function toolTable(defaults: Partial<EnvRef>): { tools: McpTool[]; listed: Tool[] } {
  const key = JSON.stringify(defaults);
  let found = definitions.get(key);
  if (!found) {
    const tools = mcpTools(defaults);
    const listed = tools.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      // `input`: what a caller may send (defaults make a field optional), as JSON Schema 2020-12.
      inputSchema: z.toJSONSchema(t.input, { io: 'input' }) as Tool['inputSchema'],
      annotations: { title: t.title, ...t.annotations },
    }));
    found = { tools, listed };
    definitions.set(key, found);
  }
  return found;
}

export function createMcpServer(options: McpServerOptions): Server {
  const { tools, listed } = toolTable(options.defaults ?? {});
  const server = new Server({ name: 'berth', title: 'Berth', version: options.version }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listed }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = tools.find((t) => t.name === request.params.name);
    // An unknown tool is a protocol error (MCP: tools/call), not a tool result.
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `no tool named ${JSON.stringify(request.params.name)}; the tools are ${tools.map((t) => t.name).join(', ')}`);
    return callTool(tool, request.params.arguments ?? {}, options.api);
  });
  return server;
}

export async function callTool(tool: McpTool, args: Record<string, unknown>, api: ApiCaller): Promise<CallToolResult> {
  const parsed = tool.input.safeParse(args);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message, in: 'arguments' }));
    return toolError({
      category: 'invalid-input',
      code: 'request-invalid',
      message: `the arguments of ${tool.name} are not valid: ${details.map((d) => `${d.path || '(root)'}: ${d.message}`).join('; ')}`,
      details,
      next: [`see the inputSchema of ${tool.name} in tools/list`],
    });
  }
  const answer = await api(tool.request(parsed.data));
  if (!answer.ok) return toolError(answer.error);
  // MCP: a tool with structured content should repeat it as text, for clients that read only text.
  const texts = tool.render ? [tool.render(answer.body)] : [tool.summary?.(answer.body), JSON.stringify(answer.body)].filter((t): t is string => Boolean(t));
  return { content: texts.map((text) => ({ type: 'text', text })), structuredContent: answer.body };
}

function toolError(error: ErrorBody): CallToolResult {
  const next = error.next?.length ? `\nNext:\n${error.next.map((n) => `  ${n}`).join('\n')}` : '';
  return {
    isError: true,
    content: [{ type: 'text', text: `Error (${error.category}/${error.code}): ${error.message}${next}` }],
    structuredContent: { error: { ...error, next: error.next ?? [] } },
  };
}
