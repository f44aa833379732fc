/**
 * "Trace latency of this function" (from the tree, a code lens or the editor's context menu)
 * and the eBPF modes of "Profile Go process" (latency of chosen functions, goroutine
 * scheduling latency, syscalls). The tracing itself is goTracing.ts; this file finds the
 * function and the process, shows progress, and puts the results into the session.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PasswordPrompt, Target } from '../capture';
import { PROFILE_MODEL_VERSION, type Profile } from '../model/profile';
import type { UiConfig } from '../ui/config';
import { enclosingFuncDecl, goFuncFullName, scanFuncDecls } from '../ui/funcDecl';
import { formatCount, formatDuration } from '../ui/format';
import type { FunctionNode } from '../ui/hotFunctionsTree';
import type { ProfileSession } from '../ui/profileSession';
import { findModules } from '../ui/profileSession';
import { UserError } from '../util/userError';
import { traceFunctions, traceSched, traceSyscalls } from './goTracing';

export interface TraceDeps {
  session: ProfileSession;
  config: () => UiConfig;
  cacheDir: string;
  askPassword: PasswordPrompt;
  /** Lets the user pick a process when the loaded profile names none that still runs. */
  pickPid: () => Promise<{ target: Target; pid: number } | undefined>;
  showLatencyPanel: () => void;
}

/** A profile that holds only eBPF results, for tracing before any CPU profile was taken. */
export function emptyProfile(pid: number, host?: string): Profile {
  return {
    version: PROFILE_MODEL_VERSION,
    source: 'ebpf',
    event: { name: 'none', unit: 'count', periodPerSample: 1 },
    target: host ? { pid, host } : { pid },
    durationNanos: 0,
    totalSamples: 0,
    lostSamples: 0,
    unattributedSamples: 0,
    functions: [],
    lines: [],
    callTree: { parents: [], functions: [], callLines: [], totalSamples: [], selfSamples: [] },
  };
}

/** The Go runtime name of the function around the cursor: package path from go.mod + directory. */
export function functionAtCursor(editor: vscode.TextEditor): string | undefined {
  const doc = editor.document;
  const text = doc.getText();
  const decl = enclosingFuncDecl(scanFuncDecls(text), editor.selection.active.line + 1);
  if (!decl) return undefined;
  const pkgName = /^package\s+(\w+)/m.exec(text)?.[1];
  if (!pkgName) return undefined;
  if (pkgName === 'main') return goFuncFullName('main', decl);
  const dir = path.dirname(doc.uri.fsPath);
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const mod = findModules(folders)
    .filter((m) => dir === m.folder || dir.startsWith(m.folder + path.sep))
    .sort((a, b) => b.folder.length - a.folder.length)[0];
  if (!mod) return goFuncFullName(pkgName, decl);
  const rel = path.relative(mod.folder, dir).split(path.sep).join('/');
  return goFuncFullName(rel ? `${mod.modulePath}/${rel}` : mod.modulePath, decl);
}

async function processFor(deps: TraceDeps): Promise<{ target: Target; pid: number } | undefined> {
  const t = deps.session.current?.profile.target;
  if (t?.pid !== undefined) {
    const python = deps.config().pythonPath || undefined;
    if (t.host) return { target: { kind: 'ssh', host: t.host, python }, pid: t.pid };
    if (fs.existsSync(`/proc/${t.pid}`)) return { target: { kind: 'local', python }, pid: t.pid };
  }
  return deps.pickPid();
}

function ensureProfile(deps: TraceDeps, pid: number, target: Target): void {
  if (!deps.session.current) {
    deps.session.set({ profile: emptyProfile(pid, target.kind === 'ssh' ? target.host : undefined), label: `PID ${pid}${target.kind === 'ssh' ? ` on ${target.host}` : ''}` });
  }
}

async function withTraceProgress<T>(title: string, durationSec: number, run: (signal: AbortSignal, attached: () => void) => Promise<T>): Promise<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    progress.report({ message: 'attaching probes…' });
    let timer: NodeJS.Timeout | undefined;
    const attached = (): void => {
      const started = Date.now();
      const tick = (): void => {
        const left = Math.max(0, durationSec - (Date.now() - started) / 1000);
        progress.report({ message: left > 0 ? `${Math.ceil(left)} s left` : 'collecting…' });
      };
      tick();
      timer = setInterval(tick, 1000);
    };
    try {
      return await run(abort.signal, attached);
    } finally {
      clearInterval(timer);
    }
  });
}

