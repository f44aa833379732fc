/**
 * The eBPF tracers end to end, for the CLI and the extension (no vscode here): read the
 * target's executable, plan the probes on this side (names → addresses, RETs, g field offsets;
 * on the ingest worker, see traceTarget.ts), run the helper's `trace` / `sched` / `syscalls`
 * subcommand, and turn its results into the model (named on the worker too). The helper only
 * loads, attaches, counts and detaches.
 */
import { type HelperProcess, type PasswordPrompt, type Target, buildIdArgs, runHelper } from '../capture';
import type { HelperMessage } from '../capture/helperProtocol';
import {
  toFunctionLatencies,
  toSyscallStats,
  type WireSchedResult,
  type WireSyscallsResult,
  type WireTraceResult,
} from '../ingest/ebpfResults';
import type { FunctionLatency, SchedLatency, SyscallStat } from '../model/profile';
import type { TracePlan } from '../symbolize/goTracePlan';
import { UserError } from '../util/userError';
import { HeatTargetInWorker, TraceTargetInWorker } from './ingestWorker';
import { identityMismatch, type ProcessIdentity } from './processIdentity';
import { readTargetExecutable } from './targetBinary';

export interface AttachedInfo {
  probes: number;
  /** From the helper's start of compilation to the last probe attached. */
  attachMs: number;
  compileMs: number;
}

export interface TracingOptions {
  target: Target;
  pid: number;
  durationSec: number;
  signal?: AbortSignal;
  askPassword?: PasswordPrompt;
  /** The probes are live. */
  onAttached?: (info: AttachedInfo) => void;
  /** Every helper message (partial results each second, warnings...). */
  onMessage?: (m: HelperMessage) => void;
  /** The helper client, e.g. to stop() early and still get the results so far. */
  onStart?: (client: HelperProcess) => void;
  /** Where remote binaries are cached; default ~/.cache/go-perf-lens/binaries. */
  binaryCacheDir?: string;
  /**
   * The process the caller means (a loaded profile's): its start time and build id. A PID that now
   * names another process, or runs another program, is refused before anything is attached.
   */
  expect?: { startTicks?: number; buildId?: string };
}

/**
 * The target's executable, opened on the ingest worker (its ELF is parsed and planned from there,
 * off this thread), checked against `opts.expect`: the start time read with the executable, then
 * the build id the worker found in it.
 */
async function openTarget(opts: TracingOptions): Promise<TraceTargetInWorker> {
  const exe = await readTargetExecutable(opts.target, opts.pid, opts);
  const expected: ProcessIdentity = { pid: opts.pid, ...opts.expect };
  if (opts.target.kind === 'ssh') expected.host = opts.target.host;
  const reused = identityMismatch(expected, { pid: opts.pid, startTicks: exe.startTicks });
  if (reused) throw new UserError(reused, 'pick the process again', 'pid-reused');
  const bin = await TraceTargetInWorker.open(exe, opts.pid);
  const changed = identityMismatch(expected, { pid: opts.pid, buildId: buildIdOf(bin) });
  if (changed) {
    bin.dispose();
    throw new UserError(changed, 'pick the process again', 'binary-changed');
  }
  return bin;
}

/** The helper's own check, as it starts, that the PID still names the process read (or expected): its start time. */
export function startTicksArg(opts: TracingOptions, bin?: { startTicks: number | undefined }): { startTicks?: number } {
  const ticks = opts.expect?.startTicks ?? bin?.startTicks;
  return ticks === undefined ? {} : { startTicks: ticks };
}

/** The target's executable for the allocation and blocking recordings, opened on the ingest worker (heatTarget.ts there). */
export async function openHeatTarget(opts: TracingOptions): Promise<HeatTargetInWorker> {
  return HeatTargetInWorker.open(await readTargetExecutable(opts.target, opts.pid, opts), opts.pid);
}

function forward(opts: TracingOptions) {
  return (m: HelperMessage): void => {
    if (m.type === 'progress' && m.phase === 'attached') {
      opts.onAttached?.({ probes: Number(m.probes), attachMs: Number(m.attachMs), compileMs: Number(m.compileMs) });
    }
    opts.onMessage?.(m);
  };
}

/** runHelper's options for an eBPF recording: its signal and password prompt, its messages passed on (attached → onAttached). */
export function runOpts(opts: TracingOptions) {
  return { signal: opts.signal, askPassword: opts.askPassword, onMessage: forward(opts), onStart: opts.onStart };
}

