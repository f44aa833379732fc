/**
 * "Trace latency of this function" (from the tree, a code lens or the editor's context menu)
 * and the eBPF modes of "Profile Go process" (latency of chosen functions, goroutine
 * scheduling latency, syscalls). The tracing itself is goTracing.ts; this file finds the
 * function and the process, shows progress, and puts the results into the session.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PasswordPrompt, Target } from '../capture';
import { PROFILE_MODEL_VERSION, type Profile } from '../model/profile';
import type { UiConfig } from '../ui/config';
import { CodeKinds } from '../ui/codeKind';
import { enclosingFuncDecl, goFuncFullName, scanFuncDecls } from '../ui/funcDecl';
import { formatCount, formatDuration } from '../ui/format';
import type { FunctionNode } from '../ui/hotFunctionsTree';
import type { ProfileSession } from '../ui/profileSession';
import { findModules } from '../ui/profileSession';
import { UserError } from '../util/userError';
import { traceFunctions, traceSched, traceSyscalls } from './goTracing';
import { currentIdentity, identityMismatch, processName, sameProcess, savedIdentity, type ProcessIdentity } from './processIdentity';

export interface TraceDeps {
  session: ProfileSession;
  config: () => UiConfig;
  cacheDir: string;
  askPassword: PasswordPrompt;
  /** Lets the user pick a process when the loaded profile names none that still runs; `title` says what for. */
  pickPid: (title: string, placeholder?: string) => Promise<{ target: Target; pid: number } | undefined>;
  showLatencyPanel: () => void;
}

/** A profile that holds only eBPF results of one process (no CPU profile of it is loaded). */
export function emptyProfile(id: ProcessIdentity): Profile {
  const target: NonNullable<Profile['target']> = { pid: id.pid };
  if (id.host) target.host = id.host;
  if (id.startTicks !== undefined) target.startTicks = id.startTicks;
  const p: Profile = {
    version: PROFILE_MODEL_VERSION,
    source: 'ebpf',
    event: { name: 'none', unit: 'count', periodPerSample: 1 },
    target,
    durationNanos: 0,
    totalSamples: 0,
    lostSamples: 0,
    unattributedSamples: 0,
    functions: [],
    lines: [],
    callTree: { parents: [], functions: [], callLines: [], totalSamples: [], selfSamples: [] },
  };
  if (id.buildId) p.binary = { path: '', goBuildId: id.buildId };
  return p;
}

/** The Go runtime name of the function around the cursor: package path from go.mod + directory. */
export async function functionAtCursor(editor: vscode.TextEditor): Promise<string | undefined> {
  const doc = editor.document;
  const text = doc.getText();
  const decl = enclosingFuncDecl(scanFuncDecls(text), editor.selection.active.line + 1);
  if (!decl) return undefined;
  const pkgName = /^package\s+(\w+)/m.exec(text)?.[1];
  if (!pkgName) return undefined;
  if (pkgName === 'main') return goFuncFullName('main', decl);
  const dir = path.dirname(doc.uri.fsPath);
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const mod = (await findModules(folders))
    .filter((m) => dir === m.folder || dir.startsWith(m.folder + path.sep))
    .sort((a, b) => b.folder.length - a.folder.length)[0];
  if (!mod) return goFuncFullName(pkgName, decl);
  const rel = path.relative(mod.folder, dir).split(path.sep).join('/');
  return goFuncFullName(rel ? `${mod.modulePath}/${rel}` : mod.modulePath, decl);
}

interface TraceTarget {
  target: Target;
  pid: number;
  /** The loaded profile's process, which the tracer checks again before attaching. */
  expect?: { startTicks?: number; buildId?: string };
}

/**
 * The process to trace: the loaded profile's, while that very process runs — the same start time
 * and build id, read here or by the helper on the profile's ssh host; else the user picks one, in a
 * picker titled for `purpose` that says why it asks.
 */
