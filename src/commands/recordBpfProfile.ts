/**
 * Records a Go process with the eBPF CPU sampler (the helper's `profile`, bpf/go_cpu_profile.c)
 * and ingests it into the Profile model: the same model as a perf recording, but with the
 * caller that frame-pointer stacks skip at frameless points put back exactly. No vscode here.
 */
import { type HelperClient, type PasswordPrompt, type Target, buildIdArgs, runHelper } from '../capture';
import type { HelperMessage } from '../capture/helperProtocol';
import type { WireProfileResult } from '../ingest/fromBpfProfile';
import type { Profile } from '../model/profile';
import { localStartTicks } from './processIdentity';
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
  onStart?: (client: HelperClient) => void;
  /** Where remote binaries are cached; default ~/.cache/go-perf-lens/binaries. */
  binaryCacheDir?: string;
}

export interface BpfRecording {
  profile: Profile;
  wire: WireProfileResult;
}

/** Samples a Go process with the eBPF sampler for durationSec and returns the model. */
export async function recordBpfProfile(target: Target, req: BpfProfileRequest, opts: BpfProfileOptions = {}): Promise<BpfRecording> {
  // The executable is opened, and the result ingested, on a worker thread (ingestWorker.ts).
  const live = await BpfIngestInWorker.open(await readTargetExecutable(target, req.pid, opts), req.pid);
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
    const startTicks = target.kind === 'local' ? localStartTicks(req.pid) : undefined;
    const startTimeMs = Date.now();
    const run = await runHelper<WireProfileResult>(target, 'profile', args, {
      signal: opts.signal,
      askPassword: opts.askPassword,
      onMessage: opts.onMessage,
      onStart: opts.onStart,
    });
    const targetInfo: NonNullable<Profile['target']> = { pid: req.pid, cmdline: live.binaryPath, recordedAs: 'root' };
    if (target.kind === 'ssh') targetInfo.host = target.host;
    else if (startTicks !== undefined) targetInfo.startTicks = startTicks;
    const profile = await live.finish(run.result, { target: targetInfo, startTimeMs, warnings: run.warnings });
    profile.ended = { by: run.result.endedBy, afterSec: run.result.elapsedSec, requestedSec: req.durationSec };
    return { profile, wire: run.result };
  } finally {
    live.dispose();
  }
}
