/**
 * The helper's JSON-lines protocol (bpf/perflens_helper speaks it on stdout), mirrored as a
 * TypeScript union. Version 1. Binary files travel as file / chunk... / file-end (base64);
 * HelperClient writes them to a local file, yields a `received-chunk` per chunk (the decoded
 * bytes, in order, as they arrive) and a `received-file` once the file is complete and checked.
 */
import HELPER_ERRORS from '../../bpf/perflens_helper/error_codes.json';
import VERSIONS from '../../bpf/perflens_helper/version.json';

/** The protocol and helper versions: version.json is their one source (the helper reads it too). */
export const PROTOCOL_VERSION: number = VERSIONS.protocol;
export const HELPER_VERSION: string = VERSIONS.helper;

/** The helper's stable error codes and what each means: error_codes.json is their one source (the helper reads it too). */
export { HELPER_ERRORS };
export type HelperErrorCode = keyof typeof HELPER_ERRORS;

/**
 * The build ids of the binary the client decoded, for the eBPF subcommands: the helper attaches
 * only if /proc/PID/exe has the same ids (a same-size rebuild does not).
 */
export function buildIdArgs(ids: { goBuildId?: string | undefined; gnuBuildId?: string | undefined }): {
  goBuildId?: string;
  gnuBuildId?: string;
} {
  const out: { goBuildId?: string; gnuBuildId?: string } = {};
  if (ids.goBuildId) out.goBuildId = ids.goBuildId;
  if (ids.gnuBuildId) out.gnuBuildId = ids.gnuBuildId;
  return out;
}

export interface HelloMessage {
  type: 'hello';
  protocol: number;
  helper: string;
  subcommand: string;
  capabilities: string[];
  /** The helper's own pid on the target. */
  pid: number;
  root: boolean;
  python: string;
  pythonVersion: string;
  /** The helper's private directory on the target (removed when it exits). */
  tempDir: string;
  /** Who the helper acts for: a user may touch their own processes; root and admins any. */
  caller?: { uid: number; user: string; via: 'root' | 'sudo' | 'pkexec' | 'user'; admin: boolean };
}

export interface ProgressMessage {
  type: 'progress';
  message: string;
  elapsedSec?: number;
  durationSec?: number;
  [extra: string]: unknown;
}

/** Per-interval results (the eBPF subcommands send one each second). */
export interface PartialMessage {
  type: 'partial';
  data: unknown;
}
export interface WarningMessage {
  type: 'warning';
  message: string;
}
/** size: null when the helper sends the file while it is being made (perf's pipe-mode output). */
export interface FileStartMessage {
  type: 'file';
  name: string;
  size: number | null;
}
export interface ChunkMessage {
  type: 'chunk';
  name: string;
  data: string;
}
export interface FileEndMessage {
  type: 'file-end';
  name: string;
  size: number;
  sha256: string;
}
export interface ResultMessage {
  type: 'result';
  data: unknown;
}
export interface ErrorMessage {
  type: 'error';
  code: HelperErrorCode | string;
  message: string;
  hint: string | null;
}

/** Exactly what travels on the wire. */
export type WireMessage =
  | HelloMessage
  | ProgressMessage
  | PartialMessage
  | WarningMessage
  | FileStartMessage
  | ChunkMessage
  | FileEndMessage
  | ResultMessage
  | ErrorMessage;

/** A streamed file, complete and verified (size and sha256), written into the client's temp dir. */
export interface ReceivedFileMessage {
  type: 'received-file';
  name: string;
  path: string;
  size: number;
  sha256: string;
}

/**
 * One chunk of file `name`, decoded, once it is written to the local file. The chunks of a file
 * come in order; their concatenation is the file (verified only at its `received-file`).
 */
export interface ReceivedChunkMessage {
  type: 'received-chunk';
  name: string;
  data: Buffer;
}