/** Traces the given functions in `pid` and adds their latency to the session. */
export async function traceFunctionsInto(deps: TraceDeps, target: Target, pid: number, names: string[]): Promise<void> {
  const durationSec = deps.config().durationSec;
  const result = await withTraceProgress(`Tracing ${names.length === 1 ? names[0] : `${names.length} functions`} in PID ${pid}`, durationSec, (signal, attached) =>
    traceFunctions({ target, pid, durationSec, signal, askPassword: deps.askPassword, binaryCacheDir: deps.cacheDir, functions: names, onAttached: attached }),
  );
  ensureProfile(deps, pid, target);
  deps.session.addLatency(result.latency);
  const summary = result.latency.map((l) => `${l.function}: ${formatCount(l.calls)} calls, p50 ${formatDuration(l.p50Nanos)}, p99 ${formatDuration(l.p99Nanos)}`).join('; ');
  void vscode.window.setStatusBarMessage(`Go Perf Lens: ${summary}`, 10000);
}

export async function traceFunctionCommand(deps: TraceDeps, arg?: FunctionNode | string): Promise<void> {
  let name: string | undefined;
  if (typeof arg === 'string') name = arg;
  else if (arg && typeof arg === 'object' && 'name' in arg) name = arg.name;
  else if (vscode.window.activeTextEditor?.document.languageId === 'go') name = functionAtCursor(vscode.window.activeTextEditor);
  if (!name) throw new UserError('there is no Go function here to trace', 'put the cursor inside a func, or use the Hot functions tree', 'no-function');
  const proc = await processFor(deps);
  if (!proc) return;
  await traceFunctionsInto(deps, proc.target, proc.pid, [name]);
}

/** The eBPF modes of "Profile Go process". */
export async function runTraceMode(deps: TraceDeps, target: Target, pid: number, mode: 'latency' | 'sched' | 'syscalls'): Promise<void> {
  const durationSec = deps.config().durationSec;
  if (mode === 'latency') {
    const names = await chooseFunctions(deps);
    if (!names?.length) return;
    await traceFunctionsInto(deps, target, pid, names);
    deps.showLatencyPanel();
    return;
  }
  const opts = { target, pid, durationSec, askPassword: deps.askPassword, binaryCacheDir: deps.cacheDir };
  if (mode === 'sched') {
    const r = await withTraceProgress(`Goroutine scheduling latency of PID ${pid}`, durationSec, (signal, attached) => traceSched({ ...opts, signal, onAttached: attached }));
    ensureProfile(deps, pid, target);
    deps.session.setSchedAndSyscalls(r.sched, undefined);
  } else {
    const r = await withTraceProgress(`Syscalls of PID ${pid}`, durationSec, (signal, attached) => traceSyscalls({ ...opts, signal, onAttached: attached, stacks: true }));
    ensureProfile(deps, pid, target);
    deps.session.setSchedAndSyscalls(undefined, r.syscalls);
  }
  deps.showLatencyPanel();
}

/** Functions to trace: the loaded profile's hottest, or names typed in Go's form. */
async function chooseFunctions(deps: TraceDeps): Promise<string[] | undefined> {
  const view = deps.session.view();
  const hot = view ? view.graph.hottest().slice(0, 50).map((i) => view.profile.functions[i]!.name).filter((n) => !n.startsWith('runtime.')) : [];
  const qp = vscode.window.createQuickPick<vscode.QuickPickItem>();
  qp.title = 'Latency of chosen functions';
  qp.placeholder = 'Pick functions, or type a name as Go prints it (main.handler, example.com/x.(*T).M) and press Enter';
  qp.canSelectMany = true;
  const base = hot.map((n) => ({ label: n }));
  qp.items = base;
  qp.onDidChangeValue((v) => {
    const typed = v.trim();
    qp.items = typed && !hot.includes(typed) && /^[\w./()*\-[\]]+\.[\w[\]]+$/.test(typed) ? [{ label: typed, description: 'typed', alwaysShow: true }, ...base] : base;
  });
  const picked = new Promise<string[] | undefined>((resolve) => {
    qp.onDidAccept(() => {
      const sel = qp.selectedItems.map((i) => i.label);
      const typed = qp.value.trim();
      resolve(sel.length ? sel : typed ? [typed] : undefined);
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
  });
  qp.show();
  try {
    return await picked;
  } finally {
    qp.dispose();
  }
}
