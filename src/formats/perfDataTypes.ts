/**
 * The shapes and constants of a decoded perf.data (see perfData.ts for the format notes). Imports
 * nothing, so the decoder's modules (perfDataParser, perfDataAttr, perfDataHelpers) and perfData.ts,
 * which re-exports them all, depend on it one way.
 */
import type { UserStacks } from './perfUserStacks';

/** One event (perf_event_attr) of the recording. */
export interface PerfEventAttrInfo {
  /** PERF_TYPE_*: 0 hardware, 1 software, 2 tracepoint, 3 hw-cache, 4 raw, 5 breakpoint. */
  type: number;
  config: bigint;
  /** perf's name: from the EVENT_DESC feature when present ("cpu-clock", "cycles:u"), else derived from type/config and the exclude_* bits. */
  name: string;
  /** PERF_SAMPLE_* bits. */
  sampleType: bigint;
  /** PERF_FORMAT_* bits. */
  readFormat: bigint;
  /** Set when !freq: the fixed period per sample. */
  samplePeriod?: number;
  /** Set when freq: the sampling frequency asked for, in Hz (periods then vary per sample). */
  sampleFreq?: number;
  freq: boolean;
  /** Sample ids that belong to this event (from the attrs section, HEADER_ATTR or EVENT_DESC). */
  ids: bigint[];
  excludeUser: boolean;
  excludeKernel: boolean;
  excludeHv: boolean;
  excludeCallchainKernel: boolean;
  excludeCallchainUser: boolean;
  sampleIdAll: boolean;
  /** perf_event_attr.size as stored in the file. */
  attrSize: number;
  sampleRegsUser: bigint;
  sampleRegsIntr: bigint;
  sampleStackUser: number;
  branchSampleType: bigint;
}

/**
 * All samples, column by column; sample i is index i of every array (`count` of them,
 * in file order — perf writes rounds of per-CPU buffers, so times are only roughly ordered;
 * sort by `time` if you need perf script's order).
 */
export interface PerfSamples {
  count: number;
  /** -1 when the sample has no PERF_SAMPLE_TID. */
  pid: Int32Array;
  tid: Int32Array;
  /** perf clock in ns (exact below 2^53 ns ≈ 104 days of uptime); NaN without PERF_SAMPLE_TIME. */
  time: Float64Array;
  /** Sampled instruction pointer (signed 64-bit as a double, see the file comment); NaN without PERF_SAMPLE_IP. */
  ip: Float64Array;
  /** Event period of this sample (ns for cpu-clock/task-clock); the attr's fixed period when not sampled per record. */
  period: Float64Array;
  /** -1 without PERF_SAMPLE_CPU. */
  cpu: Int32Array;
  /** Index into PerfData.attrs. */
  attrIndex: Uint16Array;
  /** header.misc & 7: 1 kernel, 2 user, 3 hypervisor, 4 guest kernel, 5 guest user, 0 unknown. */
  cpumode: Uint8Array;
  /**
   * Sample i's callchain is chain[chainOffset[i] .. chainOffset[i] + chainLength[i]). Length 0
   * without PERF_SAMPLE_CALLCHAIN. Samples with identical callchains usually share one copy
   * (the same chainOffset), so `chain` is far shorter than the sum of the lengths.
   */
  chainOffset: Uint32Array;
  chainLength: Uint32Array;
  /**
   * Raw callchain entries as perf stores them, innermost first, PERF_CONTEXT_* markers
   * included (as negatives: -128 kernel, -512 user; see isContextMarker). For user frames the
   * first entry is the sampled ip and the rest are return addresses (subtract 1 before lookup).
   */
  chain: Float64Array;
  /**
   * Exact unsigned values of the rare entries that a double cannot hold (non-canonical values
   * beyond ±2^53, e.g. garbage from a frame-pointer walk through code without frame pointers),
   * keyed by chain index / sample index. chainU64()/ipU64() consult them.
   */
  chainWide: Map<number, bigint>;
  ipWide: Map<number, bigint>;
}

