/**
 * The assistant tools (assistantTools.ts) in VS Code's agent mode: each name package.json's
 * `languageModelTools` declares is registered with vscode.lm.registerTool. They answer from the
 * editor's own profile (a recording or an opened profile becomes the heat in the editor), and
 * recording or tracing — which start the privileged helper — ask the user first
 * (prepareInvocation's confirmationMessages; VS Code shows them in the chat, or as a dialog
 * when a tool is invoked outside a chat).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PasswordPrompt } from '../capture';
import { fetchPprofEndpoint, parsePprofUrl } from '../capture/pprofEndpoint';
import type { ProfileSession } from '../ui/profileSession';
import { ASSISTANT_TOOLS, AssistantTools, type ToolInput, type ToolSpec, validateInput } from './assistantTools';
import { ingestEndpointInWorker, readProfileInWorker } from './ingestWorker';
import { endpointLabel } from './openPprofEndpoint';

export interface LanguageModelToolDeps {
  session: ProfileSession;
  askPassword: PasswordPrompt;
  cacheDir: string;
}

export function registerLanguageModelTools(deps: LanguageModelToolDeps): vscode.Disposable[] {
  const { session } = deps;
  const tools = new AssistantTools({
    // Agent mode profiles this machine (the process picker's remote host is not offered here).
    target: { kind: 'local' },
    askPassword: deps.askPassword,
    binaryCacheDir: deps.cacheDir,
    current: () => session.current && { profile: session.current.profile, label: session.current.label },
    setCurrent: (profile, label) => session.set({ profile, label }),
    open: async (source, binary, signal) => {
      if (/^https?:\/\//i.test(source)) {
        const url = parsePprofUrl(source);
        const fetched = await fetchPprofEndpoint(url, signal ? { signal } : {});
        return { profile: await ingestEndpointInWorker(fetched.bytes, url.href), label: endpointLabel(url) };
      }
      return readProfileInWorker(workspacePath(source), async () => binary);
    },
    localPath: (recorded) => session.view()?.resolve(recorded)?.path ?? recorded,
  });
  return ASSISTANT_TOOLS.map((spec) =>
    vscode.lm.registerTool<Record<string, unknown>>(spec.name, {
      prepareInvocation: (options) => prepareInvocation(spec, options.input),
      invoke: async (options, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        try {
          const answer = await tools.call(spec.name, options.input, { signal: abort.signal });
          return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(answer.text)]);
        } finally {
          sub.dispose();
        }
      },
    }),
  );
}

/** A relative path is taken from the first workspace folder (an assistant names files as the workspace shows them). */
function workspacePath(file: string): string {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return path.isAbsolute(file) || !root ? file : path.join(root, file);
}

/** What the chat shows while a tool runs and, before a privileged one, what the user is asked. */
export function prepareInvocation(spec: ToolSpec, raw: unknown): vscode.PreparedToolInvocation {
  let input: ToolInput;
  try {
    input = validateInput(spec, raw);
  } catch {
    // Bad arguments: invoke answers with the error and runs nothing, so there is nothing to confirm.
    return { invocationMessage: `${spec.title}…` };
  }
  const ask = spec.privileged?.(input);
  if (!ask) return { invocationMessage: `${spec.title}…` };
  return {
    invocationMessage: ask.running,
    // Plain text: the function name and numbers come from the model, never to be read as markdown.
    confirmationMessages: { title: ask.title, message: ask.message },
  };
}
