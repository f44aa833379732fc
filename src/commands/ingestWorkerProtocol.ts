/**
 * The messages between the extension host (or the CLI) and the ingest worker
 * (ingestWorkerMain.ts), and how an error crosses between them. One job per worker: a file to
 * read, a perf recording streamed in, an eBPF sampler's result or a pprof endpoint's answer; a
 * profile (or an error) comes back. Or the target's executable for an eBPF tracer: its probes are
 * planned and its results named there. Or the executable for the allocation and blocking
 * recordings: their probes are planned, their results ingested and made into a profile there.
 */
import type { Envelope, HelperExit } from '../capture/helperClient';
import type { HelperMessage } from '../capture/helperProtocol';
import type { LaunchPlan } from '../capture/launchPlan';
import type { AllocHeat, WireAllocsResult } from '../ingest/allocHeat';
import type { BlockHeat, WireBlockingResult } from '../ingest/blockHeat';
import type { WireSchedResult, WireSyscallsResult } from '../ingest/ebpfResults';
import type { BpfIngestOptions, WireProfileResult } from '../ingest/fromBpfProfile';
import type { EndpointIngestOptions } from '../ingest/fromEndpoint';
import type { PerfIngestOptions } from '../ingest/fromPerfData';
import type { Profile, SchedLatency, SyscallStat } from '../model/profile';
import type { TracePlan } from '../symbolize/goTracePlan';
import { UserError } from '../util/userError';
import type { AllocProbes, BlockingProbes, HeatProfileOptions } from './heatTarget';
import type { BuildIds, SchedProbes } from './traceTarget';

export type ToWorker =
  /** Read a profile file (session, pprof, perf.data); the worker may ask for the binary. */
  | { op: 'read'; file: string }
  /** The answer to `need-binary`: a path, or undefined when the user cancelled. */
  | { op: 'binary'; path: string | undefined }
  /**
   * Open the target's executable for a streamed perf recording (answered with `opened`).
   * `live`: also send the profile so far (`partial`) each time the samples are taken in.
   */
  | { op: 'stream-open'; bytes: Uint8Array; path: string; pid: number; live?: boolean }
  /**
   * Start the helper here (a HelperClient: its process, stdin and output are this thread's):
   * its streamed files go into `dir`, and perf.data's bytes into the streamed ingest of
   * `stream-open` as they come. Answered with `helper-started`, `helper-items` as messages come,
   * `helper-failed` if the run ends in an error, and `helper-exited` once the process has exited,
   * each with the run's `id`. Runs go one after the other (a relaunch after a sudo password waits
   * for the last one's exit).
   */
  | { op: 'helper-run'; id: number; plan: LaunchPlan; envelope: Envelope; dir: string }
  /** Ask the helper to finish early, keeping what it has (HelperClient.stop). */
  | { op: 'helper-stop'; id: number }
  /** Cancel the helper (HelperClient.cancel: stop, EOF, then SIGTERM and SIGKILL to its group), or a run not started yet. */
  | { op: 'helper-cancel'; id: number }
  /** The recording ended: the complete perf.data is at `perfDataPath`. */
  | { op: 'stream-finish'; perfDataPath: string; opts: PerfIngestOptions }
  /**
   * Open the target's executable for the eBPF sampler (answered with `opened`, its code range and
   * build ids included). The sampler's helper runs here (`helper-run`): each partial's stacks are
   * taken in here as it comes (a bad one fails `bpf-finish`), and the partial goes to the host
   * without them unless `keepStacks`. `live`: also send the profile so far (`partial`) after each.
   */
  | { op: 'bpf-open'; bytes: Uint8Array; path: string; pid: number; live?: boolean; keepStacks?: boolean }
  /** The sampler's result (the last stacks), for the executable of `bpf-open`. */
  | { op: 'bpf-finish'; result: WireProfileResult; opts: BpfIngestOptions }
  /** What a net/http/pprof endpoint answered. */
  | { op: 'endpoint'; bytes: Uint8Array; source: string; opts: EndpointIngestOptions }
  /** Open the target's executable for an eBPF tracer (answered with `opened`, its build ids included). */
  | { op: 'trace-open'; bytes: Uint8Array; path: string; pid: number }
  /** Plan the probes of these functions in the executable of `trace-open` (answered with `trace-plan`). */
  | { op: 'trace-plan'; functions: string[] }
  /** The scheduling-latency probe's addresses and offsets (answered with `sched-probes`). */
  | { op: 'sched-probes' }
  /** Name a tracer's result with the executable of `trace-open` (answered with `sched` or `syscalls`). */
  | { op: 'sched-finish'; result: WireSchedResult }
  | { op: 'syscalls-finish'; result: WireSyscallsResult }
  /** Open the target's executable for the allocation and/or blocking recordings (answered with `opened`, its build ids included). */
  | { op: 'heat-open'; bytes: Uint8Array; path: string; pid: number }
  /** The helper's arguments for `allocs` / `blocking` (answered with `alloc-probes` / `blocking-probes`). */
  | { op: 'alloc-probes' }
  | { op: 'blocking-probes' }
  /** Ingest a sampler's result, the helper's warnings with it (answered with `alloc-heat` / `block-heat`). */
  | { op: 'allocs-finish'; result: WireAllocsResult; warnings: string[] }
  | { op: 'blocking-finish'; result: WireBlockingResult; warnings: string[] }
  /** One profile of the results ingested in this job and the CPU samples of the same window (answered with `done`). */
  | { op: 'heat-profile'; opts: HeatProfileOptions };

