/**
 * The profile model: plain data that ingest/ builds, ui/ draws and sessions save.
 * Counts are in samples; `event` says what one sample means (its period and unit), so the UI
 * can say "cycles" or "ms of CPU" truthfully. Lines are 1-based (`line1`).
 *
 * A profile can measure several things at once (a heap profile: allocated and in-use bytes and
 * objects; a blocking recording: blocked time and waits). Then `metrics` lists them and the
 * "samples" fields (selfSamples, cumSamples, totalSamples, the call tree's and the stacks'
 * counts) hold the values of the one named by `metric`, in its own unit (bytes, nanoseconds,
 * objects…, as its `event` says); the others' values wait in `metricValues`. model/metrics.ts
 * switches between them (withMetric) and builds a metric's values from per-stack counts.
 */

export const PROFILE_MODEL_VERSION = 1;

export interface EventInfo {
  /** perf's event name: "cycles", "cycles:u", "cpu-clock", ... or "samples" for pprof imports. */
  name: string;
  /** What `period` is measured in: "nanoseconds" (cpu-clock, blocked time), "cycles", "bytes" (allocations), "count". */
  unit: 'nanoseconds' | 'cycles' | 'bytes' | 'count';
  /** Average period of one sample in `unit` (e.g. 1e9/999 ns for cpu-clock at 999 Hz). */
  periodPerSample: number;
  /** Sampling frequency asked for, in Hz, when known. */
  frequencyHz?: number;
  /** Set when the event is a fallback, e.g. "cycles not supported on this machine (no PMU)". */
  fallbackReason?: string;
}

export interface BinaryIdentity {
  path: string;
  buildId?: string;
  goBuildId?: string;
  goVersion?: string;
  modulePath?: string;
  vcsRevision?: string;
  vcsModified?: boolean;
}

export interface FunctionStat {
  name: string;
  /** Declaration (func line), when known. */
  file?: string;
  line1?: number;
  /** Samples whose innermost frame is this function. */
  selfSamples: number;
  /** Samples in which this function appears anywhere in the stack (counted once per sample). */
  cumSamples: number;
  /** True when every sample of this function comes from inlined copies. */
  inlinedOnly?: boolean;
}

export interface LineStat {
  file: string;
  line1: number;
  selfSamples: number;
  cumSamples: number;
  /** Function this line belongs to (when several share the line, the first by name). */
  function: string;
  /** Functions this line's code was inlined into, when it ran inlined (sorted by name). */
  inlinedInto?: string[];
}

/**
 * The call tree, flattened: node i has parent parents[i] (-1 for roots), function index
 * functions[i] into Profile.functions, and the samples of its subtree and of itself.
 * Children follow their parent (pre-order), so a subtree is a contiguous range.
 */
export interface CallTree {
  parents: number[];
  functions: number[];
  /** Line (1-based) in the parent's function where the call happened; 0 for roots. */
  callLines: number[];
  totalSamples: number[];
  selfSamples: number[];
}

export interface HistogramBucket {
  /** Inclusive lower bound, exclusive upper bound, in nanoseconds. */
  loNanos: number;
  hiNanos: number;
  count: number;
}

/** Per-call latency of one traced function (eBPF entry + RET uprobes). */
export interface FunctionLatency {
  function: string;
  calls: number;
  /** Entries without a matching RET (panics, Goexit, still running at the end). */
  unmatched: number;
  sumNanos: number;
  p50Nanos: number;
  p90Nanos: number;
  p99Nanos: number;
  buckets: HistogramBucket[];
  durationNanos: number;
  /** Calls in each second of the trace. */
  callsPerSecond?: number[];
  /** Cycles per call where the PMU offers them; absent here ("ns only"). */
  cyclesPerCall?: number;
}

