/**
 * Go's .gopclntab (the runtime's own PC → function/file/line tables), Go 1.16 and 1.18–1.23:
 * header, funcnametab, cutab, filetab, pctab, functab, the _func records, pcvalue tables and the
 * inline tree (FUNCDATA_InlTree + PCDATA_InlTreeIndex). Pure: bytes in, structures out; the
 * inline tree lives outside the table (in go:func.*), so the caller passes a reader for
 * virtual addresses. Mirrors runtime/symtab.go and runtime/symtabinl.go.
 *
 * Addresses are numbers internally (user-space text addresses are far below 2^53).
 */
import { ByteReader, FormatError, decodeUtf8 } from '../util/byteReader';

export const SECTION = '.gopclntab';

export const GO116_MAGIC = 0xfffffffa;
export const GO118_MAGIC = 0xfffffff0;
export const GO120_MAGIC = 0xfffffff1;

export const PCDATA_INL_TREE_INDEX = 2;
export const FUNCDATA_INL_TREE = 3;

export type PclntabVersion = '1.16' | '1.18' | '1.20';

/** One _func record (the fields this project uses). Offsets are into pctab / funcnametab. */
export interface GoFuncRecord {
  index: number;
  /** Absolute entry address. */
  entry: number;
  /** Entry of the next function (or the table's end): the physical range is [entry, end). */
  end: number;
  nameOff: number;
  pcsp: number;
  pcfile: number;
  pcln: number;
  npcdata: number;
  cuOffset: number;
  /** Line of the `func` keyword (Go 1.20+); 0 when the table does not record it. */
  startLine: number;
  funcID: number;
  flag: number;
  nfuncdata: number;
  /** Offset (in the section) of this record, for error messages. */
  offset: number;
}

export interface InlinedCall {
  /** Parent index in the inline tree (Go ≤1.19 only; -1 when absent or outermost). */
  parent: number;
  funcID: number;
  nameOff: number;
  /** Offset from the function's entry of an instruction whose position is the call site. */
  parentPc: number;
  /** Go 1.20+: line of the inlined function's `func` keyword; else 0. */
  startLine: number;
}

/** A decoded pcvalue table: value vals[i] holds for pc < ends[i] (pcs relative to entry). */
export interface PcTable {
  ends: Uint32Array;
  vals: Int32Array;
}

/** Reads `len` bytes at a virtual address of the binary, or undefined when not file-backed. */
export type VaddrReader = (vaddr: number, len: number) => Uint8Array | undefined;

export interface PclntabOptions {
  /** Virtual address of the table (to cross-check moduledata); optional. */
  addr?: number;
  /** Used when the header's textStart is 0 (PIE: filled by a dynamic relocation) or absent (1.16). */
  textStartFallback?: number;
  /** Address of go:func.* (1.18+ funcdata base), when known. */
  gofunc?: number;
  readVaddr?: VaddrReader;
}

/** 2^8 = 256 text bytes per findFunc bucket keeps the scan to a step or two (Go functions are larger). */
const BUCKET_SHIFT = 8;
const MAX_BUCKETS = 1 << 22;
const INLINED_CALL_SIZE_120 = 16;
const INLINED_CALL_SIZE_OLD = 20;

export class GoPclntab {
  readonly version: PclntabVersion;
  readonly magic: number;
  readonly quantum: number;
  readonly ptrSize: number;
  readonly nfunc: number;
  readonly nfiles: number;
  readonly textStart: number;
  /** Function entries relative to textStart, nfunc+1 of them (the last is the end of text). */
  readonly entryOffs: Uint32Array;
  /** Offsets of the _func records, relative to the functab start. */
  readonly funcOffs: Uint32Array;
  gofunc: number | undefined;
  readVaddr: VaddrReader | undefined;

  private readonly data: Uint8Array;
  private readonly view: DataView;
  private readonly funcnametab: number;
  private readonly cutab: number;
  private readonly filetab: number;
  private readonly pctab: number;
  private readonly functab: number;
  private readonly names = new Map<number, string>();
  private readonly fileNames = new Map<number, string>();
  private readonly records: (GoFuncRecord | undefined)[];

