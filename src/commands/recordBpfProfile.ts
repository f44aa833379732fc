/**
 * Records a Go process with the eBPF CPU sampler (the helper's `profile`, bpf/go_cpu_profile.c)
 * and ingests it into the Profile model: the same model as a perf recording, but with the
 * caller that frame-pointer stacks skip at frameless points put back exactly. The sampler's
 * helper runs on the ingest worker: its stacks arrive with its partials, once a second, and are
 * taken in there as they come (and drawn, given onPartial), so its end leaves only the last second
 * to do, and this thread never parses them. No vscode here.
 */
import { type HelperProcess, type PasswordPrompt, type Target, buildIdArgs, runHelper } from '../capture';
import type { HelperMessage } from '../capture/helperProtocol';
import type { WireBpfBatch, WireProfileResult } from '../ingest/fromBpfProfile';
import type { Profile } from '../model/profile';
import { BpfIngestInWorker } from './ingestWorker';
import { readTargetExecutable } from './targetBinary';

export interface BpfProfileRequest {
  pid: number;
  durationSec: number;
  /** Default 999. */
  freqHz?: number;
  /** Default 'auto' (cycles where the PMU has it, else cpu-clock). */
  event?: 'auto' | 'cycles' | 'cpu-clock';
  /** Also take kernel stacks of samples in the kernel (returned, not yet shown). */
  kernelStacks?: boolean;
}

export interface BpfProfileOptions {
  signal?: AbortSignal;
  askPassword?: PasswordPrompt;
  onMessage?: (m: HelperMessage) => void;
  onStart?: (client: HelperProcess) => void;
  /** Where remote binaries are cached; default ~/.cache/go-perf-lens/binaries. */
  binaryCacheDir?: string;
  /** The profile so far, about once a second while it records (live heat); not called once the recording has ended. */
  onPartial?: (profile: Profile) => void;
  /**
   * The partials reach onMessage with their raw stacks (isStacksPartial), for callers that check
   * them; by default they come without: the stacks are taken in on the worker, and carrying them
   * to this thread costs it a large parse every second.
   */
  keepStacks?: boolean;
}

export interface BpfRecording {
  profile: Profile;
  /** The sampler's result: its `stacks` are only those its partials had not carried (see isStacksPartial). */
  wire: WireProfileResult;
}

/** A partial of the sampler that carries stacks (all of its partials do). */
export function isStacksPartial(m: HelperMessage): m is HelperMessage & { type: 'partial'; data: WireBpfBatch } {
  return m.type === 'partial' && Array.isArray((m.data as { stacks?: unknown } | null)?.stacks);
}

/** Samples a Go process with the eBPF sampler for durationSec and returns the model. */
export async function recordBpfProfile(target: Target, req: BpfProfileRequest, opts: BpfProfileOptions = {}): Promise<BpfRecording> {
  // A profile so far says what the final one will about the process and the start (known once
  // the executable is open, before the sampler starts).
  let known: { target: NonNullable<Profile['target']>; startTimeMs: number } | undefined;
  const onPartial = opts.onPartial;
  const partial =
    onPartial &&
    ((p: Profile): void =>
      known ? onPartial({ ...p, target: { ...p.target, ...known.target }, startTimeMs: known.startTimeMs }) : undefined);
  // The executable is opened, and the stacks ingested as they come, on a worker thread (ingestWorker.ts).
  const exe = await readTargetExecutable(target, req.pid, opts);
  const live = await BpfIngestInWorker.open(exe, req.pid, partial, opts.keepStacks);
  try {
    const { textLo, textHi } = live.facts;
    const args: Record<string, unknown> = {
      pid: req.pid,
      duration: Math.max(1, Math.round(req.durationSec)),
      freq: req.freqHz ?? 999,
      event: req.event ?? 'auto',
      textLo,
      textHi,
      ...buildIdArgs(live.facts),
    };
    if (req.kernelStacks) args.kernel = true;
    // The helper checks that the PID still names the process whose executable was just read.
    if (exe.startTicks !== undefined) args.startTicks = exe.startTicks;
    const targetInfo: NonNullable<Profile['target']> = { pid: req.pid, cmdline: live.binaryPath, recordedAs: 'root' };
    if (target.kind === 'ssh') targetInfo.host = target.host;
    if (exe.startTicks !== undefined) targetInfo.startTicks = exe.startTicks;
    const startTimeMs = Date.now();
    known = { target: targetInfo, startTimeMs };
    // The sampler's helper is started and read on the worker, which takes each partial's stacks in.
    const run = await runHelper<WireProfileResult>(target, 'profile', args, {
      signal: opts.signal,
      askPassword: opts.askPassword,
      onMessage: opts.onMessage,
      onStart: opts.onStart,
      runElsewhere: live.runHelper,
    });
    const profile = await live.finish(run.result, { target: targetInfo, startTimeMs, warnings: run.warnings });
    profile.ended = { by: run.result.endedBy, afterSec: run.result.elapsedSec, requestedSec: req.durationSec };
    return { profile, wire: run.result };
  } finally {
    live.dispose();
  }
}
