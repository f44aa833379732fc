/**
 * Blocking heat end to end (no vscode here): hand the target's executable to the ingest worker,
 * which finds the probe points of runtime.gopark and runtime.execute (after their stack checks,
 * heatTarget.ts); run the helper's `blocking` (bpf/go_block_heat.c) here; and have the worker turn
 * the paired waits into blocked time per function, line and wait reason.
 */
import { buildIdArgs, runHelper } from '../capture';
import type { BlockHeat, WireBlockingResult } from '../ingest/blockHeat';
import { openHeatTarget, runOpts, startTicksArg, type TracingOptions } from './goTracing';
import type { HeatTargetInWorker } from './ingestWorker';

export interface BlockingRecording {
  heat: BlockHeat;
  wire: WireBlockingResult;
}

/** `shared`: the executable already opened on the worker (recordHeat's, for its profile); else opened and ended here. */
export async function recordBlocking(
  opts: TracingOptions & { maxHitsPerSec?: number },
  shared?: HeatTargetInWorker,
): Promise<BlockingRecording> {
  const bin = shared ?? (await openHeatTarget(opts));
  try {
    const { gopark, execute } = await bin.blockingProbes();
    const args: Record<string, unknown> = {
      pid: opts.pid,
      duration: opts.durationSec,
      gopark,
      execute,
      ...buildIdArgs(bin.buildIds),
      ...startTicksArg(opts, bin),
    };
    if (opts.maxHitsPerSec !== undefined) args.maxHitsPerSec = opts.maxHitsPerSec;
    const run = await runHelper<WireBlockingResult>(opts.target, 'blocking', args, runOpts(opts));
    return { heat: await bin.blockHeat(run.result, run.warnings), wire: run.result };
  } finally {
    if (!shared) bin.dispose();
  }
}