  constructor(data: Uint8Array, opts: PclntabOptions = {}) {
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const r = new ByteReader(data, SECTION);
    if (data.length < 16) r.fail(`truncated: ${data.length} bytes is too short for a header`, 0);
    const magic = r.u32();
    this.magic = magic;
    this.version = versionOf(magic, r);
    if (r.u8() !== 0 || r.u8() !== 0) r.fail('bad header padding', 4);
    this.quantum = r.u8();
    this.ptrSize = r.u8();
    if (this.quantum !== 1 && this.quantum !== 2 && this.quantum !== 4) r.fail(`bad pc quantum ${this.quantum}`, 6);
    if (this.ptrSize !== 8) r.fail(`pointer size ${this.ptrSize} is not supported (64-bit only)`, 7);
    const word = (): number => r.u64n();
    this.nfunc = word();
    this.nfiles = word();
    let textStart = 0;
    if (this.version !== '1.16') textStart = word();
    this.funcnametab = word();
    this.cutab = word();
    this.filetab = word();
    this.pctab = word();
    this.functab = word();
    for (const [name, off] of [
      ['funcnametab', this.funcnametab],
      ['cutab', this.cutab],
      ['filetab', this.filetab],
      ['pctab', this.pctab],
      ['functab', this.functab],
    ] as const) {
      if (off > data.length) r.fail(`${name} offset 0x${off.toString(16)} is outside the table (${data.length} bytes)`, 8);
    }
    if (this.nfunc > data.length) r.fail(`function count ${this.nfunc} cannot fit in ${data.length} bytes`, 8);

    // functab: nfunc+1 (entry, funcoff) pairs; uint32 offsets since 1.18, pointer-sized in 1.16.
    const n = this.nfunc;
    const fieldSize = this.version === '1.16' ? this.ptrSize : 4;
    const tabBytes = (2 * n + 1) * fieldSize;
    if (this.functab + tabBytes > data.length) r.fail(`functab (${n} functions) runs past the end of the table`, this.functab);
    this.entryOffs = new Uint32Array(n + 1);
    this.funcOffs = new Uint32Array(n);
    const v = this.view;
    if (this.version === '1.16') {
      const first = n > 0 ? Number(v.getBigUint64(this.functab, true)) : 0;
      textStart = first;
      for (let i = 0; i <= n; i++) {
        const p = this.functab + 2 * i * 8;
        const e = Number(v.getBigUint64(p, true)) - first;
        if (e < 0 || e > 0xffffffff) r.fail('function entry out of range', p);
        this.entryOffs[i] = e;
        if (i < n) this.funcOffs[i] = Number(v.getBigUint64(p + 8, true));
      }
    } else {
      let p = this.functab;
      for (let i = 0; i < n; i++, p += 8) {
        this.entryOffs[i] = v.getUint32(p, true);
        this.funcOffs[i] = v.getUint32(p + 4, true);
      }
      this.entryOffs[n] = v.getUint32(p, true);
    }
    for (let i = 1; i <= n; i++) {
      if (this.entryOffs[i]! < this.entryOffs[i - 1]!) r.fail(`functab is not sorted at entry ${i}`, this.functab + i * 2 * fieldSize);
    }
    if (textStart === 0 && opts.textStartFallback !== undefined) textStart = opts.textStartFallback;
    this.textStart = textStart;
    this.gofunc = opts.gofunc;
    this.readVaddr = opts.readVaddr;
    this.records = new Array<GoFuncRecord | undefined>(n);
  }

  /** The physical function containing pc, as an index, or -1. */
  findFunc(pc: number): number {
    const off = pc - this.textStart;
    const e = this.entryOffs;
    const n = this.nfunc;
    if (n === 0 || off < e[0]! || off >= e[n]!) return -1;
    // A bucket table (like the runtime's findfunctab) turns the search into a short scan.
    const buckets = this.buckets ?? this.buildBuckets();
    let i = buckets[(off - e[0]!) >>> this.bucketShift]!;
    while (e[i + 1]! <= off) i++;
    return i;
  }

  private buckets?: Uint32Array;
  private bucketShift = BUCKET_SHIFT;
  private buildBuckets(): Uint32Array {
    const e = this.entryOffs;
    const n = this.nfunc;
    const span = e[n]! - e[0]!;
    // At most 4M buckets (16 MB), whatever a (corrupt) table claims its text spans.
    while (span >>> this.bucketShift > MAX_BUCKETS) this.bucketShift++;
    const b = new Uint32Array((span >>> this.bucketShift) + 1);
    let i = 0;
    for (let k = 0; k < b.length; k++) {
      const at = e[0]! + k * 2 ** this.bucketShift;
      while (i < n - 1 && e[i + 1]! <= at) i++;
      b[k] = i;
    }
    this.buckets = b;
    return b;
  }

