/**
 * A Symbolizer over Go's .gopclntab: works on stripped binaries (-ldflags=-s -w) and keeps
 * the inline chain through the inline tree.
 *
 * Per function, on first use, the pcfile, pcln and PCDATA_InlTreeIndex tables are decoded and
 * merged into one sorted list of PC ranges over which (file, line, inline index) is constant,
 * and the inline tree entries it uses are resolved to (name, range of the call site). Names
 * and files are interned once, as JSON-quoted UTF-8 bytes in one arena, so the CLI writes a
 * frame by copying bytes — no per-address strings or objects.
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

/** Where the CLI assembles output: `ensure(n)` guarantees n free bytes at buf[pos]. */
export interface ByteSink {
  buf: Uint8Array;
  pos: number;
  ensure(n: number): void;
}

/**
 * Output space in the same memory as the interned bytes: a sink whose `buf` is `mem` gets each
 * frame by `mem.copyWithin` — one memmove, no view object per copy (subarray + set costs ~3×
 * as much for a ~150-byte frame on this kind of machine, a JS byte loop ~10×).
 */
export interface OutputMemory {
  /** The current memory. It is replaced when the arena grows; regions of an old one stay valid to write out. */
  readonly mem: Uint8Array;
  readonly regionSize: number;
  /** Start of a free output region [start, start + regionSize) of `mem`, or -1 when all are taken. */
  takeRegion(): number;
  /** Hands a written region back (ignored when `mem` has been replaced since). */
  giveBack(mem: Uint8Array, start: number): void;
}

/**
 * Decoded functions live in shared, interleaved typed arrays (a random address then touches
 * a few cache lines, not a dozen objects): ranges as [end, file slot, line, inline index,
 * innermost function's name slot (-1: no position)] records, and inline tree entries as
 * [name slot, call-site range, parent index, caller's name slot] records. For the CLI, the
 * JSON of a frame is made of pieces interned in the arena on first use: per function
 * `{"function":NAME`, per file `,"file":FILE,"line":`. Writing a frame is two native copies
 * and the line's digits (byte loops in JS cost ~2 ns a byte; a frame is ~150 bytes); kept
 * apart, names and files are a few MB that stay in cache, where one piece per (function,
 * file) pair was several times that and missed it on most random addresses.
 */
const R_END = 0,
  R_FILE = 1,
  R_LINE = 2,
  R_INL = 3,
  R_NAME = 4,
  R_STRIDE = 5;
const I_NAME = 0,
  I_SITE = 1,
  I_PARENT = 2,
  I_CALLER = 3,
  I_STRIDE = 4;
const F_START = 0,
  F_COUNT = 1,
  F_NAME = 2,
  F_INL = 3,
  F_STRIDE = 4;

const enc = new TextEncoder();
const J_FUNCTION = enc.encode('{"function":');
const J_FILE = enc.encode(',"file":');
const J_LINE = enc.encode(',"line":');
const J_NONE = new Uint8Array(0);
/** resolveBatch sorts addresses by 256 bytes of text (a function is ~600 on average). */
const BATCH_BUCKET_SHIFT = 8;
/** Output regions of 1 MB above the arena: room for a whole batch of lines (~200 bytes each) and some in flight. */
const OUTPUT_REGIONS = 32;

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

/**
 * Strings by slot, and pieces of JSON output made of them as UTF-8 in one growing arena; once
 * output regions are asked for, they sit above the arena in the same memory (see OutputMemory).
 */
class JsonArena implements OutputMemory {
  mem: Uint8Array;
  /** Arena bytes end here; output regions (if any) follow. */
  private cap: number;
  used = 0;
  readonly regionSize = 1 << 20;
  private regionCount = 0;
  private freeRegions: number[] = [];
  start = new Int32Array(1024);
  len = new Int32Array(1024);
  strings: string[] = [];
  private readonly enc = new TextEncoder();

  constructor(capacity: number) {
    this.cap = capacity;
    this.mem = new Uint8Array(capacity);
  }

  takeRegion(): number {
    if (this.regionCount === 0) {
      this.regionCount = OUTPUT_REGIONS;
      this.resize(this.cap);
    }
    return this.freeRegions.pop() ?? -1;
  }

  giveBack(mem: Uint8Array, start: number): void {
    if (mem === this.mem) this.freeRegions.push(start);
  }

  /** New memory with `cap` arena bytes (the used ones copied) and all regions free. */
  private resize(cap: number): void {
    const mem = new Uint8Array(cap + this.regionCount * this.regionSize);
    mem.set(this.mem.subarray(0, this.used));
    this.mem = mem;
    this.cap = cap;
    this.freeRegions = [];
    for (let r = this.regionCount - 1; r >= 0; r--) this.freeRegions.push(cap + r * this.regionSize);
  }

