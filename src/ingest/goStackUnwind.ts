/**
 * Unwinds a Go stack from a sample's user-stack dump (perf record --call-graph dwarf) with Go's
 * own frame table: the pcsp table gives the SP delta at every pc, so the return address of every
 * frame sits exactly at SP + delta — frameless leaves, prologues and epilogues included, where a
 * frame-pointer walk loses the caller. Saved frame pointers are the cross-check: in a frame that
 * made a call, the word below the return address is the caller's frame pointer.
 *
 * The walk ends at the outermost frame (funcFlag TOPFRAME: runtime.goexit, mstart), or says
 * why it ended before: the dump ran out (truncated), the next frame is not Go code of the binary
 * (cgo, vdso, another library), the stack switched (funcFlag SPWRITE: runtime.systemstack and
 * friends, whose caller is on another stack than the one dumped), or no table covers a pc.
 */
import type { GoFrameInfo } from '../symbolize/symbolizer';

/** Why a walk ended: only 'bottom' is a whole stack. */
export type UnwindEnd = 'bottom' | 'truncated' | 'notGo' | 'stackSwitch' | 'noTable';

export interface UnwindResult {
  /** Addresses written to `out`: the sampled ip, then return addresses (run-time addresses). */
  n: number;
  end: UnwindEnd;
  /** Frames whose saved frame pointer could be compared with the unwound caller's, and those that disagreed. */
  fpChecked: number;
  fpDisagreed: number;
}

/** What the walk reads: the dump and registers of one sample, and the binary's frame table. */
export interface UnwindInput {
  ip: number;
  sp: number;
  /** Stack memory from sp upwards (the bytes the kernel copied). */
  stack: Uint8Array;
  /** Link-time address of a run-time one, NaN when it is not in the binary's code. */
  toLink(addr: number): number;
  frameAt(linkPc: number): GoFrameInfo | undefined;
}

const TWO32 = 2 ** 32;

/** The 8-byte word at run-time address `addr`, or undefined outside the dump. */
function wordAt(stack: Uint8Array, sp: number, addr: number): number | undefined {
  const off = addr - sp;
  if (off < 0 || off + 8 > stack.length) return undefined;
  const v = new DataView(stack.buffer, stack.byteOffset + off, 8);
  return v.getUint32(4, true) * TWO32 + v.getUint32(0, true);
}

export function unwindGoStack(u: UnwindInput, out: Float64Array): UnwindResult {
  let n = 0,
    fpChecked = 0,
    fpDisagreed = 0;
  const done = (end: UnwindEnd): UnwindResult => ({ n, end, fpChecked, fpDisagreed });
  if (out.length === 0) return done('truncated');
  out[n++] = u.ip;
  const link = u.toLink(u.ip);
  if (Number.isNaN(link)) return done('notGo');
  let fi = u.frameAt(link);
  if (!fi) return done('noTable');
  let sp = u.sp;
  // The innermost frame may be anywhere in its function (the table holds for the pc itself);
  // every caller is stopped at a call, whose table value is that of the CALL (return address − 1).
  for (;;) {
    if (fi.top) return done('bottom');
    if (fi.spWrite && n > 1) return done('stackSwitch');
    const retAt = sp + fi.spDelta;
    const ret = wordAt(u.stack, u.sp, retAt);
    if (ret === undefined) return done('truncated');
    const callerLink = u.toLink(ret);
    if (Number.isNaN(callerLink)) return done('notGo');
    const caller = u.frameAt(callerLink - 1);
    if (!caller) return done('noTable');
    const callerSp = retAt + 8;
    // A frame past its prologue that pushed BP (every Go frame that calls; n > 1: this one made a
    // call) holds its caller's frame pointer right below the return address: the address of the
    // caller's own saved-BP slot.
    if (n > 1 && fi.spDelta >= 16 && caller.spDelta >= 16) {
      const savedBp = wordAt(u.stack, u.sp, retAt - 8);
      if (savedBp !== undefined) {
        fpChecked++;
        if (savedBp !== callerSp + caller.spDelta - 8) fpDisagreed++;
      }
    }
    if (n >= out.length) return done('truncated');
    out[n++] = ret;
    sp = callerSp;
    fi = caller;
  }
}
