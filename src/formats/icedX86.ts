/**
 * iced-x86 (the full x86 decoder), loaded on first use only: its JS glue and wasm cost ~45 ms
 * at require time, and most runs never need it. decodeCalls finds the CALLs of x86-64 code.
 */
import type * as IcedX86 from 'iced-x86';

export type { IcedX86 };

let iced: typeof IcedX86 | undefined;

export function loadIced(): typeof IcedX86 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (iced ??= require('iced-x86') as typeof IcedX86);
}

/** What decodeCalls() learns: every CALL in address order. */
export interface X86Calls {
  /** Address just past each call (its return address). */
  ends: number[];
  /**
   * Its target: the address for CALL rel32, INDIRECT_TARGET for CALL r/m64 and far CALL m16:xx,
   * NaN for a call with no near target (SYSCALL, which iced-x86 classes FlowControl.Call).
   */
  targets: number[];
}

/** Target of an indirect call (FF /2, FF /3). */
export const INDIRECT_TARGET = -1;

/** The CALLs of x86-64 code placed at address `entry`. */
export function decodeCalls(code: Uint8Array, entry: number): X86Calls {
  const { Decoder, DecoderOptions, FlowControl, Instruction, OpKind } = loadIced();
  const ends: number[] = [];
  const targets: number[] = [];
  // One reused Instruction (decodeOut), ends as numbers from lengths, and the branch target
  // (a bigint) read only for calls: a fresh wasm-backed Instruction and a bigint nextIP per
  // instruction cost more than the decoding itself.
  const d = new Decoder(64, code, DecoderOptions.None);
  const ins = new Instruction();
  try {
    d.ip = BigInt(entry);
    let end = entry;
    while (d.canDecode) {
      d.decodeOut(ins);
      end += ins.length;
      const fc = ins.flowControl;
      if (fc === FlowControl.Call) {
        ends.push(end);
        targets.push(ins.op0Kind === OpKind.NearBranch64 ? Number(ins.nearBranch64) : NaN);
      } else if (fc === FlowControl.IndirectCall) {
        ends.push(end);
        targets.push(INDIRECT_TARGET);
      }
    }
  } finally {
    ins.free();
    d.free();
  }
  return { ends, targets };
}