export interface PerfMmap {
  /** -1 for the kernel's own maps ([kernel.kallsyms], modules). */
  pid: number;
  tid: number;
  start: bigint;
  len: bigint;
  pgoff: bigint;
  filename: string;
  /** True for PERF_RECORD_MMAP2, false for the older PERF_RECORD_MMAP. */
  mmap2: boolean;
  /** MMAP2 with PERF_RECORD_MISC_MMAP_BUILD_ID: the build id as lower-case hex. */
  buildId?: string;
  /** MMAP2 without build id: device and inode. */
  maj?: number;
  min?: number;
  ino?: bigint;
  inoGeneration?: bigint;
  prot?: number;
  flags?: number;
  /** header.misc & 7 (cpumode); PERF_RECORD_MISC_MMAP_DATA is in `isData`. */
  cpumode: number;
  isData: boolean;
  /** From the sample_id_all trailer, in ns, when present. */
  time?: number;
}

export interface PerfComm {
  pid: number;
  tid: number;
  comm: string;
  /** PERF_RECORD_MISC_COMM_EXEC: the comm changed because of exec(). */
  exec: boolean;
  time?: number;
}

export interface PerfTaskEvent {
  kind: 'fork' | 'exit';
  pid: number;
  ppid: number;
  tid: number;
  ptid: number;
  time: number;
}

export interface PerfBuildId {
  /** -1 for kernel entries. */
  pid: number;
  /** Lower-case hex of the id's own size (20 bytes for SHA-1 GNU build ids), as `perf buildid-list` prints it. */
  buildId: string;
  filename: string;
  cpumode: number;
}

export interface PerfFeatures {
  /** Bits of the feature bitmap (HEADER_* numbers) that were set / seen. */
  present: number[];
  buildIds: PerfBuildId[];
  hostname?: string;
  osRelease?: string;
  version?: string;
  arch?: string;
  nrCpusAvailable?: number;
  nrCpusOnline?: number;
  cmdline?: string[];
  /** HEADER_EVENT_DESC: each event's name and ids. */
  eventDescs?: { name: string; type: number; config: bigint; ids: bigint[] }[];
}

export interface PerfData {
  pipeMode: boolean;
  attrs: PerfEventAttrInfo[];
  samples: PerfSamples;
  mmaps: PerfMmap[];
  comms: PerfComm[];
  /** FORK and EXIT records in file order. */
  tasks: PerfTaskEvent[];
  /**
   * Samples lost: the larger of the sums of `lost` in PERF_RECORD_LOST (the kernel's, ring buffer
   * overflow) and in PERF_RECORD_LOST_SAMPLES (perf's, from each event's lost count at the end):
   * both count the same overflows, so they are not added.
   */
  lostSamples: number;
  /** Number of PERF_RECORD_LOST records. */
  lostRecords: number;
  throttles: number;
  unthrottles: number;
  /** Records of each type (PERF_RECORD_* number → count), for diagnostics and tests. */
  recordCounts: Map<number, number>;
  features: PerfFeatures;
  firstSampleTimeNs?: number;
  lastSampleTimeNs?: number;
  /** Set when the file ends inside the data section (perf killed): everything whole before `offset` was kept. */
  truncated?: { offset: number; reason: string };
  /** User registers and stack memory per sample, when the events recorded them (--call-graph dwarf). */
  userStacks?: UserStacks;
}

// --- constants (include/uapi/linux/perf_event.h) ---