async function processFor(deps: TraceDeps, purpose: string): Promise<TraceTarget | undefined> {
  const profile = deps.session.current?.profile;
  const saved = profile && savedIdentity(profile);
  let why: string | undefined;
  if (saved) {
    const python = deps.config().pythonPath || undefined;
    // The host came from a file (the loaded profile): never connect to it, nor let its sudo ask
    // for a password, without the user saying so.
    if (saved.host && !(await confirmHostFromFile(saved.host))) return undefined;
    const target: Target = saved.host ? { kind: 'ssh', host: saved.host, python } : { kind: 'local', python };
    why = identityMismatch(saved, await currentIdentity(target, saved.pid, { askPassword: deps.askPassword }));
    if (!why) return { target, pid: saved.pid, expect: { startTicks: saved.startTicks, buildId: saved.buildId } };
  }
  return deps.pickPid(purpose, why && `${why}: pick the process to trace (its results get a profile of their own)`);
}

/** Asks before connecting to a host named by a profile file (not by the user or their settings). */
async function confirmHostFromFile(host: string): Promise<boolean> {
  const go = `Connect to ${host}`;
  const pick = await vscode.window.showWarningMessage(
    `Go Perf Lens: the loaded profile was recorded on "${host}". Connect to ${host} over ssh to trace its process?`,
    {
      modal: true,
      detail:
        'The host name comes from the profile file, not from you or your settings. Continue only if you trust that host: its sudo may ask for your password, and the prompt will name it.',
    },
    go,
  );
  return pick === go;
}

/** Identity of a traced process: its start time and build id, as the trace read them. */
function identityOf(target: Target, pid: number, traced: { startTicks?: number; buildId?: string }): ProcessIdentity {
  const id: ProcessIdentity = { pid };
  if (target.kind === 'ssh') id.host = target.host;
  if (traced.startTicks !== undefined) id.startTicks = traced.startTicks;
  if (traced.buildId) id.buildId = traced.buildId;
  return id;
}

/**
 * Makes the loaded profile one of the process `id` measured: the current one when it is of that
 * process, else a new profile of that process (the other stays in Switch profile…), never a merge.
 */
function profileOf(deps: TraceDeps, id: ProcessIdentity, what: string): void {
  const cur = deps.session.current;
  if (cur && sameProcess(cur.profile, id)) return;
  deps.session.set({ profile: emptyProfile(id), label: processName(id) });
  if (cur) {
    void vscode.window.showInformationMessage(
      `Go Perf Lens: ${what} of ${processName(id)} is shown as a profile of its own — the loaded profile (${cur.label}) is of another process. "Switch profile…" brings it back.`,
    );
  }
}

async function withTraceProgress<T>(
  title: string,
  durationSec: number,
  run: (signal: AbortSignal, attached: () => void) => Promise<T>,
): Promise<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
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
    },
  );
}

/** Traces the given functions in `pid` and adds their latency to the session. */
export async function traceFunctionsInto(
  deps: TraceDeps,
  target: Target,
  pid: number,
  names: string[],
  durationSec = deps.config().durationSec,
  expect?: TraceTarget['expect'],
): Promise<void> {
  const result = await withTraceProgress(
    `Tracing ${names.length === 1 ? names[0] : `${names.length} functions`} in PID ${pid}`,
    durationSec,
    (signal, attached) =>
      traceFunctions({
        target,
        pid,
        durationSec,
        signal,
        askPassword: deps.askPassword,
        binaryCacheDir: deps.cacheDir,
        functions: names,
        onAttached: attached,
        expect,
      }),
  );
  profileOf(deps, identityOf(target, pid, result), 'the latency');
  deps.session.addLatency(result.latency);
  const summary = result.latency
    .map((l) => `${l.function}: ${formatCount(l.calls)} calls, p50 ${formatDuration(l.p50Nanos)}, p99 ${formatDuration(l.p99Nanos)}`)
    .join('; ');
  void vscode.window.setStatusBarMessage(`Go Perf Lens: ${summary}`, 10000);
}

