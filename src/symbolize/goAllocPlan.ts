/**
 * Where the allocation sampler looks in a Go binary: the uprobe point of runtime.mProf_Malloc
 * (after its stack check), the register holding the sampled allocation's size, and the
 * address of runtime.MemProfileRate, which the helper reads from the process to unsample.
 *
 * MemProfileRate is a data symbol: a stripped binary (-ldflags=-s) has no symbol table, so its
 * address is then read from runtime.profilealloc's code instead, where the inlined
 * runtime.nextSample loads it and compares it with 1 (`MOVQ runtime.MemProfileRate(SB), R;
 * [NOP;] CMPQ R, $1`, Go 1.19–1.23). The tests check that this agrees with the symbol table wherever
 * there is one.
 */
import { loadIced } from '../formats/icedX86';
import { UserError } from '../util/userError';
import type { GoBinaryIndex } from './goTracePlan';

export interface AllocProbePlan {
  /** Uprobe address of runtime.mProf_Malloc, after the stack check. */
  probe: bigint;
  /** mProf_Malloc(p, size) up to Go 1.22: RBX; mProf_Malloc(mp, p, size) from Go 1.23: RCX. */
  sizeReg: 'bx' | 'cx';
  /** Link-time address of runtime.MemProfileRate. */
  rateAddr: bigint;
  rateAddrFrom: 'symtab' | 'code';
  /** Set when the binary's Go version is newer than the ones this was checked on. */
  warning?: string;
}

const NEWEST_CHECKED_MINOR = 23;

export function planAllocProbe(idx: GoBinaryIndex): AllocProbePlan {
  const v = idx.goVersion;
  const mprof = idx.resolve('runtime.mProf_Malloc')[0]!;
  const probe = idx.probesOf(mprof).entry;
  const sizeReg = v.major === 1 && v.minor < 23 ? 'bx' : 'cx';
  const sym = idx.elf.symbols().find((s) => s.name === 'runtime.MemProfileRate');
  let rateAddr: bigint | undefined = sym?.value;
  let rateAddrFrom: AllocProbePlan['rateAddrFrom'] = 'symtab';
  if (rateAddr === undefined) {
    rateAddr = memProfileRateFromCode(idx);
    rateAddrFrom = 'code';
  }
  if (rateAddr === undefined) {
    throw new UserError(
      `cannot find runtime.MemProfileRate in this ${v.text} binary (no symbol table, and runtime.profilealloc does not read it the way Go 1.19–1.23 do)`,
      'build the program without -ldflags=-s to keep its symbol table',
      'no-memprofilerate',
    );
  }
  const plan: AllocProbePlan = { probe, sizeReg, rateAddr, rateAddrFrom };
  if (v.major > 1 || v.minor > NEWEST_CHECKED_MINOR) {
    plan.warning = `allocation sampling was checked on Go 1.19–1.${NEWEST_CHECKED_MINOR}; this binary is ${v.text}`;
  }
  return plan;
}

/** The RIP-relative address that profilealloc loads into a register and compares with 1. */
export function memProfileRateFromCode(idx: GoBinaryIndex): bigint | undefined {
  const f = idx.resolve('runtime.profilealloc')[0]!;
  const off = idx.elf.fileOffsetOf(f.lowPc);
  if (off === undefined) return undefined;
  const code = idx.elf.bytes.subarray(off, off + Number(f.highPc - f.lowPc));
  const { Decoder, DecoderOptions, Mnemonic, OpKind, MemorySize } = loadIced();
  const d = new Decoder(64, code, DecoderOptions.None);
  d.ip = f.lowPc;
  let load: { reg: number; addr: bigint } | undefined;
  try {
    while (d.canDecode) {
      const ins = d.decode();
      try {
        if (
          load &&
          ins.mnemonic === Mnemonic.Cmp &&
          ins.op0Kind === OpKind.Register &&
          ins.op0Register === load.reg &&
          ins.op1Kind !== OpKind.Register &&
          ins.op1Kind !== OpKind.Memory &&
          ins.immediate(1) === 1n
        ) {
          return load.addr;
        }
        if (ins.mnemonic === Mnemonic.Nop) continue; // alignment padding may sit between them (Go 1.19)
        load =
          ins.mnemonic === Mnemonic.Mov &&
          ins.op0Kind === OpKind.Register &&
          ins.op1Kind === OpKind.Memory &&
          ins.isIpRelMemoryOperand &&
          ins.memorySize === MemorySize.UInt64
            ? { reg: ins.op0Register, addr: ins.ipRelMemoryAddress }
            : undefined;
      } finally {
        ins.free();
      }
    }
  } finally {
    d.free();
  }
  return undefined;
}
