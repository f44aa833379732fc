/**
 * A Symbolizer over Go's .gopclntab: works on stripped binaries (-ldflags=-s -w) and keeps
 * the inline chain through the inline tree. Per function, the pcfile, pcln and
 * PCDATA_InlTreeIndex tables are decoded once (on first use) and merged into one sorted list
 * of PC ranges over which (file, line, inline index) is constant; each range's frames — and
 * their JSON, for the CLI — are built once and shared by every PC in it.
 */
import { type GoFuncRecord, type GoPclntab, type PcTable, FUNCDATA_INL_TREE, PCDATA_INL_TREE_INDEX } from '../formats/gopclntab';
import type { FunctionInfo, SourceFrame, Symbolizer } from './symbolizer';

/** File name the runtime reports when a PC has no file/line ("?", 0). */
export const UNKNOWN_FILE = '?';

/** A hard bound on inline depth, so a corrupt (cyclic) tree cannot loop. */
const MAX_INLINE_DEPTH = 256;

const EMPTY_JSON = new Uint8Array([0x5b, 0x5d]); // []
const EMPTY: PcTable = { ends: new Uint32Array(0), vals: new Int32Array(0) };

interface FuncLines {
  rec: GoFuncRecord;
  name: string;
  /** Range k covers pc offsets [ends[k-1] (or 0), ends[k]) from the entry. */
  ends: Uint32Array;
  file: Int32Array;
  line: Int32Array;
  inl: Int32Array;
  tree: number | undefined;
  frames: (SourceFrame[] | undefined)[];
  json: (Uint8Array | undefined)[];
}

const utf8 = new TextEncoder();

export class GopclntabSymbolizer implements Symbolizer {
  readonly source = 'gopclntab' as const;
  private readonly lines: (FuncLines | undefined)[];
  private functionList?: FunctionInfo[];
  private byName?: Map<string, FunctionInfo>;

  constructor(readonly tab: GoPclntab) {
    this.lines = new Array<FuncLines | undefined>(tab.nfunc);
  }

  /** Whether inline trees can be read (go:func.* was found). */
  get hasInlineTrees(): boolean {
    return this.tab.version === '1.16' || this.tab.gofunc !== undefined;
  }

  symbolize(pc: bigint): SourceFrame[] {
    return this.framesAt(Number(pc));
  }

  /** Frames for a numeric pc (shared arrays: do not mutate). */
  framesAt(pc: number): SourceFrame[] {
    const i = this.tab.findFunc(pc);
    if (i < 0) return [];
    const fl = this.funcLines(i);
    const k = rangeIndex(fl.ends, pc - fl.rec.entry);
    let f = fl.frames[k];
    if (!f) { f = this.buildFrames(fl, k); fl.frames[k] = f; }
    return f;
  }

  /**
   * The frames as UTF-8 JSON, e.g. `[{"function":"main.f","file":"/a.go","line":3}]`, built
   * once per PC range (the CLI's hot path copies these bytes straight into its output).
   */
  framesJsonBytes(pc: number): Uint8Array {
    const i = this.tab.findFunc(pc);
    if (i < 0) return EMPTY_JSON;
    const fl = this.funcLines(i);
    const k = rangeIndex(fl.ends, pc - fl.rec.entry);
    let s = fl.json[k];
    if (s === undefined) {
      s = utf8.encode(JSON.stringify(fl.frames[k] ?? this.buildFrames(fl, k)));
      fl.json[k] = s;
    }
    return s;
  }

  functionAt(pc: bigint): FunctionInfo | undefined {
    const i = this.tab.findFunc(Number(pc));
    return i < 0 ? undefined : this.functions()[i];
  }

  functions(): readonly FunctionInfo[] {
    if (this.functionList) return this.functionList;
    const out: FunctionInfo[] = [];
    for (let i = 0; i < this.tab.nfunc; i++) out.push(this.functionInfo(i));
    this.functionList = out;
    return out;
  }

  functionByName(name: string): FunctionInfo | undefined {
    if (!this.byName) {
      this.byName = new Map();
      for (const f of this.functions()) if (!this.byName.has(f.name)) this.byName.set(f.name, f);
    }
    return this.byName.get(name);
  }

  private functionInfo(i: number): FunctionInfo {
    const rec = this.tab.func(i);
    const info: FunctionInfo = { name: this.tab.funcName(rec), lowPc: BigInt(rec.entry), highPc: BigInt(rec.end) };
    const fl = this.funcLines(i);
    if (fl.ends.length > 0 && fl.file[0]! >= 0) info.declFile = this.tab.fileName(rec, fl.file[0]!);
    // Go 1.20+ records the `func` line; older tables only have the entry's line, which the
    // compiler sets to the same line for the prologue.
    if (rec.startLine > 0) info.declLine = rec.startLine;
    else if (fl.ends.length > 0 && fl.line[0]! > 0) info.declLine = fl.line[0]!;
    return info;
  }

