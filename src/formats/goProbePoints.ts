/**
 * Where to put uprobes in one amd64 Go function, found by decoding its machine code with
 * iced-x86: the first instruction after the prologue's stack check (the "entry" probe) and
 * every RET (the "exit" probes). Never a uretprobe: it rewrites the return address on the
 * goroutine stack, which Go moves.
 *
 * Why after the stack check: when the stack is too small, the prologue calls
 * runtime.morestack, which grows the stack and re-runs the function from its first
 * instruction; a probe there would count that call twice. The check has three shapes
 * (cmd/internal/obj/x86 stacksplit, Go ≥ 1.17, g in R14; ABI0 assembly loads g into another
 * register first):
 *   small frames   CMPQ SP, 16(R14);              JLS morestack
 *   big frames     LEAQ -N(SP), R12; CMPQ R12, 16(R14); JLS morestack
 *   huge frames    MOVQ SP, R12; SUBQ $N, R12; JCS morestack; CMPQ R12, 16(R14); JLS morestack
 * NOSPLIT functions have no check: their entry is their first instruction.
 */
import { type IcedX86, loadIced } from './icedX86';

/** stackguard0's offset in runtime.g (amd64; unchanged since Go 1.4). */
const STACKGUARD0_OFFSET = 16n;
/** The stack check is at most this many instructions into the function. */
const PROLOGUE_WINDOW = 6;

export interface GoProbePoints {
  /** Address of the first instruction after the stack check (== lowPc without one). */
  entry: bigint;
  /** Whether a stack check was found. */
  stackCheck: boolean;
  /** Address of every RET in [lowPc, highPc). */
  rets: bigint[];
  /** Unconditional jumps leaving the function (tail calls, wrappers): returns that no RET probe sees. */
  exitJumps: bigint[];
}

interface Insn {
  ip: bigint;
  next: bigint;
  mnemonic: IcedX86.Mnemonic;
  flow: IcedX86.FlowControl;
  /** For CMP: operand 1 is a memory operand [base + 16]. */
  cmpStackGuard: boolean;
  branchTarget?: bigint;
}

/** Decodes `code` (the bytes of [lowPc, lowPc + code.length)) as 64-bit x86. */
function decodeAll(code: Uint8Array, lowPc: bigint): Insn[] {
  const { Decoder, DecoderOptions, Mnemonic, OpKind } = loadIced();
  const d = new Decoder(64, code, DecoderOptions.None);
  d.ip = lowPc;
  const out: Insn[] = [];
  try {
    while (d.canDecode) {
      const ins = d.decode();
      try {
        const insn: Insn = {
          ip: ins.ip,
          next: ins.nextIP,
          mnemonic: ins.mnemonic,
          flow: ins.flowControl,
          cmpStackGuard: ins.mnemonic === Mnemonic.Cmp && ins.op1Kind === OpKind.Memory && ins.memoryDisplacement === STACKGUARD0_OFFSET,
        };
        if (ins.op0Kind === OpKind.NearBranch64) insn.branchTarget = ins.nearBranch64;
        out.push(insn);
      } finally {
        ins.free();
      }
    }
  } finally {
    d.free();
  }
  return out;
}

/**
 * Probe points of the function whose code is `code`, starting at virtual address `lowPc`.
 * The bytes must be exactly the function's [lowPc, highPc) (trailing INT3 padding is fine).
 */
export function findGoProbePoints(code: Uint8Array, lowPc: bigint): GoProbePoints {
  const { FlowControl, Mnemonic } = loadIced();
  const insns = decodeAll(code, lowPc);
  const highPc = lowPc + BigInt(code.length);
  let entry = lowPc;
  let stackCheck = false;
  for (let i = 0; i < Math.min(insns.length - 1, PROLOGUE_WINDOW); i++) {
    const a = insns[i]!;
    const b = insns[i + 1]!;
    // CMP reg, 16(g) immediately followed by the conditional branch to morestack (JLS = JBE).
    if (a.cmpStackGuard && b.mnemonic === Mnemonic.Jbe && b.flow === FlowControl.ConditionalBranch) {
      entry = b.next;
      stackCheck = true;
      break;
    }
  }
  const rets: bigint[] = [];
  const exitJumps: bigint[] = [];
  for (const insn of insns) {
    if (insn.mnemonic === Mnemonic.Ret) rets.push(insn.ip);
    else if (
      insn.flow === FlowControl.UnconditionalBranch &&
      insn.branchTarget !== undefined &&
      (insn.branchTarget < lowPc || insn.branchTarget >= highPc)
    ) {
      exitJumps.push(insn.ip);
    }
  }
  return { entry, stackCheck, rets, exitJumps };
}
