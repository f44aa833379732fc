/**
 * The Symbolizer backed by DWARF: frames exactly as llvm-symbolizer --inlining gives them
 * (innermost inlined subroutine with the line table's file:line; each caller with the
 * call_file:call_line of the inlined call it contains). Addresses are bigint at this edge.
 */
import type { ElfFile } from '../formats/elf';
import { dwarfIndexOf, type DwarfFunction, type DwarfIndex } from '../formats/dwarf/dwarfIndex';
import type { ByteSink } from './gopclntabSymbolizer';
import type { FunctionInfo, GoFrameInfo, SourceDeclaration, SourceFrame, Symbolizer } from './symbolizer';

const EMPTY_FRAMES = Buffer.from('[]');

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

  /**
   * Writes exactly JSON.stringify(symbolize(pc)) — the frames as {function, file, line} — into
   * the sink, from bytes cached per inlined node (its innermost-frame prefix and its callers'
   * frames) and per file: a million addresses cost no objects and no string building.
   */
  writeFramesJson(pc: number, sink: ByteSink): void {
    const ix = this.index;
    if (!ix.locate(pc)) {
      copy(sink, EMPTY_FRAMES);
      return;
    }
    const ui = ix.hitUnit;
    const node = ix.hitNode;
    const nodes = (this.nodeJson[ui] ??= new Array<NodeJson | undefined>(ix.nodeCount(ui)).fill(undefined));
    let nj = nodes[node];
    if (!nj) {
      const outer = JSON.stringify(ix.pushOuterFrames(ui, node, []));
      nj = {
        prefix: Buffer.from(`[{"function":${JSON.stringify(ix.nodeFunctionName(ui, node))},"file":`),
        suffix: Buffer.from(outer === '[]' ? '}]' : `},${outer.slice(1)}`),
      };
      nodes[node] = nj;
    }
    const files = (this.fileJson[ui] ??= []);
    const f = ix.hitFile;
    const fileBytes = f < 0 ? EMPTY_FILE : (files[f] ??= Buffer.from(`${JSON.stringify(ix.fileName(ui, f))},"line":`));
    copy(sink, nj.prefix);
    copy(sink, fileBytes);
    sink.ensure(12);
    sink.pos = writeUint(sink.buf, sink.pos, ix.hitLine);
    copy(sink, nj.suffix);
  }

  private readonly nodeJson: ((NodeJson | undefined)[] | undefined)[] = [];
  private readonly fileJson: (Buffer[] | undefined)[] = [];

  /** Byte offset of a struct member from DWARF type information, e.g. ("runtime.g", "goid"). */
  structFieldOffset(typeName: string, fieldName: string): number | undefined {
    return this.index.structFieldOffset(typeName, fieldName);
  }
}

interface NodeJson {
  /** `[{"function":NAME,"file":` */
  prefix: Uint8Array;
  /** `}` then `,{...}` for each caller, then `]` */
  suffix: Uint8Array;
}

const EMPTY_FILE = Buffer.from('"","line":');

function copy(sink: ByteSink, bytes: Uint8Array): void {
  sink.ensure(bytes.length);
  const b = sink.buf;
  let o = sink.pos;
  if (bytes.length > 32) b.set(bytes, o);
  else for (let i = 0; i < bytes.length; i++) b[o + i] = bytes[i]!;
  o += bytes.length;
  sink.pos = o;
}

/** Writes a non-negative integer in decimal; returns the new position. */
function writeUint(b: Uint8Array, o: number, v: number): number {
  if (v < 0) {
    b[o++] = 45;
    v = -v;
  } // '-': DWARF lines are unsigned, but a corrupt program can wrap
  let n = 1;
  for (let t = v; t >= 10; t = Math.floor(t / 10)) n++;
  let p = o + n;
  for (let t = v; p > o; t = Math.floor(t / 10)) b[--p] = 48 + (t % 10);
  return o + n;
}

/** A DWARF symbolizer for the binary, or undefined when it has no DWARF. */
export function createDwarfSymbolizer(elf: ElfFile): DwarfSymbolizer | undefined {
  const index = dwarfIndexOf(elf);
  return index && new DwarfSymbolizer(index);
}