  private funcLines(i: number): FuncLines {
    const cached = this.lines[i];
    if (cached) return cached;
    const tab = this.tab;
    const rec = tab.func(i);
    const size = rec.end - rec.entry;
    const tf = rec.pcfile ? tab.decodePcTable(rec, rec.pcfile) : EMPTY;
    const tl = rec.pcln ? tab.decodePcTable(rec, rec.pcln) : EMPTY;
    const inlOff = tab.pcdataOffset(rec, PCDATA_INL_TREE_INDEX);
    const tree = inlOff ? tab.funcdataAddr(rec, FUNCDATA_INL_TREE) : undefined;
    const ti = inlOff && tree !== undefined ? tab.decodePcTable(rec, inlOff) : EMPTY;
    const fl = mergeTables(tf, tl, ti, size);
    const out: FuncLines = { rec, name: tab.funcName(rec), ...fl, tree, frames: new Array(fl.ends.length), json: new Array(fl.ends.length) };
    this.lines[i] = out;
    return out;
  }

  private buildFrames(fl: FuncLines, k: number): SourceFrame[] {
    const tab = this.tab;
    const frames: SourceFrame[] = [];
    if (k >= fl.ends.length) return [this.frame(fl.rec, fl.name, -1, -1)];
    let file = fl.file[k]!;
    let line = fl.line[k]!;
    let ix = fl.tree === undefined ? -1 : fl.inl[k]!;
    for (let depth = 0; ix >= 0 && depth < MAX_INLINE_DEPTH; depth++) {
      const call = tab.inlinedCall(fl.tree!, ix);
      if (!call) break;
      frames.push(this.frame(fl.rec, tab.nameAt(call.nameOff), file, line));
      // The call site's position is the position of the instruction at parentPc (as the
      // runtime's inlineUnwinder does); its inline index is the caller's, 1.20+ (older
      // trees also store the parent explicitly).
      const k2 = rangeIndex(fl.ends, call.parentPc);
      if (k2 >= fl.ends.length) break;
      file = fl.file[k2]!;
      line = fl.line[k2]!;
      ix = tab.version === '1.20' ? fl.inl[k2]! : call.parent;
    }
    frames.push(this.frame(fl.rec, fl.name, file, line));
    return frames;
  }

  private frame(rec: GoFuncRecord, fn: string, fileno: number, line: number): SourceFrame {
    // The runtime's funcline1: either value missing → "?", 0.
    if (fileno < 0 || line < 0) return { function: fn, file: UNKNOWN_FILE, line: 0 };
    return { function: fn, file: this.tab.fileName(rec, fileno), line };
  }
}

/** Index of the range containing pc offset rel: the first k with rel < ends[k] (may be ends.length). */
function rangeIndex(ends: Uint32Array, rel: number): number {
  let lo = 0;
  let hi = ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rel < ends[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Merges three pcvalue tables into ranges where all three are constant, covering [0, size). */
function mergeTables(a: PcTable, b: PcTable, c: PcTable, size: number): { ends: Uint32Array; file: Int32Array; line: Int32Array; inl: Int32Array } {
  const cap = a.ends.length + b.ends.length + c.ends.length + 1;
  const ends = new Uint32Array(cap);
  const fa = new Int32Array(cap);
  const fb = new Int32Array(cap);
  const fc = new Int32Array(cap);
  let ia = 0, ib = 0, ic = 0, n = 0, cur = 0;
  const INF = 0xffffffff;
  while (cur < size) {
    const ea = ia < a.ends.length ? a.ends[ia]! : INF;
    const eb = ib < b.ends.length ? b.ends[ib]! : INF;
    const ec = ic < c.ends.length ? c.ends[ic]! : INF;
    const end = Math.min(ea, eb, ec, size);
    if (end <= cur) {
      // Zero-length steps (a pc delta of 0) carry no pcs: skip them.
      if (ea <= cur) ia++;
      if (eb <= cur) ib++;
      if (ec <= cur) ic++;
      continue;
    }
    ends[n] = end;
    fa[n] = ia < a.ends.length ? a.vals[ia]! : -1;
    fb[n] = ib < b.ends.length ? b.vals[ib]! : -1;
    fc[n] = ic < c.ends.length ? c.vals[ic]! : -1;
    // Coalesce with the previous range when nothing changed.
    if (n > 0 && fa[n - 1] === fa[n] && fb[n - 1] === fb[n] && fc[n - 1] === fc[n]) ends[n - 1] = end;
    else n++;
    if (ea === end) ia++;
    if (eb === end) ib++;
    if (ec === end) ic++;
    cur = end;
  }
  return { ends: ends.slice(0, n), file: fa.slice(0, n), line: fb.slice(0, n), inl: fc.slice(0, n) };
}
