/**
 * The eBPF tracers end to end, for the CLI and the extension (no vscode here): read the
 * target's binary, plan the probes on this side (names → addresses, RETs, g field offsets),
 * run the helper's `trace` / `sched` / `syscalls` subcommand, and turn its results into the
 * model. The helper only loads, attaches, counts and detaches.
 */
import { type HelperClient, type PasswordPrompt, type Target, buildIdArgs, runHelper } from '../capture';
import type { HelperMessage } from '../capture/helperProtocol';
import { type ElfFile, parseElf } from '../formats/elf';
import {
  toFunctionLatencies,
  toSchedLatency,
  type GoroutineOrigin,
  type GoroutineOriginPcs,
  toSyscallStats,
  type WireSchedResult,
  type WireSyscallsResult,
  type WireTraceResult,
} from '../ingest/ebpfResults';
import type { FunctionLatency, SchedLatency, SyscallStat } from '../model/profile';
import { GopclntabSymbolizer } from '../symbolize/gopclntabSymbolizer';
import type { SourceFrame } from '../symbolize/symbolizer';
import { openGoPclntab } from '../formats/openGoPclntab';
import { gFieldOffsetFromDwarf, goidOffset } from '../symbolize/goRuntimeLayout';
import { GoBinaryIndex, type TracePlan } from '../symbolize/goTracePlan';
import { FormatError } from '../util/byteReader';
import { UserError } from '../util/userError';
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
  onStart?: (client: HelperClient) => void;
  /** Where remote binaries are cached; default ~/.cache/go-perf-lens/binaries. */
  binaryCacheDir?: string;
}

export interface TargetBinary {
  elf: ElfFile;
  /** Size in bytes, which the helper checks against /proc/PID/exe before attaching. */
  size: number;
}

/** The target's executable, as ELF (tracing needs its code and tables, not a symbolizer). */
export async function loadTargetBinary(opts: TracingOptions): Promise<TargetBinary> {
  const exe = await readTargetExecutable(opts.target, opts.pid, opts);
  try {
    return { elf: parseElf(exe.bytes), size: exe.bytes.length };
  } catch (e) {
    if (e instanceof FormatError)
      throw new UserError(
        `PID ${opts.pid} is not a Go program: its executable is not a 64-bit ELF file (${e.message})`,
        'pass the PID of a Go process',
        'not-go',
      );
    throw e;
  }
}

function forward(opts: TracingOptions) {
  return (m: HelperMessage): void => {
    if (m.type === 'progress' && m.phase === 'attached') {
      opts.onAttached?.({ probes: Number(m.probes), attachMs: Number(m.attachMs), compileMs: Number(m.compileMs) });
    }
    opts.onMessage?.(m);
  };
}

function runOpts(opts: TracingOptions) {
  return { signal: opts.signal, askPassword: opts.askPassword, onMessage: forward(opts), onStart: opts.onStart };
}

/** The build id of the executable traced (Go's, else GNU's): which program a result measured. */
function buildIdOf(bin: TargetBinary): string | undefined {
  return bin.elf.goBuildId ?? bin.elf.gnuBuildId;
}

export interface FunctionTraceResult {
  /** The traced executable's build id. */
  buildId?: string;
  plan: TracePlan;
  latency: FunctionLatency[];
  wire: WireTraceResult;
}

/** Per-call latency of Go functions named as Go names them (go_func_cycles). */
export async function traceFunctions(
  opts: TracingOptions & { functions: string[]; onPlan?: (plan: TracePlan) => void },
): Promise<FunctionTraceResult> {
  if (opts.functions.length === 0) throw new UserError('name at least one function to trace', 'e.g. --func main.handle', 'usage');
  const bin = await loadTargetBinary(opts);
  const plan = new GoBinaryIndex(bin.elf).plan(opts.functions);
  opts.onPlan?.(plan);
  const functions = plan.functions.map((f) => ({ name: f.name, entry: Number(f.entry), rets: f.rets.map(Number) }));
  const run = await runHelper<WireTraceResult>(
    opts.target,
    'trace',
    { pid: opts.pid, duration: opts.durationSec, functions, ...buildIdArgs(bin.elf) },
    runOpts(opts),
  );
  const wire = run.result;
  return { plan, wire, latency: toFunctionLatencies(wire), buildId: buildIdOf(bin) };
}

export interface SchedTraceResult {
  buildId?: string;
  sched: SchedLatency;
  wire: WireSchedResult;
  goidOffsetSource: 'dwarf' | 'table';
}