  /**
   * Adds a string. Its JSON bytes are written only into the pieces made of it (addPiece): most
   * strings (every name of an inline tree decoded for ingest) never need them.
   */
  add(s: string): number {
    const slot = this.newSlot(0, s);
    this.len[slot] = 0;
    return slot;
  }

  /** Adds `BEFORE` + the string of a slot as JSON (quoted, escaped) + `AFTER` (a frame piece). */
  addPiece(before: Uint8Array, slot0: number, after: Uint8Array): number {
    const q = JSON.stringify(this.strings[slot0]!);
    const slot = this.newSlot(before.length + q.length * 3 + after.length, '');
    const b = this.mem;
    let o = this.used;
    b.set(before, o);
    o += before.length;
    o += this.enc.encodeInto(q, b.subarray(o, this.cap)).written;
    b.set(after, o);
    o += after.length;
    this.len[slot] = o - this.used;
    this.used = o;
    return slot;
  }

  /** A slot starting at `used` with room for `need` bytes. */
  private newSlot(need: number, label: string): number {
    if (this.used + need > this.cap) this.resize(Math.max(this.cap * 2, this.used + need));
    const slot = this.strings.length;
    if (slot >= this.start.length) {
      const s2 = new Int32Array(this.start.length * 2);
      s2.set(this.start);
      this.start = s2;
      const l2 = new Int32Array(this.len.length * 2);
      l2.set(this.len);
      this.len = l2;
    }
    this.start[slot] = this.used;
    this.strings.push(label);
    return slot;
  }
}

