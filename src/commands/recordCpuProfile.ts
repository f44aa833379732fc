/**
 * "Record the CPU profile of this process": the one path the CLI's `record` and the editor's
 * "Profile Go process" share, then ingest into the model. No vscode here.
 *
 * The default ('auto') is the eBPF sampler wherever it can run: its stacks keep the caller of
 * frameless leaves, which perf's frame-pointer stacks lose (8–15% of a typical service's
 * samples). Where BCC, the kernel headers or the privilege it needs are missing, 'auto' records
 * with perf and says why in the profile's warnings; the profile's stackMethod names the method.
 */
import * as fs from 'node:fs';
import { type HelperProcess, mayRunAsUser, type PasswordPrompt, type ProgressMessage, recordPerf, type Target } from '../capture';
import type { HelperMessage } from '../capture/helperProtocol';
import type { PerfIngestOptions } from '../ingest/fromPerfData';
import type { Profile } from '../model/profile';
import { UserError } from '../util/userError';
import { StreamedIngestInWorker } from './ingestWorker';
import { recordBpfProfile } from './recordBpfProfile';
import { readTargetExecutable } from './targetBinary';

export type CpuSampler = 'auto' | 'perf' | 'bpf';

/** The helper's and the launcher's error codes that mean "the eBPF sampler cannot run here": then 'auto' uses perf. */
const BPF_UNUSABLE = new Set([
  'bcc-missing',
  'headers-missing',
  'unsupported',
  'not-root',
  'unknown-subcommand',
  'helper-not-installed',
  'sudo-refused',
  'bad-request',
]);

/** The highest sampling rate the recorders take (the helper's own limit; the setting's maximum too). */
export const MAX_SAMPLING_HZ = 20000;

/**
 * Why a recording has no samples, when the rate explains it: at `freqHz` over `elapsedSec` a
 * busy CPU gives about freqHz × elapsedSec samples, so below a handful none may come at all.
 */
export function lowRateReason(freqHz: number, elapsedSec: number): string | undefined {
  const expected = freqHz * elapsedSec;
  if (expected >= 20) return undefined;
  return `no samples: at ${freqHz} Hz for ${elapsedSec.toFixed(1)} s a fully busy CPU gives only about ${Math.round(expected)} sample(s), so none is no sign of an idle process — raise the sampling rate (999 Hz is usual)`;
}

export interface CpuProfileRequest {
  pid: number;
  durationSec: number;
  freqHz: number;
  event: 'auto' | 'cycles' | 'cpu-clock';
  /**
   * perf: perf record's frame-pointer stacks. bpf: the eBPF sampler, which also keeps the caller
   * of frameless leaves. auto (the default): bpf where it can run, else perf.
   */
  sampler?: CpuSampler;
}

export interface CpuProfileOptions {
  signal?: AbortSignal;
  askPassword?: PasswordPrompt;
  binaryCacheDir?: string;
  onProgress?: (p: ProgressMessage) => void;
  /**
   * Once, when samples start being taken: perf runs on the target, or the eBPF sampler has
   * attached (its compile alone can take seconds). "Recording" is said from here, not before.
   */
  onRecording?: () => void;
  /** The recording's helper, once started: its stop() ends the recording early and keeps it. */
  onStart?: (client: HelperProcess) => void;
  /** Samples taken so far, each second (the eBPF sampler's partial results; perf sends none). */
  onSamples?: (samplesSoFar: number) => void;
  /**
   * The profile so far, about once a second while it records (live heat: perf's stream and the
   * eBPF sampler's stacks alike); not called once the recording has ended (the result is the
   * whole profile).
   */
  onPartial?: (profile: Profile) => void;
}

export async function recordCpuProfile(target: Target, req: CpuProfileRequest, options: CpuProfileOptions = {}): Promise<Profile> {
  const opts = withOnRecording(options);
  const sampler = req.sampler ?? 'auto';
  if (sampler === 'bpf') return recordWithBpf(target, req, opts);
  if (sampler === 'perf') return recordWithPerf(target, req, opts);
  // Where perf may record the user's own process without privilege, the eBPF sampler (which
  // needs root) is tried only if it starts without a password: no prompt appears just for it.
  const perfAsUser = mayRunAsUser(target, 'record', { pid: req.pid }) !== undefined;
  try {
    return await recordWithBpf(target, req, perfAsUser ? { ...opts, askPassword: undefined } : opts);
  } catch (e) {
    if (!(e instanceof UserError) || !BPF_UNUSABLE.has(e.code)) throw e;
    const profile = await recordWithPerf(target, req, opts);
    profile.warnings = [
      `recorded with perf: the eBPF sampler, which keeps the callers of frameless leaves, could not run here (${e.message}${e.hint ? `; ${e.hint}` : ''})`,
      ...(profile.warnings ?? []),
    ];
    return profile;
  }
}

