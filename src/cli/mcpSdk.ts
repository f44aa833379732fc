/**
 * The parts of the MCP SDK that `go-perf-lens mcp` uses. Bundled on its own (dist/mcpSdk.js,
 * scripts/build.mjs): the SDK and zod are most of a megabyte, which every other command would
 * otherwise load with the CLI's bundle.
 */
export { Server } from '@modelcontextprotocol/sdk/server/index.js';
export { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
export { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
