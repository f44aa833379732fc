/**
 * The allocation and blocking recordings' side of the target's executable (runs on the ingest
 * worker, see ingestWorker.ts): opened once for symbolization, the probes planned from it
 * (runtime.mProf_Malloc and runtime.MemProfileRate; runtime.gopark and runtime.execute), the
 * helper's results ingested with it (allocHeat, blockHeat) and, for "What to record", made into
 * one profile with the CPU samples of the same window (heatProfile). recordAllocs.ts,
 * recordBlocking.ts and recordHeat.ts ask for these.
 */
import { type AllocHeat, ingestAllocs, type WireAllocsResult } from '../ingest/allocHeat';
import { type BlockHeat, ingestBlocking, type WireBlockingResult } from '../ingest/blockHeat';
import { heatProfile } from '../ingest/heatProfile';
import type { LoadedBinary } from '../ingest/loadBinary';
import type { Profile } from '../model/profile';
import { type AllocProbePlan, planAllocProbe } from '../symbolize/goAllocPlan';
import { GoBinaryIndex } from '../symbolize/goTracePlan';
import { waitReasonNames } from '../symbolize/goWaitReasons';
import { openTargetBinary } from './targetBinary';
import type { BuildIds } from './traceTarget';

/** The helper's `allocs` arguments from the executable (the addresses link-time, as numbers). */
export interface AllocProbes {
  mprofMalloc: number;
  sizeReg: AllocProbePlan['sizeReg'];
  rateAddr: number;
  rateAddrFrom: AllocProbePlan['rateAddrFrom'];
}

/** The helper's `blocking` arguments: runtime.gopark's and runtime.execute's probe points (after their stack checks). */
export interface BlockingProbes {
  gopark: number;
  execute: number;
}

/** What the profile of "What to record" takes besides the eBPF results ingested here (heatProfile's HeatRecordings). */
export interface HeatProfileOptions {
  cpu?: Profile;
  target?: Profile['target'];
  requestedSec: number;
  startTimeMs?: number;
}

export class HeatTarget {
  private readonly bin: LoadedBinary;
  private index?: GoBinaryIndex;
  private allocPlan?: AllocProbePlan;
  private allocs?: { wire: WireAllocsResult; heat: AllocHeat };
  private blocking?: { wire: WireBlockingResult; heat: BlockHeat };

  /** Opens the executable of PID `pid`; a non-Go or unreadable one is a not-go UserError (openTargetBinary). */
  constructor(bytes: Uint8Array, exePath: string, pid: number) {
    this.bin = openTargetBinary(bytes, exePath, pid);
  }

  buildIds(): BuildIds {
    const { goBuildId, gnuBuildId } = this.bin.elf;
    return { ...(goBuildId ? { goBuildId } : {}), ...(gnuBuildId ? { gnuBuildId } : {}) };
  }

  /** Opened on first use: a binary eBPF cannot trace is refused here (see GoBinaryIndex). */
  private goIndex(): GoBinaryIndex {
    return (this.index ??= new GoBinaryIndex(this.bin.elf));
  }

  allocProbes(): AllocProbes {
    const plan = (this.allocPlan = planAllocProbe(this.goIndex()));
    return { mprofMalloc: Number(plan.probe), sizeReg: plan.sizeReg, rateAddr: Number(plan.rateAddr), rateAddrFrom: plan.rateAddrFrom };
  }

  blockingProbes(): BlockingProbes {
    const idx = this.goIndex();
    const entry = (name: string): number => Number(idx.probesOf(idx.resolve(name)[0]!).entry);
    return { gopark: entry('runtime.gopark'), execute: entry('runtime.execute') };
  }

  /** The allocation sampler's result as estimated bytes and objects per function and line; `warnings`: the helper's. */
  allocHeat(wire: WireAllocsResult, warnings: readonly string[]): AllocHeat {
    const heat = ingestAllocs(wire, this.bin);
    heat.warnings.unshift(...warnings);
    if (this.allocPlan?.warning) heat.warnings.unshift(this.allocPlan.warning);
    this.allocs = { wire, heat };
    return heat;
  }

  /** The blocking sampler's result as blocked time per function, line and wait reason; `warnings`: the helper's. */
  blockHeat(wire: WireBlockingResult, warnings: readonly string[]): BlockHeat {
    const heat = ingestBlocking(wire, this.bin, waitReasonNames(this.goIndex().goVersion));
    heat.warnings.unshift(...warnings);
    this.blocking = { wire, heat };
    return heat;
  }

  /** One profile of the results ingested here (allocations and/or blocking) and `cpu`'s samples. */
  profile(opts: HeatProfileOptions): Profile {
    if (!this.allocs && !this.blocking) throw new Error('a heat profile before any allocation or blocking result');
    return heatProfile({
      bin: this.bin,
      ...opts,
      ...(this.allocs ? { allocs: this.allocs } : {}),
      ...(this.blocking ? { blocking: this.blocking } : {}),
    });
  }
}
