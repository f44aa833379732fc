/**
 * The stacks of the eBPF allocation and blocking recordings, as source frames: the helper sends
 * runtime user addresses (the probe's own ip first, then return addresses), which become the
 * frames of the call sites, innermost first, each with the address and inline depth it came
 * from. Where a recording charges its figures — the first frame outside the code that does the
 * work for its caller (the runtime's allocator, the frames that park) — is `chargedIndex`, the
 * one rule the per-line figures (allocHeat, blockHeat) and the profile's stacks (heatProfile) share.
 */
import { returnAddressLookup } from './fromPerfData';
import type { LoadedBinary } from './loadBinary';

export interface ChainFrame {
  fn: string;
  file: string;
  line: number;
  /** The call site's address (link-time) and this frame's place in its inline chain (0: innermost). */
  pc: number;
  depth: number;
  /** The outermost frame of its address: the physical function. */
  outer: boolean;
}

/** Turns a recording's user addresses into call-site frames, innermost first. */
export function chainReader(bin: LoadedBinary, loadBias: number): (user: readonly number[]) => ChainFrame[] {
  const sym = bin.symbolizer;
  const callerPc = returnAddressLookup(sym);
  const text = bin.segments.filter((s) => s.flags & 1);
  const inText = (v: number): boolean => text.some((s) => v >= s.vaddr && v < s.vaddr + s.memsz);
  return (user) => {
    const chain: ChainFrame[] = [];
    // user[0] is the probe's own ip (inside the runtime function probed): not a call site.
    for (let i = 1; i < user.length; i++) {
      const v = user[i]! - loadBias;
      if (!inText(v)) continue;
      const pc = callerPc(v);
      const fr = sym.framesAt(pc);
      fr.forEach((f, j) => chain.push({ fn: f.function, file: f.file, line: f.line, pc, depth: j, outer: j === fr.length - 1 }));
    }
    return chain;
  };
}

/** The frame a stack's figures are charged to: the first not `skipped`, else the innermost (the runtime's own work); -1 for no frames. */
export function chargedIndex(chain: readonly ChainFrame[], skipped: (fn: string) => boolean): number {
  if (chain.length === 0) return -1;
  const i = chain.findIndex((f) => !skipped(f.fn));
  return i < 0 ? 0 : i;
}