export async function traceFunctionCommand(deps: TraceDeps, arg?: FunctionNode | string): Promise<void> {
  let name: string | undefined;
  if (typeof arg === 'string') name = arg;
  else if (arg && typeof arg === 'object' && 'name' in arg) name = arg.name;
  else if (vscode.window.activeTextEditor?.document.languageId === 'go') name = await functionAtCursor(vscode.window.activeTextEditor);
  if (!name)
    throw new UserError(
      'there is no Go function here to trace',
      'put the cursor inside a func, or use the Hot functions tree',
      'no-function',
    );
  refuseRuntime(name);
  const proc = await processFor(deps, `Trace latency of ${name} — which process?`);
  if (!proc) return;
  await traceFunctionsInto(deps, proc.target, proc.pid, [name], undefined, proc.expect);
}

/** The runtime's internals (findObject, mallocgc, the scheduler) are not traced: see the message. */
function refuseRuntime(name: string): void {
  if (new CodeKinds([]).kindOf(name) !== 'runtime') return;
  throw new UserError(
    `${name} is part of the Go runtime: its calls run on the scheduler's and the garbage collector's own stacks, up to millions of times a second, where they cannot be paired by goroutine (and probing them slows the program down)`,
    'trace the function of yours that leads to it (the Hot functions tree’s callers view shows which)',
    'runtime-function',
  );
}

/** "Trace again…" on a traced function's code lens: the same function, for a duration chosen now. */
export async function traceAgainCommand(deps: TraceDeps, name: string): Promise<void> {
  refuseRuntime(name);
  const dflt = deps.config().durationSec;
  const items = [...new Set([dflt, 5, 10, 30])].map((sec) => ({
    label: `${sec} s`,
    description: sec === dflt ? 'goPerfLens.duration' : '',
    sec,
  }));
  const pick = await vscode.window.showQuickPick(items, {
    title: `Trace ${name} again — for how long?`,
    placeHolder: 'The calls in this window replace the last trace of it',
  });
  if (!pick) return;
  const proc = await processFor(deps, `Trace latency of ${name} again — which process?`);
  if (!proc) return;
  await traceFunctionsInto(deps, proc.target, proc.pid, [name], pick.sec, proc.expect);
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
    const r = await withTraceProgress(`Goroutine scheduling latency of PID ${pid}`, durationSec, (signal, attached) =>
      traceSched({ ...opts, signal, onAttached: attached }),
    );
    profileOf(deps, identityOf(target, pid, r), 'goroutine scheduling latency');
    deps.session.setSchedAndSyscalls(r.sched, undefined);
  } else {
    const r = await withTraceProgress(`Syscalls of PID ${pid}`, durationSec, (signal, attached) =>
      traceSyscalls({ ...opts, signal, onAttached: attached, stacks: true }),
    );
    profileOf(deps, identityOf(target, pid, r), 'the syscalls');
    deps.session.setSchedAndSyscalls(undefined, r.syscalls);
  }
  deps.showLatencyPanel();
}

/** Functions to trace: the loaded profile's hottest, or names typed in Go's form. */
async function chooseFunctions(deps: TraceDeps): Promise<string[] | undefined> {
  const view = deps.session.view();
  const hot = view
    ? view.graph
        .hottest()
        .slice(0, 50)
        .map((i) => view.profile.functions[i]!.name)
        .filter((n) => !n.startsWith('runtime.'))
    : [];
  const qp = vscode.window.createQuickPick<vscode.QuickPickItem>();
  qp.title = 'Latency of chosen functions';
  qp.placeholder = 'Pick functions, or type a name as Go prints it (main.handler, example.com/x.(*T).M) and press Enter';
  qp.canSelectMany = true;
  const base = hot.map((n) => ({ label: n }));
  qp.items = base;
  qp.onDidChangeValue((v) => {
    const typed = v.trim();
    qp.items =
      typed && !hot.includes(typed) && /^[\w./()*\-[\]]+\.[\w[\]]+$/.test(typed)
        ? [{ label: typed, description: 'typed', alwaysShow: true }, ...base]
        : base;
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