  entryOf(i: number): number {
    return this.textStart + this.entryOffs[i]!;
  }
  endOf(i: number): number {
    return this.textStart + this.entryOffs[i + 1]!;
  }

  /** The _func record of function i (decoded once). */
  func(i: number): GoFuncRecord {
    const cached = this.records[i];
    if (cached) return cached;
    const off = this.functab + this.funcOffs[i]!;
    const r = new ByteReader(this.data, SECTION).seek(Math.min(off, this.data.length));
    if (off > this.data.length) r.fail(`_func record of function ${i} is outside the table`, this.functab);
    let entry: number;
    if (this.version === '1.16') entry = r.u64n();
    else entry = this.textStart + r.u32();
    const nameOff = r.i32();
    r.i32(); // args
    r.u32(); // deferreturn
    const pcsp = r.u32();
    const pcfile = r.u32();
    const pcln = r.u32();
    const npcdata = r.u32();
    const cuOffset = r.u32();
    const startLine = this.version === '1.20' ? r.i32() : 0;
    const funcID = r.u8();
    const flag = this.version === '1.16' ? (r.u8(), 0) : r.u8();
    r.u8(); // pad
    const nfuncdata = r.u8();
    if (entry !== this.entryOf(i))
      r.fail(`_func entry 0x${entry.toString(16)} disagrees with functab entry 0x${this.entryOf(i).toString(16)}`, off);
    if (npcdata > 1024) r.fail(`implausible pcdata count ${npcdata}`, off);
    const rec: GoFuncRecord = {
      index: i,
      entry,
      end: this.endOf(i),
      nameOff,
      pcsp,
      pcfile,
      pcln,
      npcdata,
      cuOffset,
      startLine,
      funcID,
      flag,
      nfuncdata,
      offset: off,
    };
    this.records[i] = rec;
    return rec;
  }

  private recordSize(): number {
    return this.version === '1.20' ? 44 : this.version === '1.18' ? 40 : 44;
  }

  /** Offset into pctab of pcdata table `k` of a function, or 0 (no table). */
  pcdataOffset(f: GoFuncRecord, k: number): number {
    if (k >= f.npcdata) return 0;
    const p = f.offset + this.recordSize() + 4 * k;
    if (p + 4 > this.data.length) throw new FormatError(`pcdata[${k}] of function ${f.index} is outside the table`, SECTION, p);
    return this.view.getUint32(p, true);
  }

  /** Virtual address of funcdata `k` of a function, or undefined when absent or unlocatable. */
  funcdataAddr(f: GoFuncRecord, k: number): number | undefined {
    if (k >= f.nfuncdata) return undefined;
    let p = f.offset + this.recordSize() + 4 * f.npcdata;
    if (this.version === '1.16') {
      if ((p & 7) !== 0) p += 4; // pointer-aligned (the record itself is pointer-aligned)
      p += 8 * k;
      if (p + 8 > this.data.length) throw new FormatError(`funcdata[${k}] is outside the table`, SECTION, p);
      const a = Number(this.view.getBigUint64(p, true));
      return a === 0 ? undefined : a;
    }
    p += 4 * k;
    if (p + 4 > this.data.length) throw new FormatError(`funcdata[${k}] is outside the table`, SECTION, p);
    const off = this.view.getUint32(p, true);
    if (off === 0xffffffff || this.gofunc === undefined) return undefined;
    return this.gofunc + off;
  }

  /** A NUL-terminated name from funcnametab. */
  nameAt(nameOff: number): string {
    let s = this.names.get(nameOff);
    if (s !== undefined) return s;
    const start = this.funcnametab + nameOff;
    const d = this.data;
    if (nameOff < 0 || start >= this.data.length)
      throw new FormatError(`function name offset ${nameOff} is outside funcnametab`, SECTION, this.funcnametab);
    const end = d.indexOf(0, start);
    if (end < 0) throw new FormatError('unterminated function name', SECTION, start);
    s = decodeUtf8(d, start, end);
    this.names.set(nameOff, s);
    return s;
  }

  funcName(f: GoFuncRecord): string {
    return this.nameAt(f.nameOff);
  }