/** The build id of the executable traced (Go's, else GNU's): which program a result measured. */
function buildIdOf(bin: TraceTargetInWorker): string | undefined {
  return bin.buildIds.goBuildId ?? bin.buildIds.gnuBuildId;
}

export interface FunctionTraceResult {
  /** The traced executable's build id. */
  buildId?: string;
  /** The traced process's start time (clock ticks after boot), read where it runs. */
  startTicks?: number;
  plan: TracePlan;
  latency: FunctionLatency[];
  wire: WireTraceResult;
}

/** Per-call latency of Go functions named as Go names them (go_func_cycles). */
export async function traceFunctions(
  opts: TracingOptions & { functions: string[]; onPlan?: (plan: TracePlan) => void },
): Promise<FunctionTraceResult> {
  if (opts.functions.length === 0) throw new UserError('name at least one function to trace', 'e.g. --func main.handle', 'usage');
  const bin = await openTarget(opts);
  let plan: TracePlan;
  try {
    plan = await bin.plan(opts.functions);
  } finally {
    bin.dispose(); // the latency needs nothing more of the executable
  }
  opts.onPlan?.(plan);
  const functions = plan.functions.map((f) => ({ name: f.name, entry: Number(f.entry), rets: f.rets.map(Number) }));
  const run = await runHelper<WireTraceResult>(
    opts.target,
    'trace',
    { pid: opts.pid, duration: opts.durationSec, functions, ...buildIdArgs(bin.buildIds), ...startTicksArg(opts, bin) },
    runOpts(opts),
  );
  const wire = run.result;
  return { plan, wire, latency: toFunctionLatencies(wire), buildId: buildIdOf(bin), startTicks: bin.startTicks };
}

export interface SchedTraceResult {
  buildId?: string;
  startTicks?: number;
  sched: SchedLatency;
  wire: WireSchedResult;
  goidOffsetSource: 'dwarf' | 'table';
}

/** How long runnable goroutines wait to run (go_goroutine_latency). */
export async function traceSched(opts: TracingOptions): Promise<SchedTraceResult> {
  const bin = await openTarget(opts);
  try {
    const { casgstatus, goidOffset, goidOffsetSource, gopcOffset, startpcOffset } = await bin.schedProbes();
    const args: Record<string, unknown> = {
      pid: opts.pid,
      duration: opts.durationSec,
      casgstatus,
      goidOffset,
      ...buildIdArgs(bin.buildIds),
      ...startTicksArg(opts, bin),
    };
    // Where each worst-waiting goroutine was created (its `go` statement) and what it runs: from DWARF only.
    if (gopcOffset !== undefined) args.gopcOffset = gopcOffset;
    if (startpcOffset !== undefined) args.startpcOffset = startpcOffset;
    const run = await runHelper<WireSchedResult>(opts.target, 'sched', args, runOpts(opts));
    return {
      sched: await bin.schedLatency(run.result),
      wire: run.result,
      goidOffsetSource,
      buildId: buildIdOf(bin),
      startTicks: bin.startTicks,
    };
  } finally {
    bin.dispose();
  }
}

export interface SyscallTraceResult {
  /** Known when the binary was read (with `stacks`). */
  buildId?: string;
  startTicks?: number;
  syscalls: SyscallStat[];
  wire: WireSyscallsResult;
}

/** Per-syscall counts, time and latency, with the top Go call sites when `stacks` (go_syscall_breakdown). */
export async function traceSyscalls(opts: TracingOptions & { stacks?: boolean }): Promise<SyscallTraceResult> {
  const args: Record<string, unknown> = { pid: opts.pid, duration: opts.durationSec, ...startTicksArg(opts) };
  if (opts.stacks) args.stacks = true;
  // The binary is only needed to name the call sites afterwards: open it while the helper runs —
  // unless a build id is expected, which is checked before anything is attached.
  const opened = opts.expect?.buildId ? await openTarget(opts) : undefined;
  const opening = opened || !opts.stacks ? Promise.resolve(opened) : openTarget(opts).catch(() => undefined);
  try {
    const run = await runHelper<WireSyscallsResult>(opts.target, 'syscalls', args, runOpts(opts));
    const bin = await opening;
    const syscalls = bin && opts.stacks ? await bin.syscallStats(run.result) : toSyscallStats(run.result);
    return { wire: run.result, syscalls, buildId: bin && buildIdOf(bin), startTicks: opts.expect?.startTicks ?? bin?.startTicks };
  } finally {
    void opening.then((bin) => bin?.dispose());
  }
}
