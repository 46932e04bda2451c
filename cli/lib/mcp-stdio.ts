// `berth mcp` on Node: the MCP server on this process's stdin/stdout (newline-delimited JSON-RPC).
// stdout belongs to the protocol from here on; anything for people goes to stderr.
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

/** Serves until the client closes stdin (or the server is closed); then resolves. */
export async function serveOverStdio(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    server.onclose = resolve;
  });
  // The transport does not watch for the end of stdin, and a process left waiting on nothing would
  // end with "unsettled top-level await" instead of exit code 0.
  process.stdin.once('end', () => void server.close());
  await server.connect(new StdioServerTransport());
  await closed;
}