  /** File name for a pcfile value of function f; "?" when out of range (as the runtime does). */
  fileName(f: GoFuncRecord, fileno: number): string {
    if (fileno < 0) return '?';
    const p = this.cutab + 4 * (f.cuOffset + fileno);
    if (p + 4 > this.data.length) throw new FormatError(`file index ${fileno} (CU offset ${f.cuOffset}) is outside cutab`, SECTION, p);
    const off = this.view.getUint32(p, true);
    if (off === 0xffffffff) return '?';
    let s = this.fileNames.get(off);
    if (s !== undefined) return s;
    const start = this.filetab + off;
    if (start >= this.data.length) throw new FormatError(`file name offset 0x${off.toString(16)} is outside filetab`, SECTION, p);
    const end = this.data.indexOf(0, start);
    if (end < 0) throw new FormatError('unterminated file name', SECTION, start);
    s = decodeUtf8(this.data, start, end);
    this.fileNames.set(off, s);
    return s;
  }

  /** Decodes a whole pcvalue table at pctab offset `off` for function f (see runtime.step). */
  decodePcTable(f: GoFuncRecord, off: number): PcTable {
    return decodePcValueTable(this.data, this.pctab + off, this.quantum, f.end - f.entry);
  }

  /** The same into reusable arrays; an offset of 0 (no table) gives an empty table. */
  decodePcInto(f: GoFuncRecord, off: number, out: PcScratch): void {
    if (off === 0) {
      out.n = 0;
      return;
    }
    decodePcValueInto(this.data, this.pctab + off, this.quantum, f.end - f.entry, out);
  }

  /** Raw bytes of inline tree entries [0, count) and the entry size, or undefined when unreadable. */
  inlineTreeBytes(tree: number, count: number): { bytes: Uint8Array; entrySize: number } | undefined {
    if (!this.readVaddr || count <= 0) return undefined;
    const entrySize = this.version === '1.20' ? INLINED_CALL_SIZE_120 : INLINED_CALL_SIZE_OLD;
    const bytes = this.readVaddr(tree, count * entrySize);
    return bytes ? { bytes, entrySize } : undefined;
  }

  /** Entries [0, count) of the inline tree at virtual address `tree` (one read), or undefined. */
  inlinedCalls(tree: number, count: number): InlinedCall[] | undefined {
    if (!this.readVaddr || count <= 0) return undefined;
    const size = this.version === '1.20' ? INLINED_CALL_SIZE_120 : INLINED_CALL_SIZE_OLD;
    const b = this.readVaddr(tree, count * size);
    if (!b) return undefined;
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const out: InlinedCall[] = [];
    for (let i = 0, p = 0; i < count; i++, p += size) {
      if (size === INLINED_CALL_SIZE_120)
        out.push({
          parent: -1,
          funcID: b[p]!,
          nameOff: v.getInt32(p + 4, true),
          parentPc: v.getInt32(p + 8, true),
          startLine: v.getInt32(p + 12, true),
        });
      else
        out.push({
          parent: v.getInt16(p, true),
          funcID: b[p + 2]!,
          nameOff: v.getInt32(p + 12, true),
          parentPc: v.getInt32(p + 16, true),
          startLine: 0,
        });
    }
    return out;
  }

  /** Entry i of the inline tree at virtual address `tree`, or undefined when unreadable. */
  inlinedCall(tree: number, i: number): InlinedCall | undefined {
    if (!this.readVaddr || i < 0) return undefined;
    if (this.version === '1.20') {
      const b = this.readVaddr(tree + i * INLINED_CALL_SIZE_120, INLINED_CALL_SIZE_120);
      if (!b) return undefined;
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      return { parent: -1, funcID: b[0]!, nameOff: v.getInt32(4, true), parentPc: v.getInt32(8, true), startLine: v.getInt32(12, true) };
    }
    const b = this.readVaddr(tree + i * INLINED_CALL_SIZE_OLD, INLINED_CALL_SIZE_OLD);
    if (!b) return undefined;
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    // parent int16, funcID uint8, pad, file int32, line int32, func_ int32, parentPc int32
    return { parent: v.getInt16(0, true), funcID: b[2]!, nameOff: v.getInt32(12, true), parentPc: v.getInt32(16, true), startLine: 0 };
  }
}