/** How long runnable goroutines wait to run (go_goroutine_latency). */
export async function traceSched(opts: TracingOptions): Promise<SchedTraceResult> {
  const bin = await loadTargetBinary(opts);
  const idx = new GoBinaryIndex(bin.elf);
  const cas = idx.probesOf(idx.resolve('runtime.casgstatus')[0]!);
  const goid = goidOffset(bin.elf, idx.goVersion);
  const args: Record<string, unknown> = {
    pid: opts.pid,
    duration: opts.durationSec,
    casgstatus: Number(cas.entry),
    goidOffset: goid.offset,
    ...buildIdArgs(bin.elf),
  };
  // Where each worst-waiting goroutine was created (its `go` statement) and what it runs: from DWARF only.
  const gopc = gFieldOffsetFromDwarf(bin.elf, 'gopc');
  const startpc = gFieldOffsetFromDwarf(bin.elf, 'startpc');
  if (gopc !== undefined) args.gopcOffset = gopc;
  if (gopc !== undefined && startpc !== undefined) args.startpcOffset = startpc;
  const run = await runHelper<WireSchedResult>(opts.target, 'sched', args, runOpts(opts));
  return {
    sched: toSchedLatency(run.result, goroutineOrigin(bin)),
    wire: run.result,
    goidOffsetSource: goid.source,
    buildId: buildIdOf(bin),
  };
}

/**
 * Names a goroutine's creation PC (the return address of its newproc call), its start PC and the
 * stack that created it. The helper's walk starts inside the runtime (casgstatus, newproc1,
 * systemstack); the `go` statement's frame is the one whose return address is gopc, and the
 * stack is kept from there only: a walk that does not pass through gopc is not this goroutine's.
 */
function goroutineOrigin(bin: TargetBinary): ((pcs: GoroutineOriginPcs) => GoroutineOrigin) | undefined {
  const tab = openGoPclntab(bin.elf);
  if (!tab) return undefined;
  const sym = new GopclntabSymbolizer(tab);
  const text = (f: SourceFrame): string => `${f.function} (${f.file}:${f.line})`;
  return ({ gopc, startpc, creationStack }) => {
    const at = sym.symbolize(gopc - 1n)[0];
    const start = startpc !== undefined ? sym.symbolize(startpc)[0] : undefined;
    const from = creationStack?.indexOf(gopc) ?? -1;
    // Return addresses: the call is the byte before; inlined calls expand, innermost first.
    const stack = from >= 0 ? creationStack!.slice(from).flatMap((ret) => sym.symbolize(ret - 1n).map(text)) : [];
    return {
      ...(at ? { createdAt: text(at) } : {}),
      ...(start ? { startFunction: start.function } : {}),
      ...(stack.length ? { creationStack: stack } : {}),
    };
  };
}

export interface SyscallTraceResult {
  /** Known when the binary was read (with `stacks`). */
  buildId?: string;
  syscalls: SyscallStat[];
  wire: WireSyscallsResult;
}

/** Per-syscall counts, time and latency, with the top Go call sites when `stacks` (go_syscall_breakdown). */
export async function traceSyscalls(opts: TracingOptions & { stacks?: boolean }): Promise<SyscallTraceResult> {
  const args: Record<string, unknown> = { pid: opts.pid, duration: opts.durationSec };
  if (opts.stacks) args.stacks = true;
  // The binary is only needed to name the call sites afterwards: read it while the helper runs.
  const bin = opts.stacks ? loadTargetBinary(opts).catch(() => undefined) : Promise.resolve(undefined);
  const run = await runHelper<WireSyscallsResult>(opts.target, 'syscalls', args, runOpts(opts));
  const b = await bin;
  return { wire: run.result, syscalls: toSyscallStats(run.result, b && frameNamer(b)), buildId: b && buildIdOf(b) };
}

/** Names for the frames at a return address, from the pclntab (any Go binary, even stripped). */
function frameNamer(bin: TargetBinary): ((pc: bigint) => string[]) | undefined {
  const tab = openGoPclntab(bin.elf);
  if (!tab) return undefined;
  const sym = new GopclntabSymbolizer(tab);
  // Return addresses point after the call: look up pc-1 so the line is the call's.
  // The full file name: the latency panel opens the site (it shows the base name).
  return (pc) => sym.symbolize(pc - 1n).map((f) => `${f.function} (${f.file}:${f.line})`);
}
