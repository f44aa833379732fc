/**
 * Parse + symbolize + ingest off the caller's thread: the extension host (and the CLI, through the
 * same path) hands the worker a file, a perf stream, an eBPF sampler's result or a pprof
 * endpoint's answer and gets a profile back (or an eBPF tracer's executable, and gets its probes
 * and named results back), so no other extension
 * in the window waits while a large recording is read. The allocation and blocking recordings
 * hand it the target's executable too, and get their probes, figures and profile back. One worker per job, ended when the job
 * ends (or is abandoned): nothing is shared between jobs, and a crash loses only that job.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { cancelledError, type Envelope, type HelperExit, type HelperProcess } from '../capture/helperClient';
import type { HelperMessage } from '../capture/helperProtocol';
import type { LaunchPlan } from '../capture/launchPlan';
import type { RunElsewhere } from '../capture/runHelper';
import type { AllocHeat, WireAllocsResult } from '../ingest/allocHeat';
import type { BlockHeat, WireBlockingResult } from '../ingest/blockHeat';
import type { WireSchedResult, WireSyscallsResult } from '../ingest/ebpfResults';
import type { BpfIngestOptions, WireProfileResult } from '../ingest/fromBpfProfile';
import type { EndpointIngestOptions } from '../ingest/fromEndpoint';
import type { PerfIngestOptions } from '../ingest/fromPerfData';
import type { Profile, SchedLatency, SyscallStat } from '../model/profile';
import type { TracePlan } from '../symbolize/goTracePlan';
import { type BpfBinaryFacts, type FromWorker, fromWire, type ToWorker } from './ingestWorkerProtocol';
import type { ReadProfile } from './readProfileFile';
import type { AllocProbes, BlockingProbes, HeatProfileOptions } from './heatTarget';
import type { BuildIds, SchedProbes } from './traceTarget';

/** The worker's script: beside this module (out/src/commands/) or beside the bundle (dist/). */
const WORKER_SCRIPT = path.join(__dirname, 'ingestWorkerMain.js');

/**
 * One running worker: send messages, wait for its answers. The worker answers the messages asked
 * in the order they came (each at once, except `read`), so several questions may be open at a
 * time (allocations and blocking recorded together ask one job).
 */
class IngestJob {
  private readonly worker = new Worker(WORKER_SCRIPT);
  private readonly waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void }[] = [];
  private ended: Error | undefined;
  /** The helpers started on this worker (a streamed recording's: a relaunch after a sudo password is the next), by run id, until their process has exited. */
  private readonly helpers = new Map<number, HelperOnWorker>();
  private nextHelperId = 1;

  constructor(private readonly onMessage: (m: FromWorker) => void = () => undefined) {
    this.worker.on('message', (m: FromWorker) => {
      if (m.op === 'need-binary' || m.op === 'partial') {
        this.onMessage(m);
        return;
      }
      if (m.op === 'helper-started' || m.op === 'helper-items' || m.op === 'helper-failed' || m.op === 'helper-exited') {
        this.helpers.get(m.id)?.take(m);
        return;
      }
      const w = this.waiting.shift();
      if (m.op === 'error') w?.reject(fromWire(m.error));
      else w?.resolve(m);
    });
    this.worker.on('error', (e) => this.end(e));
    this.worker.on('exit', (code) => {
      this.end(new Error(`the ingest worker stopped (exit code ${code})`));
      for (const [id, h] of this.helpers) h.take({ op: 'helper-exited', id, code: null, signal: null });
    });
  }

  /** Starts the helper on this worker (RunElsewhere), once the one before it (if any) has exited. */
  runHelper(plan: LaunchPlan, envelope: Envelope, opts: { dir: string; signal?: AbortSignal }): HelperProcess {
    if (this.ended) throw this.ended;
    const id = this.nextHelperId++;
    const h = new HelperOnWorker(this, id, opts.signal, () => this.helpers.delete(id));
    this.helpers.set(id, h);
    this.send({ op: 'helper-run', id, plan, envelope, dir: opts.dir });
    return h;
  }

  private end(e: Error): void {
    if (!this.ended) for (const h of this.helpers.values()) h.fail(e);
    this.ended ??= e;
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  send(m: ToWorker, transfer?: ArrayBuffer[]): void {
    if (!this.ended) this.worker.postMessage(m, transfer);
  }

  /** Sends m and waits for the worker's answer, which must be an `op` one; an `error` answer is thrown. */
  async ask<K extends FromWorker['op']>(m: ToWorker, op: K): Promise<Extract<FromWorker, { op: K }>> {
    if (this.ended) throw this.ended;
    const a = await new Promise<FromWorker>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.send(m);
    });
    if (a.op !== op) throw new Error(`the ingest worker answered ${a.op} to ${m.op}`);
    return a as Extract<FromWorker, { op: K }>;
  }

  dispose(): void {
    // A helper still running here is cancelled, and the worker ended once it has exited: its
    // stop, SIGTERM and SIGKILL run on this worker, and ending the worker first would leave it
    // only the EOF on its stdin.
    const running = [...this.helpers.values()];
    for (const h of running) h.cancel();
    this.end(new Error('the ingest job was abandoned'));
    const exited = running.length
      ? Promise.race([Promise.all(running.map((h) => h.exit())), new Promise((r) => setTimeout(r, HELPER_EXIT_WAIT_MS))])
      : Promise.resolve();
    void exited.then(() => this.worker.terminate());
  }
}

