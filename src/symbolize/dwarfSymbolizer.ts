/**
 * The Symbolizer backed by DWARF: frames exactly as llvm-symbolizer --inlining gives them
 * (innermost inlined subroutine with the line table's file:line; each caller with the
 * call_file:call_line of the inlined call it contains). Addresses are bigint at this edge.
 */
import type { ElfFile } from '../formats/elf';
import { dwarfIndexOf, type DwarfFunction, type DwarfIndex } from '../formats/dwarf/dwarfIndex';
import type { FunctionInfo, SourceFrame, Symbolizer } from './symbolizer';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function toInfo(f: DwarfFunction): FunctionInfo {
  const info: FunctionInfo = { name: f.name, lowPc: BigInt(f.lowPc), highPc: BigInt(f.highPc) };
  if (f.declFile !== undefined) info.declFile = f.declFile;
  if (f.declLine !== undefined) info.declLine = f.declLine;
  return info;
}

export class DwarfSymbolizer implements Symbolizer {
  readonly source = 'dwarf' as const;
  private all?: FunctionInfo[];
  private byName?: Map<string, FunctionInfo>;

  constructor(readonly index: DwarfIndex) {}

  symbolize(pc: bigint): SourceFrame[] {
    if (pc < 0n || pc > MAX_SAFE) return [];
    return this.index.symbolize(Number(pc));
  }

  /** Same as symbolize, for callers that already hold the address as a number. */
  symbolizeNumber(pc: number): SourceFrame[] {
    return this.index.symbolize(pc);
  }

  functionAt(pc: bigint): FunctionInfo | undefined {
    if (pc < 0n || pc > MAX_SAFE) return undefined;
    const f = this.index.functionAt(Number(pc));
    return f && toInfo(f);
  }

  functions(): readonly FunctionInfo[] {
    this.all ??= this.index.functions().map(toInfo);
    return this.all;
  }

  functionByName(name: string): FunctionInfo | undefined {
    if (!this.byName) {
      this.byName = new Map();
      for (const f of this.functions()) if (!this.byName.has(f.name)) this.byName.set(f.name, f);
    }
    return this.byName.get(name);
  }

  /** Byte offset of a struct member from DWARF type information, e.g. ("runtime.g", "goid"). */
  structFieldOffset(typeName: string, fieldName: string): number | undefined {
    return this.index.structFieldOffset(typeName, fieldName);
  }
}

/** A DWARF symbolizer for the binary, or undefined when it has no DWARF. */
export function createDwarfSymbolizer(elf: ElfFile): DwarfSymbolizer | undefined {
  const index = dwarfIndexOf(elf);
  return index && new DwarfSymbolizer(index);
}
