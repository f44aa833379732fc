/**
 * Where Go code has no frame of its own, and what to do about the caller that frame-pointer
 * stacks lose there.
 *
 * Go on amd64 keeps frame pointers, but a function with a zero-size frame (a typical hot leaf)
 * never pushes BP, and every function is frameless for the few instructions before its
 * PUSHQ BP and after its POPQ BP. A sample taken there walks from a BP that still belongs to
 * the caller, so the first return address read is the caller's own: the caller is missing.
 * The pcsp table says exactly where this is: SP delta 0 (SP still points at the return
 * address). There the word at SP is the return address into the missing caller; we accept it
 * only when an instruction of a Go function that ends exactly there is a CALL.
 */
import { type GoPclntab, type PcTable, pcTableValue } from '../formats/gopclntab';
import { decodeCalls, INDIRECT_TARGET, type X86Calls } from '../formats/icedX86';

/** Why a caller could (not) be put back, per sample. */
export interface CallerRepairCounts {
  /** Samples whose leaf pc had SP delta 0 (their fp stack skips the caller). */
  framelessLeafSamples: number;
  /** Of those, repaired with the exact return address read at SP. */
  repaired: number;
  /**
   * Of those (stacks without an SP word), repaired by inference that is exact by construction:
   * the next return address follows a direct CALL X, and X makes exactly one direct call to the
   * leaf's function — so X is the missing caller and that call's return address its frame.
   */
  inferred: number;
  /** Of those, the word at SP was already the next frame (nothing was missing). */
  alreadyPresent: number;
  /** Of those, no word at SP was recorded (perf, or the word was not a text address). */
  noWord: number;
  /** Of those, the word at SP was a text address but not right after a CALL. */
  invalidWord: number;
}

export function emptyRepairCounts(): CallerRepairCounts {
  return { framelessLeafSamples: 0, repaired: 0, inferred: 0, alreadyPresent: 0, noWord: 0, invalidWord: 0 };
}

/** Reads `len` bytes of the binary at a link-time virtual address. */
export type TextReader = (vaddr: number, len: number) => Uint8Array | undefined;

export class FramelessIndex {
  private readonly pcsp = new Map<number, PcTable | null>();
  private readonly afterCall = new Map<number, boolean>();
  private readonly decoded = new Map<number, X86Calls | null>();
  private readonly inferred = new Map<string, number | undefined>();
  private goexitEntry: number | undefined | null = null;

  constructor(
    readonly tab: GoPclntab,
    private readonly readText: TextReader,
  ) {}

  /**
   * SP delta (bytes SP has moved down since the function's entry) at link-time address pc, from
   * the pcsp table; undefined when no function covers pc or its table is absent.
   */
  spDeltaAt(pc: number): number | undefined {
    const i = this.tab.findFunc(pc);
    if (i < 0) return undefined;
    let t = this.pcsp.get(i);
    if (t === undefined) {
      const f = this.tab.func(i);
      t = f.pcsp === 0 ? null : this.tab.decodePcTable(f, f.pcsp);
      this.pcsp.set(i, t);
    }
    if (t === null) return undefined;
    const v = pcTableValue(t, pc - this.tab.func(i).entry);
    return v < 0 ? undefined : v;
  }

  /** True where the function holding pc has no frame of its own: fp stacks skip its caller there. */
  isFramelessAt(pc: number): boolean {
    return this.spDeltaAt(pc) === 0;
  }

  /**
   * True when `ret` is a return address: an instruction of the Go function holding ret-1 is a
   * CALL ending exactly at ret (decoded from the function's entry, so no guessing at lengths),
   * or ret is runtime.goexit+1, the return address Go plants below every goroutine's first frame.
   */
  isReturnAddress(ret: number): boolean {
    let ok = this.afterCall.get(ret);
    if (ok !== undefined) return ok;
    ok = this.isGoexitReturn(ret) || this.callEndsAt(ret);
    this.afterCall.set(ret, ok);
    return ok;
  }

  /** True when ret is runtime.goexit+1: the bottom of every goroutine's stack. */
  isGoexitReturn(ret: number): boolean {
    return ret === this.goexit() + 1;
  }

  private goexit(): number {
    if (this.goexitEntry === null) {
      this.goexitEntry = undefined;
      for (let i = 0; i < this.tab.nfunc; i++) {
        const f = this.tab.func(i);
        if (this.tab.funcName(f) === 'runtime.goexit') {
          this.goexitEntry = f.entry;
          break;
        }
      }
    }
    return this.goexitEntry ?? -2;
  }

  private callEndsAt(ret: number): boolean {
    return this.callEndingAt(ret) !== undefined;
  }

