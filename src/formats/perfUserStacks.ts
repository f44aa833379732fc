/**
 * The user registers and user stack memory that `perf record --call-graph dwarf` keeps with
 * each sample (PERF_SAMPLE_REGS_USER, PERF_SAMPLE_STACK_USER): in that mode the kernel's
 * callchain holds only the sampled address, and the rest of the stack must be unwound from
 * these. Kept per sample: the registers asked for and the bytes the kernel really copied
 * (its dyn_size), starting at the user SP.
 */

export interface UserStackDump {
  /** sample_regs_user of the sample's event: which registers `regs` holds, in bit order. */
  mask: bigint;
  /** The registers, as doubles (user addresses are below 2^47: exact). */
  regs: Float64Array;
  /** Bytes of stack asked for (the event's sample_stack_user). */
  requested: number;
  /** The stack memory from the user SP upwards, as copied (dyn_size bytes, ≤ requested). */
  bytes: Uint8Array;
}

/** perf's x86-64 register numbers (arch/x86/include/uapi/asm/perf_regs.h). */
export const X86_REG = { BP: 6, SP: 7, IP: 8 } as const;

/** The value of register `reg` in a dump, or undefined when the event did not ask for it. */
export function userReg(d: UserStackDump, reg: number): number | undefined {
  const bit = 1n << BigInt(reg);
  if ((d.mask & bit) === 0n) return undefined;
  let k = 0;
  for (let b = 0n; b < BigInt(reg); b++) if (d.mask & (1n << b)) k++;
  return d.regs[k];
}

/** Dumps by sample index (samples without one are absent). */
export class UserStacks {
  private readonly dumps = new Map<number, UserStackDump>();

  set(sample: number, dump: UserStackDump): void {
    this.dumps.set(sample, dump);
  }

  dumpOf(sample: number): UserStackDump | undefined {
    return this.dumps.get(sample);
  }

  get size(): number {
    return this.dumps.size;
  }
}
