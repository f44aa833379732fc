/**
 * A Symbolizer over Go's .gopclntab: works on stripped binaries (-ldflags=-s -w) and keeps
 * the inline chain through the inline tree.
 *
 * Per function, on first use, the pcfile, pcln and PCDATA_InlTreeIndex tables are decoded and
 * merged into one sorted list of PC ranges over which (file, line, inline index) is constant,
 * and the inline tree entries it uses are resolved to (name, range of the call site). Names
 * and files are interned once, as strings by slot.
 */
import {
  type GoFuncRecord,
  type GoPclntab,
  FUNCDATA_INL_TREE,
  PCDATA_INL_TREE_INDEX,
  PcScratch,
  type PcTable,
  pcTableValue,
} from '../formats/gopclntab';
import type { FunctionInfo, GoFrameInfo, SourceDeclaration, SourceFrame, Symbolizer } from './symbolizer';

/** runtime/symtab.go's funcFlag bits. */
const FUNC_FLAG_TOPFRAME = 1 << 0,
  FUNC_FLAG_SPWRITE = 1 << 1;

/**
 * Marks ranges without file/line — past a function's last instruction (alignment padding up to
 * the next function's entry): the runtime would say ("?", 0); we say no frames, as DWARF does.
 */
const UNKNOWN_FILE = '?';

/** A hard bound on inline depth, so a corrupt (cyclic) tree cannot loop. */
const MAX_INLINE_DEPTH = 256;

/**
 * Decoded functions live in shared, interleaved typed arrays (a random address then touches
 * a few cache lines, not a dozen objects): ranges as [end, file slot, line, inline index]
 * records, and inline tree entries as [name slot, call-site range, parent index] records.
 */
const R_END = 0,
  R_FILE = 1,
  R_LINE = 2,
  R_INL = 3,
  R_STRIDE = 4;
const I_NAME = 0,
  I_SITE = 1,
  I_PARENT = 2,
  I_STRIDE = 3;
const F_START = 0,
  F_COUNT = 1,
  F_NAME = 2,
  F_INL = 3,
  F_STRIDE = 4;

class GrowableInts {
  a: Int32Array;
  n = 0;
  constructor(cap: number) {
    this.a = new Int32Array(cap);
  }
  reserve(k: number): void {
    if (this.n + k > this.a.length) {
      const b = new Int32Array(Math.max(this.a.length * 2, this.n + k));
      b.set(this.a.subarray(0, this.n));
      this.a = b;
    }
  }
}

export class GopclntabSymbolizer implements Symbolizer {
  readonly source = 'gopclntab' as const;
  /**
   * Per function, interleaved (one cache line per lookup, not four): first range index in
   * `ranges` (-1 until decoded), range count, name slot, inline base.
   */
  private readonly fn: Int32Array;
  private readonly ranges: GrowableInts;
  /** Range ends alone (pc offsets from the entry), one per range: what lookups binary-search. */
  private readonly ends: GrowableInts;
  private readonly inls: GrowableInts;
  /** Names and file names, each interned once, by slot. */
  private readonly strings: string[] = [];
  private readonly nameSlots = new Map<number, number>();
  private readonly fileSlots = new Map<string, number>();
  private readonly unknownFile: number;
  /** Reusable decoding buffers and the per-function file cache (generation-stamped). */
  private readonly sf = new PcScratch();
  private readonly sl = new PcScratch();
  private readonly si = new PcScratch();
  private readonly fileCacheGen = new Int32Array(FILE_CACHE);
  private readonly fileCacheSlot = new Int32Array(FILE_CACHE);
  private fileGen = 0;
  private functionList?: FunctionInfo[];
  private readonly infoCache: (FunctionInfo | undefined)[] = [];
  /** Name slot → declaration of functions seen inlined (Go 1.20+ inline trees). */
  private readonly inlinedDecl = new Map<number, { file: string; line1: number }>();
  private inlinedByName?: Map<string, { file: string; line1: number }>;
  private inlinedByNameOf = 0;
  private byName?: Map<string, FunctionInfo>;
  /** Per function index: its decoded pcsp table and flags (null: it has none), for goFrameAt. */
  private readonly frameTables = new Map<number, { entry: number; pcsp: PcTable; top: boolean; spWrite: boolean } | null>();