export interface SchedLatency {
  count: number;
  p50Nanos: number;
  p90Nanos: number;
  p99Nanos: number;
  buckets: HistogramBucket[];
  worst: {
    goid: number;
    waitNanos: number;
    /** Where the goroutine was created (the `go` statement: g.gopc) and the function it runs (g.startpc), symbolized, when the tracer read them. */
    createdAt?: string;
    startFunction?: string;
    /**
     * The call stack that ran the `go` statement, "func (file:line)" innermost first (createdAt's
     * frame, then its callers); only for goroutines created while the tracer was attached.
     */
    creationStack?: string[];
  }[];
  durationNanos: number;
}

export interface SyscallStat {
  name: string;
  nr: number;
  count: number;
  totalNanos: number;
  buckets: HistogramBucket[];
  /** Top Go call sites, symbolized, innermost first: "main.writeAll (/src/app/main.go:42)" (older sessions: the file's base name). */
  topSites?: { frames: string[]; count: number }[];
  /** The traced window: totals are summed across threads, so a total can exceed it. */
  windowNanos?: number;
}

/**
 * The waits charged to one line by a blocking recording: how long they lasted (log2 buckets of
 * waits) and why (blocked ns by wait reason: "chan receive", "sync.Mutex.Lock", "sleep"…).
 */
export interface LineWaits {
  file: string;
  line1: number;
  blockedNanos: number;
  waits: number;
  reasons: Record<string, number>;
  buckets: HistogramBucket[];
}

/** One inlined frame of a location: a function (index into Profile.functions) at a line. */
export interface LocationFrame {
  function: number;
  line1: number;
  /** The frame's file, only where it is not its function's file (code of one function from several files). */
  file?: string;
}

/**
 * A distinct code address (or, for imports without addresses, a distinct frame list) and its
 * inline chain, innermost first (pprof's convention).
 */
export interface ProfileLocation {
  /** Address in the binary (link-time virtual address), hex "0x…", when known. */
  address?: string;
  frames: LocationFrame[];
}

/**
 * The distinct stacks behind the aggregates, as pprof keeps them: stacks[i] lists indices into
 * `locations`, leaf first, and was seen counts[i] times. Kept so pprof export (and -list line
 * counts) stay exact and a profile can be re-aggregated.
 */
export interface StackTable {
  locations: ProfileLocation[];
  stacks: number[][];
  counts: number[];
}

/**
 * How a recording ended: its full duration, a stop by the user (what was recorded is kept), or
 * the target exiting (a partial profile), after `afterSec` of the `requestedSec` asked for.
 */
export interface RecordingEnd {
  by: 'duration' | 'stop' | 'target-exited' | 'perf-exited';
  afterSec: number;
  requestedSec: number;
}

/** What a metric's figures are about: it picks the words ("1.2 GB/s alloc", "blocked 3.2 s"). */
export type MetricMeasure =
  | 'cpu'
  | 'alloc-bytes'
  | 'alloc-objects'
  | 'inuse-bytes'
  | 'inuse-objects'
  | 'blocked-time'
  /** A mutex profile's delay: how long others waited for a lock, charged to the unlock that let them go. */
  | 'lock-delay'
  | 'waits'
  | 'goroutines'
  | 'other';

/** One quantity a profile measures (see the file comment). */
export interface MetricInfo {
  /**
   * Stable key of the quantity, the same in every profile that measures it: the switch
   * remembers it and the baseline diff compares only equal ids. "cpu" for CPU samples (perf,
   * eBPF, pprof's "samples"); pprof's sample type otherwise ("alloc_space", "alloc_objects",
   * "inuse_space", "inuse_objects", "goroutine", "cpu_time" for cpu nanoseconds); a block or
   * mutex profile's "block_delay", "block_contentions", "mutex_delay", "mutex_contentions"
   * ("delay" and "contentions" where the kind is unknown: model/contentionKind.ts);
   * "blocked_time" and "waits" for the eBPF blocking recording.
   */
  id: string;
  /** What menus and the status bar call it: "CPU", "allocated bytes", "blocked time". */
  label: string;
  measures: MetricMeasure;
  /** What one unit of its values is (unit, and the period one sample stands for). */
  event: EventInfo;
  /** Sum of its values over the whole profile (totalSamples when it is shown). */
  total: number;
  /** Of total, what has no frame in the code (unattributedSamples when it is shown). */
  unattributed?: number;
  /**
   * How many samples or events the figures rest on, for the baseline diff's noise test (a
   * share of 1e9 bytes from 2,000 sampled allocations is as noisy as 2,000 samples). Absent:
   * `total` itself is a count of samples.
   */
  samples?: number;
  /** A state at one moment (in-use memory, goroutines), not an amount over the recording: no rates per second. */
  snapshot?: boolean;
  /** The metric whose figure goes beside this one's (objects beside bytes, waits beside blocked time). */
  companion?: string;
}