  /**
   * The CALL of the function holding ret-1 that ends exactly at ret, as its index in that
   * function's calls (decoded from the entry, so no guessing at lengths); undefined if none.
   * Only calls are kept: an instruction ending at ret that is no call answers "none" alike.
   */
  private callEndingAt(ret: number): { calls: X86Calls; at: number } | undefined {
    const i = this.tab.findFunc(ret - 1);
    if (i < 0) return undefined;
    const calls = this.decode(i);
    if (!calls) return undefined;
    const ends = calls.ends;
    let lo = 0,
      hi = ends.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (ends[m]! < ret) lo = m + 1;
      else hi = m;
    }
    return lo < ends.length && ends[lo] === ret ? { calls, at: lo } : undefined;
  }

  /** Function i's calls (end address; direct target, INDIRECT_TARGET, or NaN for a call without a near target), cached. */
  private decode(i: number): X86Calls | undefined {
    let got = this.decoded.get(i);
    if (got !== undefined) return got ?? undefined;
    got = null;
    const f = this.tab.func(i);
    const code = f.end > f.entry ? this.readText(f.entry, f.end - f.entry) : undefined;
    if (code) got = decodeCalls(code, f.entry);
    this.decoded.set(i, got);
    return got ?? undefined;
  }

  /**
   * For a stack without an SP word whose leaf is frameless: the return address into the missing
   * caller when it can be known exactly. `ret1` is the stack's next return address (into the
   * caller's caller G): when it follows a direct `CALL X` and X holds exactly one direct call to
   * the leaf's function, X is the caller (BP was X's frame: Go gives every function that calls
   * a frame) and that call's return address is the frame. Else undefined.
   */
  inferCaller(leaf: number, ret1: number): number | undefined {
    const li = this.tab.findFunc(leaf);
    if (li < 0) return undefined;
    const key = `${ret1}:${li}`;
    if (this.inferred.has(key)) return this.inferred.get(key);
    const r = this.inferCallerOnce(this.tab.func(li).entry, ret1);
    this.inferred.set(key, r);
    return r;
  }

  private inferCallerOnce(leafEntry: number, ret1: number): number | undefined {
    const hit = this.callEndingAt(ret1);
    const target = hit ? hit.calls.targets[hit.at]! : NaN;
    if (!hit || target === INDIRECT_TARGET || Number.isNaN(target)) return undefined;
    const xi = this.tab.findFunc(target);
    if (xi < 0 || this.tab.func(xi).entry !== target) return undefined;
    const calls = this.decode(xi);
    if (!calls) return undefined;
    let found: number | undefined;
    for (let k = 0; k < calls.ends.length; k++) {
      const t = calls.targets[k]!;
      if (t === INDIRECT_TARGET) return undefined; // X might have reached the leaf another way
      if (t === leafEntry) {
        if (found !== undefined) return undefined; // two call sites: the line is not known
        found = calls.ends[k]!;
      }
    }
    return found;
  }

  /**
   * For a stack without the word at SP (perf's): undefined when the leaf has a frame of its own
   * (nothing is missing); else the missing caller's return address where inferCaller knows it
   * exactly from `ret1` (the stack's next return address, when given), or null.
   */
  callerWithoutWord(leaf: number, ret1: number | undefined): number | null | undefined {
    if (!this.isFramelessAt(leaf)) return undefined;
    return (ret1 !== undefined ? this.inferCaller(leaf, ret1) : undefined) ?? null;
  }

  /**
   * Repairs one user stack of link-time addresses (leaf first, return addresses as they are,
   * not minus one): when the leaf is at SP delta 0 and `spWord` is a valid return address that
   * is not already the next frame, it is inserted after the leaf. Returns the stack to use
   * (the same array when nothing changed) and counts what happened, `count` samples at a time.
   */
  repair(
    stack: readonly number[],
    spWord: number | undefined,
    count: number,
    counts: CallerRepairCounts,
    infer = false,
  ): readonly number[] {
    if (stack.length === 0) return stack;
    if (spWord === undefined || spWord === 0) {
      const c = this.callerWithoutWord(stack[0]!, infer && stack.length > 1 ? stack[1]! : undefined);
      if (c === undefined) return stack;
      counts.framelessLeafSamples += count;
      if (c !== null) {
        counts.inferred += count;
        return [stack[0]!, c, ...stack.slice(1)];
      }
      counts.noWord += count;
      return stack;
    }
    if (!this.isFramelessAt(stack[0]!)) return stack;
    counts.framelessLeafSamples += count;
    if (stack[1] === spWord) {
      counts.alreadyPresent += count;
      return stack;
    }
    if (!this.isReturnAddress(spWord)) {
      counts.invalidWord += count;
      return stack;
    }
    counts.repaired += count;
    return [stack[0]!, spWord, ...stack.slice(1)];
  }
}

/** How many samples still have an unknown caller after ingest (see Profile.missingCallerSamples). */
export function stillMissing(c: CallerRepairCounts): number {
  return c.noWord + c.invalidWord;
}

/** The model's explanation of missing callers, for Profile.warnings; undefined when there are none. */
export function missingCallerWarning(c: CallerRepairCounts, totalSamples: number, sampler: 'perf' | 'bpf'): string | undefined {
  const missing = stillMissing(c);
  if (missing === 0) return undefined;
  const pct = totalSamples > 0 ? ` (${((100 * missing) / totalSamples).toFixed(1)}% of samples)` : '';
  const why =
    'their leaf was where its function had no frame of its own (a frameless leaf, or a prologue or epilogue: SP delta 0 in the pcsp table), so the frame-pointer stack skips the function that called it';
  if (sampler === 'perf') {
    const inferred = c.inferred
      ? ` (${c.inferred} other such sample(s) got their caller back where the next frame's direct call makes it certain)`
      : '';
    return `${missing} sample(s)${pct} have an unknown caller: ${why}; callers' cumulative counts miss these samples${inferred}. The eBPF sampler (the default wherever BCC runs; go-perf-lens record --sampler bpf) reads the return address at SP and puts the caller back exactly.`;
  }
  return `${missing} sample(s)${pct} still have an unknown caller: ${why}, and the word at SP was ${c.invalidWord ? `not a return address (${c.invalidWord}) or ` : ''}not a text address of the binary (${c.noWord}).`;
}
