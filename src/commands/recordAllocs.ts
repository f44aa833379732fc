/**
 * Allocation heat end to end (no vscode here): read the target's binary, find the probe point
 * of runtime.mProf_Malloc and the address of runtime.MemProfileRate on this side, run the
 * helper's `allocs` (bpf/go_alloc_heat.c), and turn the sampled allocations into estimated bytes
 * and objects per function and line.
 */
import { buildIdArgs, runHelper } from '../capture';
import { type AllocHeat, ingestAllocs, type WireAllocsResult } from '../ingest/allocHeat';
import { type AllocProbePlan, planAllocProbe } from '../symbolize/goAllocPlan';
import { GoBinaryIndex } from '../symbolize/goTracePlan';
import type { LoadedBinary } from '../ingest/loadBinary';
import type { TracingOptions } from './goTracing';
import { loadTargetBinary } from './targetBinary';

export interface AllocsRecording {
  /** The target's binary, as the recording was symbolized with. */
  bin: LoadedBinary;
  heat: AllocHeat;
  plan: AllocProbePlan;
  wire: WireAllocsResult;
}

/** maxHitsPerSec: the probe budget (hits/s over a second) above which the helper stops early (its default: 20,000). */
export async function recordAllocs(opts: TracingOptions & { maxHitsPerSec?: number }): Promise<AllocsRecording> {
  const bin = await loadTargetBinary(opts.target, opts.pid, opts);
  const plan = planAllocProbe(new GoBinaryIndex(bin.elf));
  const run = await runHelper<WireAllocsResult>(
    opts.target,
    'allocs',
    {
      pid: opts.pid,
      duration: opts.durationSec,
      mprofMalloc: Number(plan.probe),
      sizeReg: plan.sizeReg,
      rateAddr: Number(plan.rateAddr),
      ...buildIdArgs(bin.elf),
      ...(opts.maxHitsPerSec !== undefined ? { maxHitsPerSec: opts.maxHitsPerSec } : {}),
    },
    {
      signal: opts.signal,
      askPassword: opts.askPassword,
      onStart: opts.onStart,
      onMessage: (m) => {
        if (m.type === 'progress' && m.phase === 'attached')
          opts.onAttached?.({ probes: Number(m.probes), attachMs: Number(m.attachMs), compileMs: Number(m.compileMs) });
        opts.onMessage?.(m);
      },
    },
  );
  const heat = ingestAllocs(run.result, bin);
  heat.warnings.unshift(...run.warnings);
  if (plan.warning) heat.warnings.unshift(plan.warning);
  return { bin, heat, plan, wire: run.result };
}
