/**
 * "What to record" beyond CPU: allocations and/or blocking, alone or with CPU sampling in the
 * same window. Each runs its own helper at once (for the same duration; a stop stops them
 * all), and their results become one profile with a metric each (ingest/heatProfile). The
 * target's executable is opened once, on the ingest worker: the eBPF recordings plan their probes
 * and ingest their results there, and the profile is made there too.
 */
import type { PasswordPrompt, ProgressMessage, Target, HelperProcess } from '../capture';
import type { Profile } from '../model/profile';
import { openHeatTarget } from './goTracing';
import { recordAllocs } from './recordAllocs';
import { recordBlocking } from './recordBlocking';
import { type CpuSampler, recordCpuProfile } from './recordCpuProfile';

export interface HeatModes {
  allocs: boolean;
  blocking: boolean;
  /** CPU sampling in the same window (perf or the eBPF sampler, as goPerfLens.sampler says). */
  cpu?: { freqHz: number; sampler: CpuSampler };
}

export interface HeatRecordingOptions {
  signal?: AbortSignal;
  askPassword?: PasswordPrompt;
  binaryCacheDir?: string;
  /** Each helper as it starts (a stop must reach every one). */
  onStart?: (client: HelperProcess) => void;
  /** The eBPF probes are live (once per eBPF mode). */
  onAttached?: () => void;
  onProgress?: (m: ProgressMessage) => void;
}

export async function recordHeat(
  target: Target,
  pid: number,
  durationSec: number,
  modes: HeatModes,
  opts: HeatRecordingOptions = {},
): Promise<Profile> {
  const startTimeMs = Date.now();
  // One failing recording ends the others (their helpers detach): nothing is kept of a half.
  const abort = new AbortController();
  const onAbort = (): void => abort.abort();
  opts.signal?.addEventListener('abort', onAbort);
  if (opts.signal?.aborted) abort.abort();
  const signal = abort.signal;
  const failFast = <T>(p: Promise<T>): Promise<T> =>
    p.catch((e: unknown) => {
      abort.abort();
      throw e;
    });
  const tracing = {
    target,
    pid,
    durationSec,
    signal,
    ...(opts.askPassword ? { askPassword: opts.askPassword } : {}),
    ...(opts.binaryCacheDir ? { binaryCacheDir: opts.binaryCacheDir } : {}),
    ...(opts.onStart ? { onStart: opts.onStart } : {}),
    onAttached: () => opts.onAttached?.(),
  };
  if (!modes.allocs && !modes.blocking) throw new Error('recordHeat: neither allocations nor blocking asked for');
  // Opened while the CPU recording starts; both eBPF recordings ask it, and it makes the profile.
  const opening = failFast(openHeatTarget(tracing));
  try {
    const [, , cpu] = await Promise.all([
      modes.allocs ? opening.then((bin) => failFast(recordAllocs(tracing, bin))) : undefined,
      modes.blocking ? opening.then((bin) => failFast(recordBlocking(tracing, bin))) : undefined,
      modes.cpu
        ? failFast(
            recordCpuProfile(
              target,
              { pid, durationSec, freqHz: modes.cpu.freqHz, event: 'auto', sampler: modes.cpu.sampler },
              {
                signal,
                ...(opts.onStart ? { onStart: opts.onStart } : {}),
                ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
                ...(opts.askPassword ? { askPassword: opts.askPassword } : {}),
                ...(opts.binaryCacheDir ? { binaryCacheDir: opts.binaryCacheDir } : {}),
              },
            ),
          )
        : undefined,
    ]);
    const bin = await opening;
    return await bin.profile({
      ...(cpu ? { cpu } : {}),
      target: {
        pid,
        ...(target.kind === 'ssh' ? { host: target.host } : {}),
        ...(cpu?.target?.cmdline ? { cmdline: cpu.target.cmdline } : {}),
      },
      requestedSec: durationSec,
      startTimeMs,
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    void opening.then(
      (bin) => bin.dispose(),
      () => undefined,
    );
  }
}