/**
 * A metric's values, aligned with the profile's arrays: functions[i], lines[i], call-tree node
 * i, stacks.stacks[i].
 */
export interface MetricValues {
  functionSelf: number[];
  functionCum: number[];
  lineSelf: number[];
  lineCum: number[];
  treeSelf: number[];
  treeTotal: number[];
  /** Absent when the profile keeps no stacks. */
  stackCounts?: number[];
}

export interface Profile {
  version: typeof PROFILE_MODEL_VERSION;
  /** Where it came from: "perf", "pprof", "session". */
  source: string;
  event: EventInfo;
  binary?: BinaryIdentity;
  /**
   * The process recorded. startTicks: its start time in clock ticks after boot (/proc/PID/stat),
   * read where it runs (here or over ssh), which tells a reused PID apart. recordedAs: which way a live recording
   * was made (as the user without root, or as root).
   */
  target?: { pid?: number; host?: string; cmdline?: string; startTicks?: number; recordedAs?: 'user' | 'root' };
  /** Wall-clock start (ms since epoch) and length of the recording. */
  startTimeMs?: number;
  /** How a recording of a live process ended; absent for files read from disk. */
  ended?: RecordingEnd;
  durationNanos: number;
  totalSamples: number;
  lostSamples: number;
  /** Samples that had no frame in the Go binary (kernel, vdso, other libraries). */
  unattributedSamples: number;
  /**
   * Samples whose caller is unknown: their leaf was where its function had no frame of its own
   * (SP delta 0: a frameless leaf, a prologue or an epilogue), so the frame-pointer stack skips
   * the caller (its cumulative count misses them). Absent when not checked.
   */
  missingCallerSamples?: number;
  /** Samples whose missing caller was put back from the return address at SP (eBPF sampler). */
  repairedCallerSamples?: number;
  /**
   * How the stacks were taken, said in the report: "frame pointers" (perf -g, the eBPF sampler)
   * or "Go frame tables over perf's stack dumps" (--call-graph dwarf). Absent: not said (pprof).
   */
  stackMethod?: string;
  /**
   * Samples whose stack was cut: the user-stack dump ended before the stack's bottom, or the
   * walk reached code or a stack it cannot follow (cgo, vdso, runtime.systemstack). Their outer
   * callers are unknown and already counted in missingCallerSamples.
   */
  truncatedStackSamples?: number;
  functions: FunctionStat[];
  lines: LineStat[];
  callTree: CallTree;
  /** The distinct stacks (see StackTable); absent for profiles that only carry aggregates. */
  stacks?: StackTable;
  /** What went wrong on the way but did not stop ingest (truncated file, unmapped frames, ...). */
  warnings?: string[];
  latency?: FunctionLatency[];
  sched?: SchedLatency;
  syscalls?: SyscallStat[];
  /** Every metric the profile carries (absent: one, CPU samples as `event` says). */
  metrics?: MetricInfo[];
  /** Id of the metric whose values are in the samples fields (absent: metrics[0]). */
  metric?: string;
  /** The values of every other metric in `metrics`, by id. */
  metricValues?: Record<string, MetricValues>;
  /** Per line, the wait-time histogram and reasons of a blocking recording (the hover shows them). */
  waitLines?: LineWaits[];
}