/** What HelperClient yields: wire messages minus the file plumbing, plus received chunks and files. */
export type HelperMessage =
  | HelloMessage
  | ProgressMessage
  | PartialMessage
  | WarningMessage
  | ReceivedChunkMessage
  | ReceivedFileMessage
  | ResultMessage
  | ErrorMessage;

// ---- results of the perf subcommands -------------------------------------------------------

export type EventStatus = 'supported' | 'unsupported' | `error: ${string}`;

export interface ProbeResult {
  root: boolean;
  kernel: string;
  arch: string;
  perfEventParanoid: number | null;
  python: string;
  pythonVersion: string;
  perf: { present: true; path: string; version: string } | { present: false; error: string; hint: string | null };
  /** Keys: 'cycles:u', 'cycles', 'instructions:u', 'cpu-clock', 'task-clock'. */
  events: Record<string, EventStatus>;
  recommendedEvent: 'cycles:u' | 'cpu-clock' | null;
  fallbackReason?: string;
  bcc: { importable: boolean; python: string | null; module?: string; tried: string[] };
  kernelHeaders: { path: string; present: boolean };
  btf: boolean;
  tracefs: { mounted: boolean; path: string | null };
  uprobes: boolean;
  kprobes: boolean;
  pid?: number;
  process?: (GoBuildInfo & { exe: string; exeSize: number }) | null;
}

export interface GoBuildInfo {
  /** e.g. "go1.23.5"; null for a non-Go executable. */
  goVersion: string | null;
  modulePath: string | null;
  /** The Go build id (.note.go.buildid), e.g. "abc/def/ghi/jkl". */
  goBuildId: string | null;
  /** The GNU build id (.note.gnu.build-id) in hex, which perf records; Go links have none by default. */
  gnuBuildId: string | null;
}

export interface GoProcess extends GoBuildInfo {
  pid: number;
  exe: string;
  exeSize: number;
  comm: string;
  cmdline: string[];
  uid: number | null;
  user: string | null;
  /** Seconds since the process started. */
  uptimeSec?: number;
  /** Unix time (seconds) the process started. */
  startTime?: number | null;
  /** CPU use, % of one CPU, measured by the helper where the process runs (only when asked: `cpuSampleMs`). */
  cpuPercent?: number;
}

export interface ProcessesResult {
  processes: GoProcess[];
  unreadable?: number;
}

export interface BinaryResult extends GoBuildInfo {
  pid: number;
  /** The process's start time in clock ticks after boot (/proc/PID/stat field 22), read on its host. */
  startTicks?: number;
  exe: string | null;
  size: number;
  sha256: string;
  infoOnly?: boolean;
}

export interface RecordResult {
  pid: number;
  /** The event perf recorded: 'cycles:u' or 'cpu-clock'. */
  event: string;
  requestedEvent: 'auto' | 'cycles' | 'cpu-clock';
  /** Why `auto` did not take cycles (null when it did, or when cpu-clock was asked for). */
  fallbackReason: string | null;
  freqHz: number;
  durationSec: number;
  elapsedSec: number;
  endedBy: 'duration' | 'stop' | 'perf-exited';
  /**
   * Where the duration's clock started: 'perf-ack' when perf acknowledged `enable` on its control
   * FIFO (it started with its events off, so the recording spans exactly the clock's time);
   * 'events-open' (perfs without --control) when perf had opened its events on the target.
   */
  clock: 'perf-ack' | 'events-open';
  /** Seconds from starting perf to that point (perf reading the target's maps and threads). */
  startupSec: number;
  /** perf's own count of samples written, when it printed one (never with `stream`: perf's pipe mode does not). */
  samples: number | null;
  /** Samples perf lost, when it said so (with `stream`: counted from the LOST records that went by). */
  lost: number | null;
  warnings: string[];
  perfVersion: string;
  perfData: { name: string; size: number; sha256: string };
  /** true when perf.data was sent while perf recorded (pipe mode, the `stream` argument). */
  streamed?: boolean;
  exe: string | null;
  exeSize: number | null;
  goVersion: string | null;
  goBuildId: string | null;
  gnuBuildId: string | null;
}