export const PERF_SAMPLE = {
  IP: 1n << 0n,
  TID: 1n << 1n,
  TIME: 1n << 2n,
  ADDR: 1n << 3n,
  READ: 1n << 4n,
  CALLCHAIN: 1n << 5n,
  ID: 1n << 6n,
  CPU: 1n << 7n,
  PERIOD: 1n << 8n,
  STREAM_ID: 1n << 9n,
  RAW: 1n << 10n,
  BRANCH_STACK: 1n << 11n,
  REGS_USER: 1n << 12n,
  STACK_USER: 1n << 13n,
  WEIGHT: 1n << 14n,
  DATA_SRC: 1n << 15n,
  IDENTIFIER: 1n << 16n,
  TRANSACTION: 1n << 17n,
  REGS_INTR: 1n << 18n,
  PHYS_ADDR: 1n << 19n,
  AUX: 1n << 20n,
  CGROUP: 1n << 21n,
  DATA_PAGE_SIZE: 1n << 22n,
  CODE_PAGE_SIZE: 1n << 23n,
  WEIGHT_STRUCT: 1n << 24n,
} as const;

export const PERF_RECORD = {
  MMAP: 1,
  LOST: 2,
  COMM: 3,
  EXIT: 4,
  THROTTLE: 5,
  UNTHROTTLE: 6,
  FORK: 7,
  READ: 8,
  SAMPLE: 9,
  MMAP2: 10,
  AUX: 11,
  ITRACE_START: 12,
  LOST_SAMPLES: 13,
  SWITCH: 14,
  SWITCH_CPU_WIDE: 15,
  NAMESPACES: 16,
  KSYMBOL: 17,
  BPF_EVENT: 18,
  CGROUP: 19,
  TEXT_POKE: 20,
  AUX_OUTPUT_HW_ID: 21,
  // perf's own (user) record types
  HEADER_ATTR: 64,
  HEADER_EVENT_TYPE: 65,
  HEADER_TRACING_DATA: 66,
  HEADER_BUILD_ID: 67,
  FINISHED_ROUND: 68,
  ID_INDEX: 69,
  AUXTRACE_INFO: 70,
  AUXTRACE: 71,
  AUXTRACE_ERROR: 72,
  THREAD_MAP: 73,
  CPU_MAP: 74,
  STAT_CONFIG: 75,
  STAT: 76,
  STAT_ROUND: 77,
  EVENT_UPDATE: 78,
  TIME_CONV: 79,
  HEADER_FEATURE: 80,
  COMPRESSED: 81,
  FINISHED_INIT: 82,
} as const;

/** Feature bits of the file header (tools/perf/util/header.h). */
export const HEADER_FEAT = {
  TRACING_DATA: 1,
  BUILD_ID: 2,
  HOSTNAME: 3,
  OSRELEASE: 4,
  VERSION: 5,
  ARCH: 6,
  NRCPUS: 7,
  CPUDESC: 8,
  CPUID: 9,
  TOTAL_MEM: 10,
  CMDLINE: 11,
  EVENT_DESC: 12,
  CPU_TOPOLOGY: 13,
  NUMA_TOPOLOGY: 14,
  BRANCH_STACK: 15,
  PMU_MAPPINGS: 16,
  GROUP_DESC: 17,
  AUXTRACE: 18,
  STAT: 19,
  CACHE: 20,
  SAMPLE_TIME: 21,
  MEM_TOPOLOGY: 22,
  CLOCKID: 23,
  DIR_FORMAT: 24,
  BPF_PROG_INFO: 25,
  BPF_BTF: 26,
  COMPRESSED: 27,
  CPU_PMU_CAPS: 28,
  CLOCK_DATA: 29,
  HYBRID_TOPOLOGY: 30,
  PMU_CAPS: 31,
} as const;

/** Callchain context markers as signed values (how they appear in PerfSamples.chain). */
export const PERF_CONTEXT = {
  HV: -32,
  KERNEL: -128,
  USER: -512,
  GUEST: -2048,
  GUEST_KERNEL: -2176,
  GUEST_USER: -2560,
  MAX: -4095,
} as const;

export const PERF_CPUMODE = { UNKNOWN: 0, KERNEL: 1, USER: 2, HYPERVISOR: 3, GUEST_KERNEL: 4, GUEST_USER: 5 } as const;