  constructor(readonly tab: GoPclntab) {
    const n = tab.nfunc;
    this.fn = new Int32Array(n * F_STRIDE);
    for (let i = 0; i < n; i++) this.fn[i * F_STRIDE + F_START] = -1;
    this.ranges = new GrowableInts(Math.min(1 << 22, 64 + n * 32));
    this.ends = new GrowableInts(Math.min(1 << 20, 64 + n * 8));
    this.inls = new GrowableInts(Math.min(1 << 20, 64 + n * 4));
    this.unknownFile = this.addString(UNKNOWN_FILE);
  }

  /** Whether inline trees can be read (go:func.* was found). */
  get hasInlineTrees(): boolean {
    return this.tab.version === '1.16' || this.tab.gofunc !== undefined;
  }

  symbolize(pc: bigint): SourceFrame[] {
    return this.framesAt(Number(pc));
  }

  /** The global index of the range holding pc in function i (decoding it first if needed). */
  private rangeOf(i: number, pc: number): number {
    let start = this.fn[i * F_STRIDE + F_START]!;
    if (start < 0) start = this.decode(i);
    const ends = this.ends.a;
    const rel = pc - this.tab.textStart - this.tab.entryOffs[i]!;
    let lo = 0;
    let hi = this.fn[i * F_STRIDE + F_COUNT]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (rel < ends[start + mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo < this.fn[i * F_STRIDE + F_COUNT]! ? start + lo : -1;
  }

  /** Frames for a numeric pc, innermost first. */
  framesAt(pc: number): SourceFrame[] {
    let n = this.frameIdsAt(pc, this.idScratch);
    if (n * 3 > this.idScratch.length) n = this.frameIdsAt(pc, (this.idScratch = new Int32Array(n * 3)));
    const ids = this.idScratch;
    const frames: SourceFrame[] = [];
    for (let f = 0; f < n * 3; f += 3)
      frames.push({ function: this.strings[ids[f]!]!, file: this.strings[ids[f + 1]!]!, line: ids[f + 2]! });
    return frames;
  }

  private idScratch = new Int32Array(64 * 3);

  frameIdsAt(pc: number, out: Int32Array): number {
    const i = this.tab.findFunc(pc);
    if (i < 0) return 0;
    const k = this.rangeOf(i, pc);
    if (k < 0) return 0;
    const r = this.ranges.a;
    if (r[k * R_STRIDE + R_FILE] === this.unknownFile) return 0;
    const t = this.inls.a;
    const base = this.fn[i * F_STRIDE + F_INL]!;
    let q = k * R_STRIDE;
    let ix = r[q + R_INL]!;
    // Each inlined function at its range's position, then each caller at its call site's; the
    // physical function last.
    for (let n = 0; ; n++) {
      const last = ix < 0 || n >= MAX_INLINE_DEPTH;
      const e = (base + ix) * I_STRIDE;
      if (n * 3 + 3 <= out.length) {
        out[n * 3] = last ? this.fn[i * F_STRIDE + F_NAME]! : t[e + I_NAME]!;
        out[n * 3 + 1] = r[q + R_FILE]!;
        out[n * 3 + 2] = r[q + R_LINE]!;
      }
      if (last) return n + 1;
      q = t[e + I_SITE]! * R_STRIDE;
      ix = t[e + I_PARENT]!;
    }
  }

  stringOf(id: number): string {
    return this.strings[id]!;
  }

  /** Reads the one function record (functionAt would describe the function first). */
  entryOf(pc: number): number | undefined {
    const i = this.tab.findFunc(pc);
    return i < 0 ? undefined : this.tab.func(i).entry;
  }

  declarationAt(pc: number): SourceDeclaration | undefined {
    const i = this.tab.findFunc(pc);
    if (i < 0) return undefined;
    const rec = this.tab.func(i);
    const outer = this.framesAt(rec.entry).at(-1);
    if (!outer) return undefined;
    // The func line (Go 1.20+ records it); else the line of the entry, the prologue's.
    return { file: outer.file, line1: rec.startLine > 0 ? rec.startLine : outer.line };
  }

  goFrameAt(pc: number): GoFrameInfo | undefined {
    const i = this.tab.findFunc(pc);
    if (i < 0) return undefined;
    let fr = this.frameTables.get(i);
    if (fr === undefined) {
      const f = this.tab.func(i);
      fr =
        f.pcsp === 0
          ? null
          : {
              entry: f.entry,
              pcsp: this.tab.decodePcTable(f, f.pcsp),
              top: (f.flag & FUNC_FLAG_TOPFRAME) !== 0,
              spWrite: (f.flag & FUNC_FLAG_SPWRITE) !== 0,
            };
      this.frameTables.set(i, fr);
    }
    if (fr === null) return undefined;
    const spDelta = pcTableValue(fr.pcsp, pc - fr.entry);
    return spDelta < 0 ? undefined : { spDelta, top: fr.top, spWrite: fr.spWrite };
  }

  functionAt(pc: bigint): FunctionInfo | undefined {
    const i = this.tab.findFunc(Number(pc));
    if (i < 0) return undefined;
    // Only this function is described (and cached): not every function of the binary.
    const f = (this.infoCache[i] ??= this.functionInfo(i));
    return pc < f.highPc ? f : undefined;
  }

  functions(): readonly FunctionInfo[] {
    if (this.functionList) return this.functionList;
    const out: FunctionInfo[] = [];
    for (let i = 0; i < this.tab.nfunc; i++) out.push((this.infoCache[i] ??= this.functionInfo(i)));
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
    let start = this.fn[i * F_STRIDE + F_START]!;
    if (start < 0) start = this.decode(i);
    const r = this.ranges.a;
    const has = this.fn[i * F_STRIDE + F_COUNT]! > 0;
    // The code ends where the line table does; the rest up to the next entry is padding.
    let end = rec.end;
    for (let k = start + this.fn[i * F_STRIDE + F_COUNT]! - 1; k >= start; k--) {
      if (r[k * R_STRIDE + R_FILE] !== this.unknownFile) {
        end = Math.min(rec.end, rec.entry + this.ends.a[k]!);
        break;
      }
    }
    const info: FunctionInfo = { name: this.tab.funcName(rec), lowPc: BigInt(rec.entry), highPc: BigInt(end) };
    if (has && r[start * R_STRIDE + R_FILE] !== this.unknownFile) info.declFile = this.strings[r[start * R_STRIDE + R_FILE]!]!;
    // Go 1.20+ records the `func` line; older tables only have the entry's line, which the
    // compiler gives the prologue (the `func` line) too.
    if (rec.startLine > 0) info.declLine = rec.startLine;
    else if (has && r[start * R_STRIDE + R_LINE]! > 0) info.declLine = r[start * R_STRIDE + R_LINE]!;
    return info;
  }

  private noteInlined(nameSlot: number, fileSlot: number, line1: number): void {
    if (line1 <= 0 || fileSlot === this.unknownFile || this.inlinedDecl.has(nameSlot)) return;
    this.inlinedDecl.set(nameSlot, { file: this.strings[fileSlot]!, line1 });
  }

  /**
   * The declaration (`func` line, from the inline tree; Go 1.20+) of a function seen inlined in
   * a function decoded so far — for functions with no physical copy of their own.
   */
  inlinedDeclarationOf(name: string): SourceDeclaration | undefined {
    if (!this.inlinedByName || this.inlinedByNameOf !== this.inlinedDecl.size) {
      this.inlinedByName = new Map();
      for (const [slot, d] of this.inlinedDecl)
        if (!this.inlinedByName.has(this.strings[slot]!)) this.inlinedByName.set(this.strings[slot]!, d);
      this.inlinedByNameOf = this.inlinedDecl.size;
    }
    return this.inlinedByName.get(name);
  }

  private addString(s: string): number {
    return this.strings.push(s) - 1;
  }

  private nameSlot(nameOff: number): number {
    let slot = this.nameSlots.get(nameOff);
    if (slot === undefined) {
      slot = this.addString(this.tab.nameAt(nameOff));
      this.nameSlots.set(nameOff, slot);
    }
    return slot;
  }

  private fileSlot(rec: GoFuncRecord, fileno: number): number {
    const name = this.tab.fileName(rec, fileno);
    let slot = this.fileSlots.get(name);
    if (slot === undefined) {
      slot = this.addString(name);
      this.fileSlots.set(name, slot);
    }
    return slot;
  }

  /** Decodes function i into the shared arrays; returns its first range index. */
  private decode(i: number): number {
    const tab = this.tab;
    const rec = tab.func(i);
    const size = rec.end - rec.entry;
    const { sf, sl, si } = this;
    tab.decodePcInto(rec, rec.pcfile, sf);
    tab.decodePcInto(rec, rec.pcln, sl);
    const inlOff = tab.pcdataOffset(rec, PCDATA_INL_TREE_INDEX);
    const tree = inlOff ? tab.funcdataAddr(rec, FUNCDATA_INL_TREE) : undefined;
    tab.decodePcInto(rec, tree !== undefined ? inlOff : 0, si);

    const ranges = this.ranges;
    ranges.reserve((sf.n + sl.n + si.n + 1) * R_STRIDE);
    this.ends.reserve(sf.n + sl.n + si.n + 1);
    const start = ranges.n / R_STRIDE;
    const n = mergeInto(sf, sl, si, size, ranges.a, ranges.n, this.ends.a, start);
    this.ends.n += n;
    const r = ranges.a;

    // Files: pcfile values → interned slots; a missing file or line marks the range unknown.
    const gen = ++this.fileGen;
    let maxIx = -1;
    for (let k = 0, q = ranges.n; k < n; k++, q += R_STRIDE) {
      const fno = r[q + R_FILE]!;
      if (fno < 0 || r[q + R_LINE]! < 0) {
        r[q + R_FILE] = this.unknownFile;
        r[q + R_LINE] = 0;
      } else if (fno < FILE_CACHE) {
        if (this.fileCacheGen[fno] !== gen) {
          this.fileCacheGen[fno] = gen;
          this.fileCacheSlot[fno] = this.fileSlot(rec, fno);
        }
        r[q + R_FILE] = this.fileCacheSlot[fno]!;
      } else {
        r[q + R_FILE] = this.fileSlot(rec, fno);
      }
      if (r[q + R_INL]! > maxIx) maxIx = r[q + R_INL]!;
    }

    // Inline tree entries used here (parents precede children, so [0, max] covers chains).
    const raw = maxIx >= 0 && tree !== undefined ? tab.inlineTreeBytes(tree, maxIx + 1) : undefined;
    const inls = this.inls;
    const inlBase = inls.n / I_STRIDE;
    const ncalls = raw ? maxIx + 1 : 0;
    const startLines = raw && tab.version === '1.20' ? new Int32Array(ncalls) : undefined;
    if (raw) {
      inls.reserve(ncalls * I_STRIDE);
      const t = inls.a;
      const v = new DataView(raw.bytes.buffer, raw.bytes.byteOffset, raw.bytes.byteLength);
      const v120 = tab.version === '1.20';
      for (let ix = 0, p = 0; ix < ncalls; ix++, p += raw.entrySize) {
        // 1.20+: funcID u8, pad[3], nameOff i32, parentPc i32, startLine i32;
        // older: parent i16, funcID u8, pad, file i32, line i32, nameOff i32, parentPc i32.
        const nameOff = v.getInt32(p + (v120 ? 4 : 12), true);
        const parentPc = v.getInt32(p + (v120 ? 8 : 16), true);
        const e = (inlBase + ix) * I_STRIDE;
        t[e + I_NAME] = this.nameSlot(nameOff);
        if (startLines) startLines[ix] = v.getInt32(p + 12, true);
        // The call site's position is that of the instruction at parentPc (as the runtime's
        // inlineUnwinder does); its inline index is the caller's (1.20+), or the stored parent.
        let k2 = parentPc < 0 ? n : rangeIndexGlobal(this.ends.a, start, n, parentPc);
        let parent = k2 >= n ? -1 : v120 ? r[(start + k2) * R_STRIDE + R_INL]! : v.getInt16(p, true);
        // A parent must be an earlier entry: anything else is a corrupt tree; end the chain.
        if (parent >= ix) parent = -1;
        // A call site outside the function (corrupt): report the entry's position.
        if (k2 >= n) k2 = 0;
        t[e + I_SITE] = start + k2;
        t[e + I_PARENT] = parent;
      }
      inls.n += ncalls * I_STRIDE;
    }
    const fname = this.nameSlot(rec.nameOff);
    const t = inls.a;
    for (let k = 0, q = ranges.n; k < n; k++, q += R_STRIDE) if (r[q + R_INL]! >= ncalls) r[q + R_INL] = -1;
    if (startLines) {
      // Declarations of inlined functions (Go 1.20+ keeps each one's `func` line in its tree
      // entry): the file is that of a range where it is the innermost frame, or of a call
      // site inside it.
      for (let k = 0, q = ranges.n; k < n; k++, q += R_STRIDE) {
        const ix = r[q + R_INL]!;
        if (ix >= 0) this.noteInlined(t[(inlBase + ix) * I_STRIDE + I_NAME]!, r[q + R_FILE]!, startLines[ix]!);
      }
      for (let ix = 0; ix < ncalls; ix++) {
        const e = (inlBase + ix) * I_STRIDE;
        const par = t[e + I_PARENT]!;
        if (par >= 0) this.noteInlined(t[(inlBase + par) * I_STRIDE + I_NAME]!, r[t[e + I_SITE]! * R_STRIDE + R_FILE]!, startLines[par]!);
      }
    }
    ranges.n += n * R_STRIDE;
    this.fn[i * F_STRIDE + F_START] = start;
    this.fn[i * F_STRIDE + F_COUNT] = n;
    this.fn[i * F_STRIDE + F_NAME] = fname;
    this.fn[i * F_STRIDE + F_INL] = inlBase;
    return start;
  }
}

/** Per-function file cache size (pcfile values are small per-CU indexes). */
const FILE_CACHE = 4096;

/** Index (0-based within the function) of the range holding pc offset rel; n when past the end. */
function rangeIndexGlobal(ends: Int32Array, start: number, n: number, rel: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rel < ends[start + mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Merges three decoded tables into ranges where all three are constant, covering [0, size),
 * written as [end, file, line, inl, …] records into out from index `at` (and the ends alone
 * into `ends` from `endsAt`, the array binary searches touch); returns the count.
 */
function mergeInto(
  a: PcScratch,
  b: PcScratch,
  c: PcScratch,
  size: number,
  out: Int32Array,
  at: number,
  ends: Int32Array,
  endsAt: number,
): number {
  let ia = 0,
    ib = 0,
    ic = 0,
    n = 0,
    cur = 0,
    q = at;
  const INF = 0xffffffff;
  while (cur < size) {
    const ea = ia < a.n ? a.ends[ia]! : INF;
    const eb = ib < b.n ? b.ends[ib]! : INF;
    const ec = ic < c.n ? c.ends[ic]! : INF;
    const end = Math.min(ea, eb, ec, size);
    if (end <= cur) {
      // Zero-length steps (a pc delta of 0) carry no pcs: skip them.
      if (ea <= cur) ia++;
      if (eb <= cur) ib++;
      if (ec <= cur) ic++;
      continue;
    }
    const va = ia < a.n ? a.vals[ia]! : -1;
    const vb = ib < b.n ? b.vals[ib]! : -1;
    const vc = ic < c.n ? c.vals[ic]! : -1;
    // Coalesce with the previous range when nothing changed.
    if (n > 0 && out[q - R_STRIDE + R_FILE] === va && out[q - R_STRIDE + R_LINE] === vb && out[q - R_STRIDE + R_INL] === vc) {
      out[q - R_STRIDE + R_END] = end;
      ends[endsAt + n - 1] = end;
    } else {
      out[q + R_END] = end;
      ends[endsAt + n] = end;
      out[q + R_FILE] = va;
      out[q + R_LINE] = vb;
      out[q + R_INL] = vc;
      q += R_STRIDE;
      n++;
    }
    if (ea === end) ia++;
    if (eb === end) ib++;
    if (ec === end) ic++;
    cur = end;
  }
  return n;
}
