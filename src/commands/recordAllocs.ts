/**
 * Allocation heat end to end (no vscode here): hand the target's executable to the ingest worker,
 * which finds the probe point of runtime.mProf_Malloc and the address of runtime.MemProfileRate
 * (heatTarget.ts); run the helper's `allocs` (bpf/go_alloc_heat.c) here; and have the worker turn
 * the sampled allocations into estimated bytes and objects per function and line.
 */
import { buildIdArgs, runHelper } from '../capture';
import type { AllocHeat, WireAllocsResult } from '../ingest/allocHeat';
import { openHeatTarget, runOpts, startTicksArg, type TracingOptions } from './goTracing';
import type { HeatTargetInWorker } from './ingestWorker';

export interface AllocsRecording {
  heat: AllocHeat;
  wire: WireAllocsResult;
}

/**
 * maxHitsPerSec: the probe budget (hits/s over a second) above which the helper stops early (its default: 20,000).
 * `shared`: the executable already opened on the worker (recordHeat's, for its profile); else opened and ended here.
 */
export async function recordAllocs(
  opts: TracingOptions & { maxHitsPerSec?: number },
  shared?: HeatTargetInWorker,
): Promise<AllocsRecording> {
  const bin = shared ?? (await openHeatTarget(opts));
  try {
    const { mprofMalloc, sizeReg, rateAddr } = await bin.allocProbes();
    const args: Record<string, unknown> = {
      pid: opts.pid,
      duration: opts.durationSec,
      mprofMalloc,
      sizeReg,
      rateAddr,
      ...buildIdArgs(bin.buildIds),
      ...startTicksArg(opts, bin),
    };
    if (opts.maxHitsPerSec !== undefined) args.maxHitsPerSec = opts.maxHitsPerSec;
    const run = await runHelper<WireAllocsResult>(opts.target, 'allocs', args, runOpts(opts));
    return { heat: await bin.allocHeat(run.result, run.warnings), wire: run.result };
  } finally {
    if (!shared) bin.dispose();
  }
}
