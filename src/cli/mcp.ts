/**
 * `go-perf-lens mcp`: a Model Context Protocol server on stdin/stdout for AI assistants (Claude,
 * Copilot, Cursor…): the tools of src/commands/assistantTools.ts — list Go processes, record
 * CPU, top functions, hot lines of a file, trace a function's latency, open a profile file or
 * pprof URL. Recording and tracing run the helper exactly as `go-perf-lens record` and `trace`
 * do (sudo -n, or as root); nothing can ask for a password here, so where sudo needs one the
 * answer says how to install the helper. stdout carries only the protocol; notes go to stderr.
 * The server ends when stdin closes.
 */
import * as path from 'node:path';
import { ASSISTANT_TOOLS, AssistantTools, inputSchema } from '../commands/assistantTools';
import type { Profile } from '../model/profile';
import { version } from '../../package.json';
import { UserError } from '../util/userError';
import { CallToolRequestSchema, ListToolsRequestSchema, Server, StdioServerTransport } from './mcpSdk';
import { isEndpoint, openInput } from './openInput';

const USAGE =
  'usage: go-perf-lens mcp   (a Model Context Protocol server on stdin/stdout; configure it in your MCP client as the command "go-perf-lens" with the argument "mcp")';

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (argv.length) throw new UserError(`unexpected argument "${argv[0]}"`, USAGE, 'usage');

  let current: { profile: Profile; label: string } | undefined;
  const tools = new AssistantTools({
    target: { kind: 'local' },
    current: () => current,
    setCurrent: (profile, label) => {
      current = { profile, label };
    },
    open: async (source, binary) => ({
      profile: await openInput(source, binary),
      label: isEndpoint(source) ? source : path.basename(source),
    }),
  });

  const server = new Server({ name: 'go-perf-lens', version }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: ASSISTANT_TOOLS.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: inputSchema(t),
      annotations: { title: t.title, readOnlyHint: !t.privileged, openWorldHint: t.name === 'goPerfLens_openProfile' },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    // A client that sent a progress token hears what a long tool does (and may keep waiting).
    const token = req.params._meta?.progressToken;
    let step = 0;
    const progress =
      token === undefined
        ? undefined
        : (message: string): void => {
            // MCP wants the figure to grow with each notification: the count of messages does.
            const params = { progressToken: token, progress: ++step, message };
            void extra.sendNotification({ method: 'notifications/progress', params }).catch(() => undefined);
          };
    const answer = await tools.call(req.params.name, req.params.arguments, { signal: extra.signal, progress });
    return { content: [{ type: 'text' as const, text: answer.text }], isError: answer.isError };
  });

  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.onclose = resolve;
  });
  // The SDK's transport does not watch for the end of stdin: the client is gone, so is the server.
  process.stdin.once('end', () => void server.close());
  await server.connect(transport);
  process.stderr.write(`go-perf-lens ${version}: MCP server ready on stdio (${ASSISTANT_TOOLS.length} tools)\n`);
  await closed;
  return 0;
}
