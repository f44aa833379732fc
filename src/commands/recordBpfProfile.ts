/**
 * Records a Go process with the eBPF CPU sampler (the helper's `profile`, bpf/go_cpu_profile.c)
 * and ingests it into the Profile model: the same model as a perf recording, but with the
 * caller that frame-pointer stacks skip at frameless points put back exactly. No vscode here.
 */
import { type HelperClient, type PasswordPrompt, type Target, buildIdArgs, runHelper } from '../capture';
import type { HelperMessage } from '../capture/helperProtocol';
import { ingestBpfProfile, type WireProfileResult } from '../ingest/fromBpfProfile';
import type { LoadedBinary } from '../ingest/loadBinary';
import type { Profile } from '../model/profile';
import { UserError } from '../util/userError';
import { localStartTicks } from './processIdentity';
import { loadTargetBinary } from './targetBinary';

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

/** The link-time range of the binary's code, which bounds the SP words the sampler keeps. */
function textRange(bin: LoadedBinary): { lo: number; hi: number } {
  const t = bin.elf.section('.text');
  if (t && t.size > 0) return { lo: Number(t.addr), hi: Number(t.addr) + t.size };
  const x = bin.segments.filter((s) => s.flags & 1);
  if (x.length === 0) throw new UserError(`${bin.path} has no executable code segment`, 'pass the PID of a Go process', 'not-go');
  return { lo: Math.min(...x.map((s) => s.vaddr)), hi: Math.max(...x.map((s) => s.vaddr + s.memsz)) };
}

/** Samples a Go process with the eBPF sampler for durationSec and returns the model. */
export async function recordBpfProfile(target: Target, req: BpfProfileRequest, opts: BpfProfileOptions = {}): Promise<BpfRecording> {
  const bin = await loadTargetBinary(target, req.pid, opts);
  const { lo, hi } = textRange(bin);
  const args: Record<string, unknown> = {
    pid: req.pid,
    duration: Math.max(1, Math.round(req.durationSec)),
    freq: req.freqHz ?? 999,
    event: req.event ?? 'auto',
    textLo: lo,
    textHi: hi,
    ...buildIdArgs(bin.elf),
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
  const targetInfo: NonNullable<Profile['target']> = { pid: req.pid, cmdline: bin.path, recordedAs: 'root' };
  if (target.kind === 'ssh') targetInfo.host = target.host;
  else if (startTicks !== undefined) targetInfo.startTicks = startTicks;
  const profile = ingestBpfProfile(run.result, bin, { target: targetInfo, startTimeMs, warnings: run.warnings });
  profile.ended = { by: run.result.endedBy, afterSec: run.result.elapsedSec, requestedSec: req.durationSec };
  return { profile, wire: run.result };
}
