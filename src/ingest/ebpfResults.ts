/**
 * The eBPF helper subcommands' results (trace, sched, syscalls — see bpf/helper.py) as types,
 * and their conversion into the model (FunctionLatency, SchedLatency, SyscallStat) that the UI
 * draws. Histograms are log2 buckets in nanoseconds; percentiles are estimated from a finer
 * histogram (8 sub-buckets per power of two) kept beside them, interpolated within a bucket.
 */
import type { FunctionLatency, HistogramBucket, SchedLatency, SyscallStat } from '../model/profile';

/** One log2 bucket as the helper sends it: [lo_ns, hi_ns). */
export interface WireBucket {
  lo_ns: number;
  hi_ns: number;
  count: number;
}

export interface WireFunctionResult {
  name: string;
  /** Entries seen (after the stack check: exact). */
  calls: number;
  /** Returns paired with an entry, timed, in the histogram. */
  matched: number;
  /** RETs of calls whose entry was not seen (they began before the probes were attached): neither timed nor counted as calls. */
  returnsWithoutEntry: number;
  /** Entries never paired with their own RET (panic, Goexit, still running at the end). */
  unmatched: number;
  sum_ns: number;
  buckets: WireBucket[];
  /** Sparse finer histogram (8 sub-buckets per power of two) for percentiles: [lo_ns, hi_ns, count]. */
  fine?: FineBucket[];
  callsPerSecond: number[];
}

export type FineBucket = [number, number, number];

export interface WireTraceResult {
  functions: WireFunctionResult[];
  elapsedSec: number;
  /** "ns only" where the PMU has no cycles counter (the helper does not count cycles). */
  cycles: string;
  endedBy?: 'duration' | 'stop' | 'target-exited';
  attachMs?: number;
  probes?: number;
}

export interface WireSchedResult {
  count: number;
  sum_ns: number;
  buckets: WireBucket[];
  fine?: FineBucket[];
  /**
   * gopc/startpc: the goroutine's creation PC and start PC, when the helper could read them;
   * creation_stack: the creating thread's frame-pointer walk at newproc1 (innermost first, from
   * inside the runtime), for goroutines created while tracing.
   */
  worst: { goid: number; wait_ns: number; gopc?: number; startpc?: number; creation_stack?: number[] }[];
  elapsedSec: number;
  endedBy?: 'duration' | 'stop' | 'target-exited';
  attachMs?: number;
}

export interface WireSyscall {
  nr: number;
  name: string;
  count: number;
  total_ns: number;
  buckets: WireBucket[];
  /** User stacks (innermost first), when asked for. */
  topSites?: { addrs: number[]; count: number }[];
}

export interface WireSyscallsResult {
  syscalls: WireSyscall[];
  elapsedSec: number;
  endedBy?: 'duration' | 'stop' | 'target-exited';
  attachMs?: number;
}

export function toBuckets(w: WireBucket[]): HistogramBucket[] {
  return w.map((b) => ({ loNanos: b.lo_ns, hiNanos: b.hi_ns, count: b.count }));
}

/**
 * The q-quantile (0 < q ≤ 1) of a bucketed distribution, interpolated linearly inside the
 * bucket that holds it (a log2 bucket's true values are unknown within a factor of two). 0 when
 * empty.
 */
export function quantileNanos(buckets: HistogramBucket[], q: number): number {
  const total = buckets.reduce((s, b) => s + b.count, 0);
  if (total === 0) return 0;
  const sorted = [...buckets].sort((a, b) => a.loNanos - b.loNanos);
  const rank = q * total;
  let seen = 0;
  for (const b of sorted) {
    if (seen + b.count >= rank) {
      const frac = b.count === 0 ? 0 : (rank - seen) / b.count;
      return Math.round(b.loNanos + frac * (b.hiNanos - b.loNanos));
    }
    seen += b.count;
  }
  return sorted[sorted.length - 1]!.hiNanos;
}

/** p50/p90/p99 from the finer histogram when the helper sent one (12.5% wide buckets), else the log2 one. */
function percentiles(buckets: HistogramBucket[], fine: FineBucket[] | undefined): { p50Nanos: number; p90Nanos: number; p99Nanos: number } {
  const h = fine && fine.length > 0 ? fine.map(([lo, hi, count]) => ({ loNanos: lo, hiNanos: hi, count })) : buckets;
  return { p50Nanos: quantileNanos(h, 0.5), p90Nanos: quantileNanos(h, 0.9), p99Nanos: quantileNanos(h, 0.99) };
}

export function toFunctionLatency(w: WireFunctionResult, elapsedSec: number): FunctionLatency {
  const buckets = toBuckets(w.buckets);
  return {
    function: w.name,
    calls: w.calls,
    unmatched: w.unmatched,
    sumNanos: w.sum_ns,
    ...percentiles(buckets, w.fine),
    buckets,
    durationNanos: Math.round(elapsedSec * 1e9),
    callsPerSecond: [...w.callsPerSecond],
  };
}

/** Every function of a trace result — or of a `partial` message's data, which has the same shape. */
export function toFunctionLatencies(w: WireTraceResult): FunctionLatency[] {
  return w.functions.map((f) => toFunctionLatency(f, w.elapsedSec));
}

/** Where a goroutine was created, as the helper read it (addresses in the binary). */
export interface GoroutineOriginPcs {
  gopc: bigint;
  startpc?: bigint;
  creationStack?: bigint[];
}

/** Where a goroutine was created, the function it runs and the creating stack, symbolized. */
export type GoroutineOrigin = Pick<SchedLatency['worst'][number], 'createdAt' | 'startFunction' | 'creationStack'>;

/** `origin` names where a goroutine was created, the function it runs and the stack that created it. */
export function toSchedLatency(w: WireSchedResult, origin?: (pcs: GoroutineOriginPcs) => GoroutineOrigin): SchedLatency {
  const buckets = toBuckets(w.buckets);
  return {
    count: w.count,
    ...percentiles(buckets, w.fine),
    buckets,
    worst: w.worst.map((x) => ({
      goid: x.goid,
      waitNanos: x.wait_ns,
      ...(x.gopc && origin
        ? origin({
            gopc: BigInt(x.gopc),
            ...(x.startpc ? { startpc: BigInt(x.startpc) } : {}),
            ...(x.creation_stack ? { creationStack: x.creation_stack.map(BigInt) } : {}),
          })
        : {}),
    })),
    durationNanos: Math.round(w.elapsedSec * 1e9),
  };
}

/**
 * `frameNames(pc)` names the frames at one return address, innermost (inlined) first, e.g.
 * ["syscall.Write (syscall_linux.go:42)", "main.main (main.go:7)"]; [] drops it.
 */
export function toSyscallStats(w: WireSyscallsResult, frameNames?: (pc: bigint) => string[]): SyscallStat[] {
  return w.syscalls.map((s) => {
    const stat: SyscallStat = { name: s.name, nr: s.nr, count: s.count, totalNanos: s.total_ns, buckets: toBuckets(s.buckets) };
    if (w.elapsedSec > 0) stat.windowNanos = Math.round(w.elapsedSec * 1e9);
    if (s.topSites && frameNames) {
      stat.topSites = s.topSites.map((site) => ({
        frames: site.addrs.flatMap((a) => frameNames(BigInt(a))),
        count: site.count,
      }));
    }
    return stat;
  });
}
