/**
 * The Symbolizer backed by DWARF: frames exactly as llvm-symbolizer --inlining gives them
 * (innermost inlined subroutine with the line table's file:line; each caller with the
 * call_file:call_line of the inlined call it contains). Addresses are bigint at this edge.
 */
import type { ElfFile } from '../formats/elf';
import { dwarfIndexOf, type DwarfFunction, type DwarfIndex } from '../formats/dwarf/dwarfIndex';
import type { FunctionInfo, GoFrameInfo, SourceDeclaration, SourceFrame, Symbolizer } from './symbolizer';

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

  framesAt(pc: number): SourceFrame[] {
    return this.index.symbolize(pc);
  }

  /** Names and files by id, interned as frames are asked for. */
  private readonly idOf = new Map<string, number>();
  private readonly strings: string[] = [];

  frameIdsAt(pc: number, out: Int32Array): number {
    const frames = this.index.symbolize(pc);
    for (let f = 0; f < frames.length && f * 3 + 3 <= out.length; f++) {
      out[f * 3] = this.intern(frames[f]!.function);
      out[f * 3 + 1] = this.intern(frames[f]!.file);
      out[f * 3 + 2] = frames[f]!.line;
    }
    return frames.length;
  }

  stringOf(id: number): string {
    return this.strings[id]!;
  }

  private intern(s: string): number {
    let id = this.idOf.get(s);
    if (id === undefined) this.idOf.set(s, (id = this.strings.push(s) - 1));
    return id;
  }

  entryOf(pc: number): number | undefined {
    const f = this.index.functionAt(pc);
    return f ? f.lowPc : undefined;
  }

  declarationAt(pc: number): SourceDeclaration | undefined {
    const f = this.index.functionAt(pc);
    return f?.declFile && f.declLine ? { file: f.declFile, line1: f.declLine } : undefined;
  }

  functionAt(pc: bigint): FunctionInfo | undefined {
    if (pc < 0n || pc > MAX_SAFE) return undefined;
    const f = this.index.functionAt(Number(pc));
    return f && toInfo(f);
  }

  /** DWARF's call frame information is not read: unwinding from memory needs a Go binary's pclntab (the gopclntab backend). */
  goFrameAt(_pc: number): GoFrameInfo | undefined {
    return undefined;
  }

  functions(): readonly FunctionInfo[] {
    this.all ??= this.index.functions().map(toInfo);
    return this.all;
  }

  /** Declaration of a function met in frames so far (an inlined one's via its abstract origin). */
  inlinedDeclarationOf(name: string): SourceDeclaration | undefined {
    return this.index.declarationOfName(name);
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