/** Folds onRecording into onProgress: the helper's first "perf runs" (perfPid) or "attached" message. */
function withOnRecording(opts: CpuProfileOptions): CpuProfileOptions {
  const { onRecording, onProgress } = opts;
  if (!onRecording) return opts;
  let told = false;
  return {
    ...opts,
    onProgress: (m) => {
      onProgress?.(m);
      if (!told && (typeof m.perfPid === 'number' || m.phase === 'attached')) {
        told = true;
        onRecording();
      }
    },
  };
}

async function recordWithBpf(target: Target, req: CpuProfileRequest, opts: CpuProfileOptions): Promise<Profile> {
  const { pid, durationSec, freqHz, event } = req;
  const onMessage = (m: HelperMessage): void => {
    if (m.type === 'progress') opts.onProgress?.(m);
    else if (m.type === 'partial') {
      const n = (m.data as { samples?: unknown } | null)?.samples;
      if (typeof n === 'number') opts.onSamples?.(n);
    }
  };
  const { profile, wire } = await recordBpfProfile(target, { pid, durationSec, freqHz, event }, { ...opts, onMessage });
  noteLowRate(profile, freqHz, wire.elapsedSec);
  return profile;
}

/**
 * No samples at a very low rate: the rate is why, said in place of a helper's "used no CPU"
 * (which judges the samples alone).
 */
function noteLowRate(profile: Profile, freqHz: number, elapsedSec: number): void {
  const lowRate = profile.totalSamples === 0 ? lowRateReason(freqHz, elapsedSec) : undefined;
  if (lowRate) profile.warnings = [...(profile.warnings ?? []).filter((w) => !/^no samples: PID \d+ used no CPU/.test(w)), lowRate];
}

async function recordWithPerf(target: Target, req: CpuProfileRequest, opts: CpuProfileOptions): Promise<Profile> {
  // A partial profile says what the final one will about the process and the start.
  const known: { target: NonNullable<Profile['target']>; startTimeMs: number } = { target: { pid: req.pid }, startTimeMs: Date.now() };
  const onPartial = opts.onPartial;
  const partial =
    onPartial && ((p: Profile): void => onPartial({ ...p, target: { ...p.target, ...known.target }, startTimeMs: known.startTimeMs }));
  // Read the executable first: a non-Go PID fails before anything is recorded. It is opened,
  // and the recording parsed and ingested, on a worker thread (ingestWorker.ts).
  const exe = await readTargetExecutable(target, req.pid, opts);
  const live = await StreamedIngestInWorker.open(exe, req.pid, partial);
  try {
    known.target.cmdline = live.binaryPath;
    if (target.kind === 'ssh') known.target.host = target.host;
    if (exe.startTicks !== undefined) known.target.startTicks = exe.startTicks;
    known.startTimeMs = Date.now();
    return await recordStreamed(target, req, opts, live, known);
  } finally {
    live.dispose();
  }
}

async function recordStreamed(
  target: Target,
  req: CpuProfileRequest,
  opts: CpuProfileOptions,
  live: StreamedIngestInWorker,
  known: { target: NonNullable<Profile['target']>; startTimeMs: number },
): Promise<Profile> {
  const { target: targetInfo, startTimeMs } = known;
  // perf's output streams in while it records: the helper is started and read on the ingest
  // worker, perf.data parsed there as it comes and taken into the ingest once a second, so only
  // the last second is left to do when the recording ends, and this thread only hears its messages.
  const rec = await recordPerf(
    target,
    { pid: req.pid, durationSec: req.durationSec, freqHz: req.freqHz, event: req.event, stream: true, startTicks: targetInfo.startTicks },
    { ...opts, runElsewhere: live.runHelper },
  );
  try {
    targetInfo.recordedAs = rec.recordedAs;
    const warnings = [...rec.warnings];
    const ingestOpts: PerfIngestOptions = { pid: req.pid, frequencyHz: rec.result.freqHz, target: targetInfo, startTimeMs, warnings };
    if (rec.fallbackReason) ingestOpts.fallbackReason = rec.fallbackReason;
    // The ids the helper read from /proc/PID/exe while perf recorded: the binary must be that build.
    const { goBuildId, gnuBuildId } = rec.result;
    ingestOpts.recordedIds = { ...(goBuildId ? { go: goBuildId } : {}), ...(gnuBuildId ? { gnu: gnuBuildId } : {}) };
    const profile = await live.finish(rec.perfDataPath, ingestOpts);
    if (rec.result.elapsedSec > 0) profile.durationNanos = Math.round(rec.result.elapsedSec * 1e9);
    noteLowRate(profile, rec.result.freqHz, rec.result.elapsedSec);
    // perf ends on its own when the target exits; the helper says which (it saw the process gone).
    const exited = rec.result.endedBy === 'perf-exited' && rec.warnings.some((w) => w.startsWith(`PID ${req.pid} exited`));
    profile.ended = { by: exited ? 'target-exited' : rec.result.endedBy, afterSec: rec.result.elapsedSec, requestedSec: req.durationSec };
    return profile;
  } finally {
    await fs.promises.rm(rec.tempDir, { recursive: true, force: true });
  }
}