const B_OPEN = 0x5b; // [
const B_CLOSE = 0x5d; // ]
const B_BRACE_CLOSE = 0x7d;
const B_COMMA = 0x2c;
/** Ints per address in resolveBatch's output. */
export const RESOLVED = 5;

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
  private readonly arena: JsonArena;
  private readonly nameSlots = new Map<number, number>();
  private readonly fileSlots = new Map<string, number>();
  /** Name slot → its piece `{"function":NAME`; file slot → `,"file":FILE,"line":` (0: not made yet). */
  private readonly pieceOf = new GrowableInts(1024);
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
    // Names, files and frame pieces come to a few hundred bytes per function.
    this.arena = new JsonArena(Math.min(1 << 26, (1 << 16) + n * 256));
    this.unknownFile = this.arena.add(UNKNOWN_FILE);
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
    const i = this.tab.findFunc(pc);
    if (i < 0) return [];
    let k = this.rangeOf(i, pc);
    if (k < 0) return [];
    const r = this.ranges.a;
    if (r[k * R_STRIDE + R_FILE] === this.unknownFile) return [];
    const strs = this.arena.strings;
    const name = strs[this.fn[i * F_STRIDE + F_NAME]!]!;
    const t = this.inls.a;
    const base = this.fn[i * F_STRIDE + F_INL]!;
    const frames: SourceFrame[] = [];
    let q = k * R_STRIDE;
    let ix = r[q + R_INL]!;
    for (let depth = 0; ix >= 0 && depth < MAX_INLINE_DEPTH; depth++) {
      const e = (base + ix) * I_STRIDE;
      frames.push({ function: strs[t[e + I_NAME]!]!, file: strs[r[q + R_FILE]!]!, line: r[q + R_LINE]! });
      k = t[e + I_SITE]!;
      q = k * R_STRIDE;
      ix = t[e + I_PARENT]!;
    }
    frames.push({ function: name, file: strs[r[q + R_FILE]!]!, line: r[q + R_LINE]! });
    return frames;
  }

  /**
   * Writes the frames of pc as a JSON array (`[{"function":…,"file":…,"line":N},…]`) into
   * the sink — the same frames as framesAt, byte for byte what JSON.stringify would give.
   */
  writeFramesJson(pc: number, sink: ByteSink): void {
    const i = this.tab.findFunc(pc);
    const k = i < 0 ? -1 : this.rangeOf(i, pc);
    const r = this.ranges.a;
    const q = k * R_STRIDE;
    if (k < 0 || r[q + R_NAME]! < 0) {
      sink.ensure(2);
      sink.buf[sink.pos++] = B_OPEN;
      sink.buf[sink.pos++] = B_CLOSE;
      return;
    }
    sink.ensure(1);
    sink.buf[sink.pos++] = B_OPEN;
    this.writeFrame(sink, r[q + R_NAME]!, r[q + R_FILE]!, r[q + R_LINE]!);
    this.writeCallers(sink, this.fn[i * F_STRIDE + F_INL]!, r[q + R_INL]!);
  }

  /**
   * Resolves pcs[0..n) for writeResolvedJson, in address order: consecutive lookups then hit
   * the same function's tables in cache and decode functions in table order, where random
   * ones miss on every step. Per address j, out[j*5..j*5+5) = [name slot (-1: no frames),
   * file slot, line, inline index, inline base]. `order` is scratch of at least n entries.
   */
  resolveBatch(pcs: Float64Array, n: number, order: Int32Array, out: Int32Array): void {
    // A counting sort by 256 bytes of text is order enough for the cache, and linear.
    const lo = this.tab.textStart;
    const span = this.tab.entryOffs[this.tab.nfunc]!;
    const nb = (span >>> BATCH_BUCKET_SHIFT) + 2;
    if (!this.bucketCounts || this.bucketCounts.length < nb) this.bucketCounts = new Int32Array(nb);
    const counts = this.bucketCounts;
    counts.fill(0, 0, nb);
    const bucketOf = (j: number): number => {
      const off = pcs[j]! - lo;
      // Outside the text (or not a number): no frames, resolved in the last bucket.
      return off >= 0 && off < span ? off >>> BATCH_BUCKET_SHIFT : nb - 1;
    };
    for (let j = 0; j < n; j++) counts[bucketOf(j)]!++;
    for (let b = 0, sum = 0; b < nb; b++) {
      const c = counts[b]!;
      counts[b] = sum;
      sum += c;
    }
    for (let j = 0; j < n; j++) order[counts[bucketOf(j)]!++] = j;
    // Neighbours in this order mostly share a function, often a range: reuse the last ones.
    const entries = this.tab.entryOffs;
    let i = -1,
      fnLo = 0,
      fnHi = -1;
    let k = -1,
      kLo = 0,
      kHi = -1;
    for (let s = 0; s < n; s++) {
      const j = order[s]!;
      out[j * RESOLVED] = -1;
      const pc = pcs[j]!;
      const off = pc - lo;
      if (!(off >= 0 && off < span)) continue;
      if (off < fnLo || off >= fnHi) {
        i = this.tab.findFunc(pc);
        if (i < 0) {
          fnHi = -1;
          continue;
        }
        fnLo = entries[i]!;
        fnHi = entries[i + 1]!;
        kHi = -1;
      }
      if (off < kLo || off >= kHi) {
        k = this.rangeOf(i, pc);
        if (k < 0) {
          kHi = -1;
          continue;
        }
        const ends = this.ends.a;
        const first = this.fn[i * F_STRIDE + F_START]!;
        kLo = fnLo + (k > first ? ends[k - 1]! : 0);
        kHi = fnLo + ends[k]!;
      }
      const a = this.ranges.a; // after rangeOf: decoding may have grown it
      const q = k * R_STRIDE;
      if (a[q + R_NAME]! < 0) continue;
      const o = j * RESOLVED;
      out[o] = a[q + R_NAME]!;
      out[o + 1] = a[q + R_FILE]!;
      out[o + 2] = a[q + R_LINE]!;
      out[o + 3] = a[q + R_INL]!;
      out[o + 4] = this.fn[i * F_STRIDE + F_INL]!;
    }
  }

  private bucketCounts?: Int32Array;

  /** Writes the frames of address j of a resolveBatch as writeFramesJson would. */
  writeResolvedJson(out: Int32Array, j: number, sink: ByteSink): void {
    const o = j * RESOLVED;
    const nameSlot = out[o]!;
    sink.ensure(2);
    sink.buf[sink.pos++] = B_OPEN;
    if (nameSlot < 0) {
      sink.buf[sink.pos++] = B_CLOSE;
      return;
    }
    this.writeFrame(sink, nameSlot, out[o + 1]!, out[o + 2]!);
    this.writeCallers(sink, out[o + 4]!, out[o + 3]!);
  }

  /** The inline callers of a frame (inline index ix of the function whose tree starts at base), and the closing `}]`. */
  private writeCallers(sink: ByteSink, base: number, ix: number): void {
    const t = this.inls.a;
    const r = this.ranges.a;
    for (let depth = 0; ix >= 0 && depth < MAX_INLINE_DEPTH; depth++) {
      const e = (base + ix) * I_STRIDE;
      const q = t[e + I_SITE]! * R_STRIDE;
      sink.ensure(2);
      sink.buf[sink.pos++] = B_BRACE_CLOSE;
      sink.buf[sink.pos++] = B_COMMA;
      this.writeFrame(sink, t[e + I_CALLER]!, r[q + R_FILE]!, r[q + R_LINE]!);
      ix = t[e + I_PARENT]!;
    }
    sink.ensure(2);
    sink.buf[sink.pos++] = B_BRACE_CLOSE;
    sink.buf[sink.pos++] = B_CLOSE;
  }

  /** Output memory shared with the interned pieces (for a sink that can use it). */
  get outputMemory(): OutputMemory {
    return this.arena;
  }

  /** One frame but its closing brace: name piece, file piece, the line's digits. */
  private writeFrame(sink: ByteSink, nameSlot: number, fileSlot: number, line: number): void {
    const namePiece = this.pieceOf.a[nameSlot] || this.makePiece(nameSlot, J_FUNCTION, J_NONE);
    const filePiece = this.pieceOf.a[fileSlot] || this.makePiece(fileSlot, J_FILE, J_LINE);
    const a = this.arena;
    const ns = a.start[namePiece]!,
      nl = a.len[namePiece]!;
    const fs = a.start[filePiece]!,
      fl = a.len[filePiece]!;
    sink.ensure(nl + fl + 11);
    const b = sink.buf;
    let o = sink.pos;
    if (b === a.mem) {
      b.copyWithin(o, ns, ns + nl);
      b.copyWithin(o + nl, fs, fs + fl);
    } else {
      b.set(a.mem.subarray(ns, ns + nl), o);
      b.set(a.mem.subarray(fs, fs + fl), o + nl);
    }
    o += nl + fl;
    sink.pos = writeUint(b, o, line);
  }

  /** Interns `before` + slot's bytes + `after` as the piece of a slot. */
  private makePiece(slot: number, before: Uint8Array, after: Uint8Array): number {
    const piece = this.arena.addPiece(before, slot, after);
    const g = this.pieceOf;
    if (slot >= g.n) {
      g.reserve(Math.max(slot + 1, this.arena.strings.length) - g.n);
      g.n = g.a.length;
    }
    g.a[slot] = piece;
    return piece;
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
    if (has && r[start * R_STRIDE + R_FILE] !== this.unknownFile) info.declFile = this.arena.strings[r[start * R_STRIDE + R_FILE]!]!;
    // Go 1.20+ records the `func` line; older tables only have the entry's line, which the
    // compiler gives the prologue (the `func` line) too.
    if (rec.startLine > 0) info.declLine = rec.startLine;
    else if (has && r[start * R_STRIDE + R_LINE]! > 0) info.declLine = r[start * R_STRIDE + R_LINE]!;
    return info;
  }

  private noteInlined(nameSlot: number, fileSlot: number, line1: number): void {
    if (line1 <= 0 || fileSlot === this.unknownFile || this.inlinedDecl.has(nameSlot)) return;
    this.inlinedDecl.set(nameSlot, { file: this.arena.strings[fileSlot]!, line1 });
  }

  /**
   * The declaration (`func` line, from the inline tree; Go 1.20+) of a function seen inlined in
   * a function decoded so far — for functions with no physical copy of their own.
   */
  inlinedDeclarationOf(name: string): SourceDeclaration | undefined {
    if (!this.inlinedByName || this.inlinedByNameOf !== this.inlinedDecl.size) {
      this.inlinedByName = new Map();
      for (const [slot, d] of this.inlinedDecl)
        if (!this.inlinedByName.has(this.arena.strings[slot]!)) this.inlinedByName.set(this.arena.strings[slot]!, d);
      this.inlinedByNameOf = this.inlinedDecl.size;
    }
    return this.inlinedByName.get(name);
  }

  private nameSlot(nameOff: number): number {
    let slot = this.nameSlots.get(nameOff);
    if (slot === undefined) {
      slot = this.arena.add(this.tab.nameAt(nameOff));
      this.nameSlots.set(nameOff, slot);
    }
    return slot;
  }

  private fileSlot(rec: GoFuncRecord, fileno: number): number {
    const name = this.tab.fileName(rec, fileno);
    let slot = this.fileSlots.get(name);
    if (slot === undefined) {
      slot = this.arena.add(name);
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
    const nameOfIx = (ix: number): number => (ix >= 0 ? t[(inlBase + ix) * I_STRIDE + I_NAME]! : fname);
    // Names to write: a range's innermost function; an inline entry's caller (written with
    // the call site's file).
    for (let k = 0, q = ranges.n; k < n; k++, q += R_STRIDE) {
      if (r[q + R_INL]! >= ncalls) r[q + R_INL] = -1;
      r[q + R_NAME] = r[q + R_FILE] === this.unknownFile ? -1 : nameOfIx(r[q + R_INL]!);
    }
    for (let ix = 0; ix < ncalls; ix++) {
      const e = (inlBase + ix) * I_STRIDE;
      t[e + I_CALLER] = nameOfIx(t[e + I_PARENT]!);
    }
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

/** Decimal digits of a non-negative int32 into b at o; returns the new position. */
function writeUint(b: Uint8Array, o: number, v: number): number {
  if (v < 10) {
    b[o] = 48 + v;
    return o + 1;
  }
  let n = 1;
  for (let t = v; t >= 10; t = (t / 10) | 0) n++;
  let p = o + n;
  for (let t = v; p > o; t = (t / 10) | 0) b[--p] = 48 + (t % 10);
  return o + n;
}

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