/** How long an abandoned job waits for its helper to exit (its cancel takes up to twice 3 s). */
const HELPER_EXIT_WAIT_MS = 10_000;

/**
 * The host's side of a helper started on a job's worker (IngestJob.runHelper): what it sends is
 * taken here and yielded in order; stop and cancel go over as messages (the caller's AbortSignal
 * cancels too).
 */
class HelperOnWorker implements HelperProcess {
  pid: number | undefined;
  private readonly items: HelperMessage[] = [];
  private failure: Error | undefined;
  private exited: HelperExit | undefined;
  private wake: (() => void) | undefined;
  private readonly exitInfo: Promise<HelperExit>;
  private resolveExit: (e: HelperExit) => void = () => undefined;
  private consumed = false;
  private readonly onAbort = (): void => this.cancel();

  constructor(
    private readonly job: IngestJob,
    private readonly id: number,
    private readonly signal: AbortSignal | undefined,
    private readonly onExit: () => void,
  ) {
    if (signal?.aborted) throw cancelledError();
    this.exitInfo = new Promise((resolve) => (this.resolveExit = resolve));
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The worker's helper-* messages (and a helper-exited of our own when the worker itself stopped). */
  take(m: Extract<FromWorker, { op: 'helper-started' | 'helper-items' | 'helper-failed' | 'helper-exited' }>): void {
    if (m.op === 'helper-started') this.pid = m.pid;
    else if (m.op === 'helper-items') this.items.push(...m.items);
    else if (m.op === 'helper-failed') this.failure ??= fromWire(m.error);
    else if (!this.exited) {
      this.exited = { code: m.code, signal: m.signal };
      this.signal?.removeEventListener('abort', this.onAbort);
      this.resolveExit(this.exited);
      this.onExit();
    }
    this.wakeReader();
  }

  /** The job ended (its worker stopped, or it was abandoned): the messages end with why. */
  fail(e: Error): void {
    this.failure ??= e;
    this.wakeReader();
  }

  private wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  stop(): void {
    if (!this.exited) this.job.send({ op: 'helper-stop', id: this.id });
  }

  cancel(): void {
    if (!this.exited) this.job.send({ op: 'helper-cancel', id: this.id });
  }

  exit(): Promise<HelperExit> {
    return this.exitInfo;
  }

  /** As HelperClient.messages: in order, ending with the run; breaking out of the loop cancels the helper. */
  async *messages(): AsyncGenerator<HelperMessage> {
    if (this.consumed) throw new Error('HelperOnWorker.messages() can be iterated once');
    this.consumed = true;
    try {
      for (;;) {
        const item = this.items.shift();
        if (item) yield item;
        else if (this.failure) throw this.failure;
        else if (this.exited) return;
        else await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      if (!this.exited) this.cancel();
    }
  }
}

/** readProfileFile (session, pprof, perf.data + binary) on a worker thread. */
export async function readProfileInWorker(
  file: string,
  pickBinary: (recorded: string | undefined) => Promise<string | undefined>,
): Promise<ReadProfile> {
  const job: IngestJob = new IngestJob((m) => {
    if (m.op !== 'need-binary') return;
    pickBinary(m.recorded).then(
      (p) => job.send({ op: 'binary', path: p }),
      () => job.send({ op: 'binary', path: undefined }),
    );
  });
  try {
    const done = await job.ask({ op: 'read', file }, 'done');
    return { profile: done.profile, label: done.label ?? path.basename(file) };
  } finally {
    job.dispose();
  }
}

/** A new job that opens the target's executable (`stream-open`, `bpf-open`, `trace-open`, `heat-open`); ended again when that fails. */
async function openJob(
  m: ToWorker,
  onMessage?: (m: FromWorker) => void,
): Promise<{ job: IngestJob; opened: Extract<FromWorker, { op: 'opened' }> }> {
  const job = new IngestJob(onMessage);
  try {
    return { job, opened: await job.ask(m, 'opened') };
  } catch (e) {
    job.dispose();
    throw e;
  }
}

/**
 * A perf recording ingested on a worker while it is recorded (StreamedPerfIngest, there): the
 * recording helper runs there (runHelper), perf.data's bytes taken in as they come; finish()
 * when the recording ended. dispose() whatever happens.
 */
export class StreamedIngestInWorker {
  /**
   * For the recording's helper (RecordOptions.runElsewhere): it is started and read on the
   * worker, where perf.data's base64 chunks are decoded, hashed, written and ingested, so the
   * extension host's thread neither spawns it nor reads a byte of its output.
   */
  readonly runHelper: RunElsewhere;

  private constructor(
    private readonly job: IngestJob,
    readonly binaryPath: string,
    /** No partial profile is passed on after this (the final one is on its way). */
    private readonly stopPartials: () => void,
  ) {
    this.runHelper = (plan, envelope, opts) => job.runHelper(plan, envelope, opts);
  }

  /**
   * Opens the target's executable in the worker; a non-Go or unreadable one is a UserError (nothing
   * recorded yet). `onPartial`: the profile so far, about once a second while it records (until
   * finish()), without its stack table (what the views draw has no need of it).
   */
  static async open(
    exe: { bytes: Uint8Array; path: string },
    pid: number,
    onPartial?: (profile: Profile) => void,
  ): Promise<StreamedIngestInWorker> {
    let finished = false;
    const { job, opened } = await openJob(
      { op: 'stream-open', bytes: exe.bytes, path: exe.path, pid, live: onPartial !== undefined },
      (m) => {
        if (m.op === 'partial' && !finished) onPartial?.(JSON.parse(m.json) as Profile);
      },
    );
    return new StreamedIngestInWorker(job, opened.path, () => (finished = true));
  }

  async finish(perfDataPath: string, opts: PerfIngestOptions): Promise<Profile> {
    this.stopPartials();
    return (await this.job.ask({ op: 'stream-finish', perfDataPath, opts }, 'done')).profile;
  }

  dispose(): void {
    this.stopPartials();
    this.job.dispose();
  }
}

/**
 * The eBPF sampler's recording ingested on a worker while it is recorded (BpfProfileIngest,
 * there): open() reads nothing more than it is given (the target's executable) and says what the
 * sampler's arguments need; the sampler's helper runs there (runHelper), where each partial's
 * stacks are taken in as they come; finish() takes the result's (the last second's). dispose()
 * whatever happens.
 */
export class BpfIngestInWorker {
  /**
   * For the sampler's helper (RunHelperOptions.runElsewhere): started and read on the worker, which
   * takes each partial's stacks in and passes the partial on without them (unless `keepStacks`).
   */
  readonly runHelper: RunElsewhere;

  private constructor(
    private readonly job: IngestJob,
    readonly binaryPath: string,
    readonly facts: BpfBinaryFacts,
    /** No partial profile is passed on after this (the final one is on its way). */
    private readonly stopPartials: () => void,
  ) {
    this.runHelper = (plan, envelope, opts) => job.runHelper(plan, envelope, opts);
  }

  /**
   * Opens the target's executable in the worker; a non-Go or unreadable one is a UserError (nothing
   * recorded yet). `onPartial`: the profile so far after each partial's stacks (until finish()),
   * without its stack table. `keepStacks`: the partials reach the caller with their stacks too.
   */
  static async open(
    exe: { bytes: Uint8Array; path: string },
    pid: number,
    onPartial?: (profile: Profile) => void,
    keepStacks = false,
  ): Promise<BpfIngestInWorker> {
    let finished = false;
    const { job, opened } = await openJob(
      { op: 'bpf-open', bytes: exe.bytes, path: exe.path, pid, live: onPartial !== undefined, keepStacks },
      (m) => {
        if (m.op === 'partial' && !finished) onPartial?.(JSON.parse(m.json) as Profile);
      },
    );
    if (!opened.bpf) {
      job.dispose();
      throw new Error('the ingest worker opened the executable without what the eBPF sampler needs');
    }
    return new BpfIngestInWorker(job, opened.path, opened.bpf, () => (finished = true));
  }

  async finish(result: WireProfileResult, opts: BpfIngestOptions): Promise<Profile> {
    this.stopPartials();
    return (await this.job.ask({ op: 'bpf-finish', result, opts }, 'done')).profile;
  }

  dispose(): void {
    this.stopPartials();
    this.job.dispose();
  }
}

/** ingestEndpointProfile (a net/http/pprof endpoint's answer) on a worker thread. */
export async function ingestEndpointInWorker(bytes: Uint8Array, source: string, opts: EndpointIngestOptions = {}): Promise<Profile> {
  const job = new IngestJob();
  try {
    return (await job.ask({ op: 'endpoint', bytes, source, opts }, 'done')).profile;
  } finally {
    job.dispose();
  }
}

/**
 * The target's executable for an eBPF tracer (latency, scheduling, syscalls), opened on a worker:
 * the probes are planned there (the ELF, its pclntab, DWARF and code are read and decoded there)
 * and the tracer's result is named there. dispose() whatever happens.
 */
export class TraceTargetInWorker {
  private constructor(
    private readonly job: IngestJob,
    readonly buildIds: BuildIds,
    /** The process's start time when its executable was read (readTargetExecutable). */
    readonly startTicks: number | undefined,
  ) {}

  /** Opens the target's executable in the worker; one that is not an ELF file is a not-go UserError. */
  static async open(exe: { bytes: Uint8Array; path: string; startTicks?: number }, pid: number): Promise<TraceTargetInWorker> {
    const { job, opened } = await openJob({ op: 'trace-open', bytes: exe.bytes, path: exe.path, pid });
    return new TraceTargetInWorker(job, opened.buildIds ?? {}, exe.startTicks);
  }

  /** The functions' probe points (TraceTarget.plan); a name that cannot be traced is a UserError. */
  async plan(functions: string[]): Promise<TracePlan> {
    return (await this.job.ask({ op: 'trace-plan', functions }, 'trace-plan')).plan;
  }

  async schedProbes(): Promise<SchedProbes> {
    return (await this.job.ask({ op: 'sched-probes' }, 'sched-probes')).probes;
  }

  async schedLatency(result: WireSchedResult): Promise<SchedLatency> {
    return (await this.job.ask({ op: 'sched-finish', result }, 'sched')).sched;
  }

  async syscallStats(result: WireSyscallsResult): Promise<SyscallStat[]> {
    return (await this.job.ask({ op: 'syscalls-finish', result }, 'syscalls')).syscalls;
  }

  dispose(): void {
    this.job.dispose();
  }
}

/**
 * The target's executable for the allocation and blocking recordings, opened on a worker: their
 * probes are planned there, the helper's results ingested there (symbolized, charged, unsampled)
 * and, for "What to record", made into one profile there. Both recordings of one window may share
 * it (their questions are answered in turn). dispose() whatever happens.
 */
export class HeatTargetInWorker {
  private constructor(
    private readonly job: IngestJob,
    readonly buildIds: BuildIds,
    /** The process's start time when its executable was read (readTargetExecutable). */
    readonly startTicks: number | undefined,
  ) {}

  /** Opens the target's executable in the worker; a non-Go or unreadable one is a not-go UserError. */
  static async open(exe: { bytes: Uint8Array; path: string; startTicks?: number }, pid: number): Promise<HeatTargetInWorker> {
    const { job, opened } = await openJob({ op: 'heat-open', bytes: exe.bytes, path: exe.path, pid });
    return new HeatTargetInWorker(job, opened.buildIds ?? {}, exe.startTicks);
  }

  async allocProbes(): Promise<AllocProbes> {
    return (await this.job.ask({ op: 'alloc-probes' }, 'alloc-probes')).probes;
  }

  async blockingProbes(): Promise<BlockingProbes> {
    return (await this.job.ask({ op: 'blocking-probes' }, 'blocking-probes')).probes;
  }

  /** The allocation sampler's result ingested; `warnings` (the helper's) come first in the heat's. */
  async allocHeat(result: WireAllocsResult, warnings: string[]): Promise<AllocHeat> {
    return (await this.job.ask({ op: 'allocs-finish', result, warnings }, 'alloc-heat')).heat;
  }

  async blockHeat(result: WireBlockingResult, warnings: string[]): Promise<BlockHeat> {
    return (await this.job.ask({ op: 'blocking-finish', result, warnings }, 'block-heat')).heat;
  }

  /** The profile of the results ingested so far in this job, with `opts.cpu`'s samples. */
  async profile(opts: HeatProfileOptions): Promise<Profile> {
    return (await this.job.ask({ op: 'heat-profile', opts }, 'done')).profile;
  }

  dispose(): void {
    this.job.dispose();
  }
}