export type FromWorker =
  | { op: 'need-binary'; recorded: string | undefined }
  | { op: 'opened'; path: string; bpf?: BpfBinaryFacts; buildIds?: BuildIds }
  /**
   * The profile of a streamed recording (perf's or the eBPF sampler's) so far (about once a second while it records), without its
   * stack table, as JSON: the host parses a string in a fraction of the time a structured clone
   * of the same objects takes to arrive, and it does this every second.
   */
  | { op: 'partial'; json: string }
  /** The answers to `helper-run`: its pid, its messages (never a `received-chunk`: those bytes stay in the worker), how it ended. */
  | { op: 'helper-started'; id: number; pid: number | undefined }
  | { op: 'helper-items'; id: number; items: HelperMessage[] }
  | { op: 'helper-failed'; id: number; error: WireError }
  | ({ op: 'helper-exited'; id: number } & HelperExit)
  | { op: 'done'; profile: Profile; label?: string }
  | { op: 'trace-plan'; plan: TracePlan }
  | { op: 'sched-probes'; probes: SchedProbes }
  | { op: 'sched'; sched: SchedLatency }
  | { op: 'syscalls'; syscalls: SyscallStat[] }
  | { op: 'alloc-probes'; probes: AllocProbes }
  | { op: 'blocking-probes'; probes: BlockingProbes }
  | { op: 'alloc-heat'; heat: AllocHeat }
  | { op: 'block-heat'; heat: BlockHeat }
  | { op: 'error'; error: WireError };

/** What the eBPF sampler's arguments need from the executable (its code's link-time range, its build ids). */
export interface BpfBinaryFacts extends BuildIds {
  textLo: number;
  textHi: number;
}

export interface WireError {
  name: string;
  message: string;
  stack?: string;
  hint?: string;
  code?: string;
  user: boolean;
}

export function toWire(e: unknown): WireError {
  if (e instanceof UserError)
    return { name: e.name, message: e.message, hint: e.hint, code: e.code, user: true, ...(e.stack ? { stack: e.stack } : {}) };
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message, user: false, ...(err.stack ? { stack: err.stack } : {}) };
}

/** The error as thrown in the worker: a UserError stays one (with its hint and code), a bug keeps its stack. */
export function fromWire(w: WireError): Error {
  const e = w.user ? new UserError(w.message, w.hint, w.code) : new Error(w.message);
  if (!w.user) e.name = w.name;
  if (w.stack) e.stack = w.stack;
  return e;
}