/** Reusable, growing output arrays for pcvalue decoding (no allocation per function). */
export class PcScratch {
  ends = new Uint32Array(256);
  vals = new Int32Array(256);
  n = 0;
  push(end: number, val: number): void {
    if (this.n === this.ends.length) {
      const e = new Uint32Array(this.n * 2);
      e.set(this.ends);
      this.ends = e;
      const v = new Int32Array(this.n * 2);
      v.set(this.vals);
      this.vals = v;
    }
    this.ends[this.n] = end;
    this.vals[this.n++] = val;
  }
}

/**
 * Decodes a pcvalue table starting at byte `start` of `data` into `out` (reset first): pairs of
 * (zig-zag value delta, pc delta × quantum) varints, the value starting at -1, ending at a 0
 * value-delta byte after the first pair. Bounded by the function size so corrupt tables cannot
 * run away. Entry i: value vals[i] for pc offsets < ends[i].
 */
export function decodePcValueInto(data: Uint8Array, start: number, quantum: number, funcSize: number, out: PcScratch): void {
  out.n = 0;
  let p = start;
  let val = -1;
  let pc = 0;
  const n = data.length;
  for (let first = true; ; first = false) {
    if (p >= n) throw new FormatError('pcvalue table runs past the end of the table', SECTION, p);
    let uv = data[p]!;
    if (uv === 0 && !first) break;
    p++;
    if (uv & 0x80) {
      uv &= 0x7f;
      let shift = 7;
      for (;;) {
        if (p >= n) throw new FormatError('truncated varint in pcvalue table', SECTION, p);
        const b = data[p++]!;
        uv += (b & 0x7f) * 2 ** shift;
        if ((b & 0x80) === 0) break;
        shift += 7;
        if (shift > 28) throw new FormatError('varint too long in pcvalue table', SECTION, p);
      }
    }
    // zig-zag: even → +uv/2, odd → -(uv+1)/2
    val += uv % 2 === 1 ? -(uv + 1) / 2 : uv / 2;
    if (p >= n) throw new FormatError('truncated pcvalue table', SECTION, p);
    let pd = data[p++]!;
    if (pd & 0x80) {
      pd &= 0x7f;
      let shift = 7;
      for (;;) {
        if (p >= n) throw new FormatError('truncated varint in pcvalue table', SECTION, p);
        const b = data[p++]!;
        pd += (b & 0x7f) * 2 ** shift;
        if ((b & 0x80) === 0) break;
        shift += 7;
        if (shift > 28) throw new FormatError('varint too long in pcvalue table', SECTION, p);
      }
    }
    pc += pd * quantum;
    if (val < -0x80000000 || val > 0x7fffffff) throw new FormatError('pcvalue out of range', SECTION, p);
    out.push(pc, val);
    if (pc >= funcSize) break; // past the function: the rest cannot matter (the runtime stops at targetpc)
  }
}

const tableScratch = new PcScratch();

/** decodePcValueInto, returning fresh arrays. */
export function decodePcValueTable(data: Uint8Array, start: number, quantum: number, funcSize: number): PcTable {
  // One scratch for every call (the result is copied out): a fresh pair of typed arrays per
  // table cost more than decoding a small function's table.
  const s = tableScratch;
  decodePcValueInto(data, start, quantum, funcSize, s);
  return { ends: s.ends.slice(0, s.n), vals: s.vals.slice(0, s.n) };
}

/** The value of a decoded table at pc offset `rel` (from the entry), or -1 (runtime: "invalid pc"). */
export function pcTableValue(t: PcTable, rel: number): number {
  const e = t.ends;
  let lo = 0;
  let hi = e.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rel < e[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo < e.length ? t.vals[lo]! : -1;
}

function versionOf(magic: number, r: ByteReader): PclntabVersion {
  if (magic === GO120_MAGIC) return '1.20';
  if (magic === GO118_MAGIC) return '1.18';
  if (magic === GO116_MAGIC) return '1.16';
  if (magic === 0xfffffffb) r.fail('Go 1.2–1.15 pclntab (magic 0xfffffffb) is not supported', 0);
  return r.fail(`bad magic 0x${magic.toString(16)}`, 0);
}

/** Parses a .gopclntab section. */
export function parseGoPclntab(data: Uint8Array, opts: PclntabOptions = {}): GoPclntab {
  return new GoPclntab(data, opts);
}
