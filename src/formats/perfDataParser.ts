/**
 * The perf.data decoder behind parsePerfData (types and the format notes are in perfData.ts).
 * One pass over the records; samples go straight into typed-array columns sized from the data.
 */
import { ByteReader, FormatError, decodeUtf8 } from '../util/byteReader';
import {
  HEADER_FEAT,
  PERF_RECORD,
  PERF_SAMPLE,
  type PerfBuildId,
  type PerfComm,
  type PerfData,
  type PerfEventAttrInfo,
  type PerfFeatures,
  type PerfMmap,
  type PerfSamples,
  type PerfTaskEvent,
} from './perfDataTypes';
import { eventName, parseAttr } from './perfDataAttr';
import { UserStacks } from './perfUserStacks';

const MAGIC = 'PERFILE2';
const FILE_HEADER_SIZE = 104;
const PIPE_HEADER_SIZE = 16;
const SEC_HEADER = 'perf.data header';
const SEC_ATTRS = 'perf.data attrs';
const SEC_RECORDS = 'perf.data records';
const SEC_FEATURES = 'perf.data features';

const TWO32 = 4294967296;
const MISC_CPUMODE_MASK = 7;
const MISC_MMAP_DATA = 1 << 13;
const MISC_COMM_EXEC = 1 << 13;
const MISC_MMAP_BUILD_ID = 1 << 14;
const MISC_BUILD_ID_SIZE = 1 << 15;
const BRANCH_HW_INDEX = 1n << 17n;
const FORMAT_TOTAL_TIME_ENABLED = 1n,
  FORMAT_TOTAL_TIME_RUNNING = 2n,
  FORMAT_ID = 4n,
  FORMAT_GROUP = 8n,
  FORMAT_LOST = 16n;

/** Precomputed per-attr facts the sample decoder needs (no bigint work per sample). */
interface Layout {
  identifier: boolean;
  ip: boolean;
  tid: boolean;
  time: boolean;
  addr: boolean;
  id: boolean;
  streamId: boolean;
  cpu: boolean;
  period: boolean;
  read: boolean;
  callchain: boolean;
  raw: boolean;
  branchStack: boolean;
  regsUser: boolean;
  stackUser: boolean;
  weight: boolean;
  dataSrc: boolean;
  transaction: boolean;
  regsIntr: boolean;
  physAddr: boolean;
  aux: boolean;
  cgroup: boolean;
  dataPageSize: boolean;
  codePageSize: boolean;
  /** read_format: bytes before the values (group: nr + times; else the times), and bytes per value (value, id, lost). */
  readGroup: boolean;
  readHeaderBytes: number;
  readEntryBytes: number;
  branchHwIndex: boolean;
  regsUserCount: number;
  regsIntrCount: number;
  /** sample_regs_user and sample_stack_user, for the user stacks kept (--call-graph dwarf). */
  regsUserMask: bigint;
  stackUserSize: number;
  fixedPeriod: number;
  sampleIdAll: boolean;
  /** sample_type has bits newer than this decoder: trailing fields are then tolerated. */
  unknownBits: boolean;
  /** Any field after the callchain. */
  hasTail: boolean;
  /** Offsets from the record start of the leading fixed fields (-1: absent), and where they end. */
  ipAt: number;
  tidAt: number;
  timeAt: number;
  cpuAt: number;
  periodAt: number;
  fixedEnd: number;
  /** Bytes of the sample_id_all trailer and where in it the tid and time are (-1: none). */
  trailerBytes: number;
  trailerTimeAt: number;
  trailerTidAt: number;
}

function popcount64(x: bigint): number {
  let n = 0;
  while (x) {
    n += Number(x & 1n);
    x >>= 1n;
  }
  return n;
}

function layoutOf(a: PerfEventAttrInfo): Layout {
  const t = a.sampleType;
  const has = (b: bigint) => (t & b) !== 0n;
  const rf = a.readFormat;
  const rHas = (b: bigint) => (rf & b) !== 0n;
  const group = rHas(FORMAT_GROUP);
  const times = (rHas(FORMAT_TOTAL_TIME_ENABLED) ? 8 : 0) + (rHas(FORMAT_TOTAL_TIME_RUNNING) ? 8 : 0);
  const perValue = 8 + (rHas(FORMAT_ID) ? 8 : 0) + (rHas(FORMAT_LOST) ? 8 : 0);
  let trailer = 0,
    trailerTimeAt = -1,
    trailerTidAt = -1;
  if (a.sampleIdAll) {
    if (has(PERF_SAMPLE.TID)) {
      trailerTidAt = trailer;
      trailer += 8;
    }
    if (has(PERF_SAMPLE.TIME)) {
      trailerTimeAt = trailer;
      trailer += 8;
    }
    if (has(PERF_SAMPLE.ID)) trailer += 8;
    if (has(PERF_SAMPLE.STREAM_ID)) trailer += 8;
    if (has(PERF_SAMPLE.CPU)) trailer += 8;
    if (has(PERF_SAMPLE.IDENTIFIER)) trailer += 8;
  }
  // Leading fields, in the kernel's order: IDENTIFIER, IP, TID, TIME, ADDR, ID, STREAM_ID, CPU, PERIOD.
  let at = 8;
  const field = (bit: bigint): number => {
    if (!has(bit)) return -1;
    const o = at;
    at += 8;
    return o;
  };
  field(PERF_SAMPLE.IDENTIFIER);
  const ipAt = field(PERF_SAMPLE.IP),
    tidAt = field(PERF_SAMPLE.TID),
    timeAt = field(PERF_SAMPLE.TIME);
  field(PERF_SAMPLE.ADDR);
  field(PERF_SAMPLE.ID);
  field(PERF_SAMPLE.STREAM_ID);
  const cpuAt = field(PERF_SAMPLE.CPU),
    periodAt = field(PERF_SAMPLE.PERIOD);
  return {
    ipAt,
    tidAt,
    timeAt,
    cpuAt,
    periodAt,
    fixedEnd: at,
    identifier: has(PERF_SAMPLE.IDENTIFIER),
    ip: has(PERF_SAMPLE.IP),
    tid: has(PERF_SAMPLE.TID),
    time: has(PERF_SAMPLE.TIME),
    addr: has(PERF_SAMPLE.ADDR),
    id: has(PERF_SAMPLE.ID),
    streamId: has(PERF_SAMPLE.STREAM_ID),
    cpu: has(PERF_SAMPLE.CPU),
    period: has(PERF_SAMPLE.PERIOD),
    read: has(PERF_SAMPLE.READ),
    callchain: has(PERF_SAMPLE.CALLCHAIN),
    raw: has(PERF_SAMPLE.RAW),
    branchStack: has(PERF_SAMPLE.BRANCH_STACK),
    regsUser: has(PERF_SAMPLE.REGS_USER),
    stackUser: has(PERF_SAMPLE.STACK_USER),
    weight: has(PERF_SAMPLE.WEIGHT) || has(PERF_SAMPLE.WEIGHT_STRUCT),
    dataSrc: has(PERF_SAMPLE.DATA_SRC),
    transaction: has(PERF_SAMPLE.TRANSACTION),
    regsIntr: has(PERF_SAMPLE.REGS_INTR),
    physAddr: has(PERF_SAMPLE.PHYS_ADDR),
    aux: has(PERF_SAMPLE.AUX),
    cgroup: has(PERF_SAMPLE.CGROUP),
    dataPageSize: has(PERF_SAMPLE.DATA_PAGE_SIZE),
    codePageSize: has(PERF_SAMPLE.CODE_PAGE_SIZE),
    readGroup: group,
    readHeaderBytes: group ? 8 + times : times,
    readEntryBytes: perValue,
    branchHwIndex: (a.branchSampleType & BRANCH_HW_INDEX) !== 0n,
    regsUserCount: popcount64(a.sampleRegsUser),
    regsIntrCount: popcount64(a.sampleRegsIntr),
    regsUserMask: a.sampleRegsUser,
    stackUserSize: a.sampleStackUser,
    fixedPeriod: a.freq ? 0 : (a.samplePeriod ?? 0),
    sampleIdAll: a.sampleIdAll,
    unknownBits: t >> 25n !== 0n,
    hasTail:
      (t &
        (PERF_SAMPLE.RAW |
          PERF_SAMPLE.BRANCH_STACK |
          PERF_SAMPLE.REGS_USER |
          PERF_SAMPLE.STACK_USER |
          PERF_SAMPLE.WEIGHT |
          PERF_SAMPLE.WEIGHT_STRUCT |
          PERF_SAMPLE.DATA_SRC |
          PERF_SAMPLE.TRANSACTION |
          PERF_SAMPLE.REGS_INTR |
          PERF_SAMPLE.PHYS_ADDR |
          PERF_SAMPLE.AUX |
          PERF_SAMPLE.CGROUP |
          PERF_SAMPLE.DATA_PAGE_SIZE |
          PERF_SAMPLE.CODE_PAGE_SIZE)) !==
      0n,
    trailerBytes: trailer,
    trailerTimeAt,
    trailerTidAt,
  };
}

/** Growable columns; trimmed to `count` at the end. */
class SampleColumns {
  count = 0;
  private cap: number;
  pid: Int32Array;
  tid: Int32Array;
  time: Float64Array;
  ip: Float64Array;
  period: Float64Array;
  cpu: Int32Array;
  attrIndex: Uint16Array;
  cpumode: Uint8Array;
  chainOffset: Uint32Array;
  chainLength: Uint32Array;
  chain: Float64Array;
  chainUsed = 0;
  readonly chainWide = new Map<number, bigint>();
  readonly ipWide = new Map<number, bigint>();
  /**
   * Distinct callchains seen, by hash (open addressing; slot → chain offset + 1, 0 = empty):
   * a sample whose callchain equals an earlier one shares its copy (a recording has a few
   * thousand distinct chains in a million samples), which spares the copy and lets ingest
   * group samples by chainOffset alone.
   */
  private seenMask = 4095;
  private seenAt = new Int32Array(4096);
  private seenHash = new Int32Array(4096);
  private seenLen = new Uint32Array(4096);
  private seenCount = 0;

  constructor(cap: number, chainCap: number) {
    this.cap = Math.max(16, cap);
    chainCap = Math.max(64, chainCap);
    const c = this.cap;
    this.pid = new Int32Array(c);
    this.tid = new Int32Array(c);
    this.time = new Float64Array(c);
    this.ip = new Float64Array(c);
    this.period = new Float64Array(c);
    this.cpu = new Int32Array(c);
    this.attrIndex = new Uint16Array(c);
    this.cpumode = new Uint8Array(c);
    this.chainOffset = new Uint32Array(c);
    this.chainLength = new Uint32Array(c);
    this.chain = new Float64Array(chainCap);
  }

  /** Makes room for one more sample; returns its index. */
  next(): number {
    if (this.count === this.cap) this.grow();
    return this.count++;
  }

  private grow(): void {
    const c = this.cap * 2;
    const grow = <T extends { length: number; set(a: ArrayLike<number>): void }>(a: T, make: (n: number) => T): T => {
      const b = make(c);
      b.set(a as unknown as ArrayLike<number>);
      return b;
    };
    this.pid = grow(this.pid, (n) => new Int32Array(n));
    this.tid = grow(this.tid, (n) => new Int32Array(n));
    this.time = grow(this.time, (n) => new Float64Array(n));
    this.ip = grow(this.ip, (n) => new Float64Array(n));
    this.period = grow(this.period, (n) => new Float64Array(n));
    this.cpu = grow(this.cpu, (n) => new Int32Array(n));
    this.attrIndex = grow(this.attrIndex, (n) => new Uint16Array(n));
    this.cpumode = grow(this.cpumode, (n) => new Uint8Array(n));
    this.chainOffset = grow(this.chainOffset, (n) => new Uint32Array(n));
    this.chainLength = grow(this.chainLength, (n) => new Uint32Array(n));
    this.cap = c;
  }

  reserveChain(n: number): void {
    if (this.chainUsed + n <= this.chain.length) return;
    let c = this.chain.length * 2;
    while (c < this.chainUsed + n) c *= 2;
    const b = new Float64Array(c);
    b.set(this.chain.subarray(0, this.chainUsed));
    this.chain = b;
  }

  /** The offset of a stored callchain equal to the nr entries at u32/i32 word w (hash h), or -1. */
  findChain(h: number, nr: number, u32: Uint32Array, i32: Int32Array, w: number): number {
    const mask = this.seenMask,
      at = this.seenAt,
      chain = this.chain;
    // The next slot is computed on the first probe too, so V8 has seen it when it optimizes: a
    // step that ran only on a collision deoptimized the parse's hot path, early, every time.
    for (let slot = h & mask, next = 0; ; slot = next) {
      next = (slot + 1) & mask;
      if (at[slot] === 0) return -1;
      if (this.seenHash[slot] !== h || this.seenLen[slot] !== nr) continue;
      const o = at[slot]! - 1;
      let k = 0;
      for (let v = w; k < nr; k++, v += 2) if (chain[o + k] !== i32[v + 1]! * TWO32 + u32[v]!) break;
      if (k === nr) return o;
    }
  }

  /** Remembers the callchain stored at offset o (length nr, hash h) for findChain. */
  addChain(h: number, nr: number, o: number): void {
    if (o >= 0x7fffffff) return; // beyond Int32: stop sharing (never in practice)
    if ((this.seenCount + 1) * 2 > this.seenMask) {
      const oldAt = this.seenAt,
        oldHash = this.seenHash,
        oldLen = this.seenLen;
      this.seenMask = this.seenMask * 2 + 1;
      this.seenAt = new Int32Array(this.seenMask + 1);
      this.seenHash = new Int32Array(this.seenMask + 1);
      this.seenLen = new Uint32Array(this.seenMask + 1);
      for (let k = 0; k < oldAt.length; k++) if (oldAt[k] !== 0) this.place(oldHash[k]!, oldLen[k]!, oldAt[k]!);
    }
    this.place(h, nr, o + 1);
    this.seenCount++;
  }

  private place(h: number, nr: number, at1: number): void {
    let slot = h & this.seenMask;
    while (this.seenAt[slot] !== 0) slot = (slot + 1) & this.seenMask;
    this.seenAt[slot] = at1;
    this.seenHash[slot] = h;
    this.seenLen[slot] = nr;
  }

  finish(): PerfSamples {
    const n = this.count;
    // Views, not copies: the untouched tail of each array was never backed by memory.
    const fit = <T extends Int32Array | Float64Array | Uint16Array | Uint8Array | Uint32Array>(a: T, used: number): T =>
      a.subarray(0, used) as T;
    return {
      count: n,
      pid: fit(this.pid, n),
      tid: fit(this.tid, n),
      time: fit(this.time, n),
      ip: fit(this.ip, n),
      period: fit(this.period, n),
      cpu: fit(this.cpu, n),
      attrIndex: fit(this.attrIndex, n),
      cpumode: fit(this.cpumode, n),
      chainOffset: fit(this.chainOffset, n),
      chainLength: fit(this.chainLength, n),
      chain: fit(this.chain, this.chainUsed),
      chainWide: this.chainWide,
      ipWide: this.ipWide,
    };
  }
}

/** Mutable state of one parse. */
class Parser {
  /** The piece being read (a whole file, or a stream's piece: see bind). */
  bytes!: Uint8Array;
  dv!: DataView;
  readonly attrs: PerfEventAttrInfo[] = [];
  layouts: Layout[] = [];
  /** Sample id → attr index (ids are small kernel counters, safe as numbers). */
  idToAttr = new Map<number, number>();
  /** Position of the id in a sample, in u64 words after the header (-1: none), and from the end of other records. */
  sampleIdPos = -1;
  trailerIdPosFromEnd = -1;
  readonly mmaps: PerfMmap[] = [];
  readonly comms: PerfComm[] = [];
  readonly tasks: PerfTaskEvent[] = [];
  /** Counts of record types < 128 (all there are), summed into a Map at the end. */
  private readonly counts = new Float64Array(128);
  private readonly otherCounts = new Map<number, number>();
  /** Samples lost per the kernel's LOST records, and per perf's LOST_SAMPLES records. */
  lostInRecords = 0;
  lostInLostSamples = 0;
  lostRecords = 0;
  throttles = 0;
  unthrottles = 0;
  features: PerfFeatures = { present: [], buildIds: [] };
  samples: SampleColumns;
  /** User registers and stack bytes of the samples that have them (--call-graph dwarf). */
  userStacks: UserStacks | undefined;
  truncated?: { offset: number; reason: string };

  /** Offset in the whole file of bytes[0] (data read in pieces: see recordsRead); cut() names file offsets. */
  base = 0;

  /** Little-endian word views of `bytes` when it is 4-byte aligned (the callchain fast path); x86/arm hosts are little-endian. */
  u32?: Uint32Array;
  i32?: Int32Array;

  /** `dataBytes`: how much record data to size the sample columns for (they grow beyond it). */
  constructor(bytes: Uint8Array, dataBytes: number) {
    this.bind(bytes);
    // Sized by upper bounds from the data size: a typical sample takes ≥ 40 bytes. Fresh typed
    // arrays are zero pages the OS maps lazily, so the unused tail costs address space, not
    // memory or time; more samples than that grow by doubling. The callchain store starts
    // smaller: samples repeating a callchain share one copy.
    this.samples = new SampleColumns(Math.ceil(Math.max(0, dataBytes) / 40), Math.min(Math.ceil(Math.max(0, dataBytes) / 8), 1 << 18));
  }

  /** Reads records from `bytes` from now on (a stream's next piece; state carries over). */
  bind(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const aligned = bytes.byteOffset % 4 === 0 && new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
    this.u32 = aligned ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2) : undefined;
    this.i32 = aligned ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2) : undefined;
  }

  u64num(p: number): number {
    return this.dv.getUint32(p + 4, true) * TWO32 + this.dv.getUint32(p, true);
  }

  addAttr(a: PerfEventAttrInfo): void {
    const idx = this.attrs.length;
    if (idx >= 0xffff) throw new FormatError('too many event attrs', SEC_ATTRS, 0);
    this.attrs.push(a);
    this.layouts.push(layoutOf(a));
    for (const id of a.ids) this.idToAttr.set(Number(id), idx);
    // Every attr must agree where the id sits (perf enforces this with PERF_SAMPLE_IDENTIFIER); the first one decides.
    const l = this.layouts[0]!;
    if (l.identifier) {
      this.sampleIdPos = 0;
      this.trailerIdPosFromEnd = 1;
    } else if (l.id) {
      this.sampleIdPos = (l.ip ? 1 : 0) + (l.tid ? 1 : 0) + (l.time ? 1 : 0) + (l.addr ? 1 : 0);
      this.trailerIdPosFromEnd = 1 + (l.cpu ? 1 : 0) + (l.streamId ? 1 : 0);
    } else {
      this.sampleIdPos = -1;
      this.trailerIdPosFromEnd = -1;
    }
  }

  /** The attr of a record: by its id when there are several attrs, else the only one. */
  attrFor(p: number, size: number, sample: boolean): number {
    if (this.attrs.length <= 1) return 0;
    let at: number;
    if (sample) {
      if (this.sampleIdPos < 0) return 0;
      at = p + 8 + this.sampleIdPos * 8;
    } else {
      if (this.trailerIdPosFromEnd < 0 || !this.layouts[0]!.sampleIdAll) return 0;
      at = p + size - this.trailerIdPosFromEnd * 8;
    }
    if (at < p + 8 || at + 8 > p + size) throw new FormatError('record too short for its sample id', SEC_RECORDS, p);
    const idx = this.idToAttr.get(this.u64num(at));
    return idx ?? 0;
  }

  /**
   * Records in [start, end); with `cutMeansTruncated` (end is the end of a file cut short) a
   * partial last record sets `truncated` instead of throwing. Returns where the whole records end.
   */
  records(start: number, end: number, cutMeansTruncated: boolean, pipe: boolean): number {
    const dv = this.dv;
    let p = start;
    while (p < end) {
      if (p + 8 > end) {
        this.cut(p, end, 'record header', cutMeansTruncated);
        return p;
      }
      const type = dv.getUint32(p, true);
      const misc = dv.getUint16(p + 4, true);
      const size = dv.getUint16(p + 6, true);
      if (size < 8) throw new FormatError(`record of type ${type} has size ${size} (< 8)`, SEC_RECORDS, p);
      if (p + size > end) {
        this.cut(p, end, `record of type ${type} (${size} bytes)`, cutMeansTruncated);
        return p;
      }
      if (type < 128) this.counts[type]++;
      else this.otherCounts.set(type, (this.otherCounts.get(type) ?? 0) + 1);
      // Samples inline; every other type in its own function, so that a rare type showing up
      // late does not throw the optimized loop away (it did, several times a parse).
      let extra = 0;
      if (type === PERF_RECORD.SAMPLE) this.sample(p, misc, size);
      else extra = this.other(type, p, misc, size, pipe);
      p += size;
      if (extra) {
        if (p + extra > end) {
          this.cut(p - size, end, `record of type ${type} with ${extra} bytes of payload`, cutMeansTruncated);
          return p - size;
        }
        p += extra;
      }
    }
    return p;
  }

  /** A record other than a sample; returns the bytes of payload that follow it beyond its size. */
  private other(type: number, p: number, misc: number, size: number, pipe: boolean): number {
    const dv = this.dv;
    switch (type) {
      case PERF_RECORD.MMAP:
        this.mmap(p, misc, size, false);
        break;
      case PERF_RECORD.MMAP2:
        this.mmap(p, misc, size, true);
        break;
      case PERF_RECORD.COMM:
        this.comm(p, misc, size);
        break;
      case PERF_RECORD.FORK:
      case PERF_RECORD.EXIT:
        this.task(p, size, type === PERF_RECORD.FORK ? 'fork' : 'exit');
        break;
      case PERF_RECORD.LOST:
        this.need(p, size, 24);
        this.lostRecords++;
        this.lostInRecords += this.u64num(p + 16);
        break;
      case PERF_RECORD.LOST_SAMPLES:
        this.need(p, size, 16);
        this.lostRecords++;
        this.lostInLostSamples += this.u64num(p + 8);
        break;
      case PERF_RECORD.THROTTLE:
        this.throttles++;
        break;
      case PERF_RECORD.UNTHROTTLE:
        this.unthrottles++;
        break;
      case PERF_RECORD.HEADER_ATTR:
        if (pipe) this.headerAttr(p, size);
        break;
      case PERF_RECORD.HEADER_FEATURE:
        if (pipe) this.headerFeature(p, size);
        break;
      case PERF_RECORD.HEADER_BUILD_ID:
        if (pipe) this.features.buildIds.push(this.buildIdEvent(new ByteReader(this.bytes, SEC_RECORDS).sub(p, size)));
        break;
      case PERF_RECORD.HEADER_TRACING_DATA: {
        // The tracing data follows the record, padded to 8 bytes, outside header.size.
        this.need(p, size, 12);
        const n = dv.getUint32(p + 8, true);
        return n + ((8 - (n % 8)) % 8);
      }
      case PERF_RECORD.AUXTRACE:
        this.need(p, size, 16);
        return this.u64num(p + 8);
      case PERF_RECORD.COMPRESSED:
        throw new FormatError('compressed records (perf record -z) are not supported; record without -z', SEC_RECORDS, p);
      default:
        break; // every other record is skipped by its size
    }
    return 0;
  }

  private cut(p: number, end: number, what: string, truncated: boolean): void {
    const at = p + this.base;
    const msg = `${what} at 0x${at.toString(16)} runs past the end of the data at 0x${(end + this.base).toString(16)}`;
    if (!truncated) throw new FormatError(msg, SEC_RECORDS, p);
    this.truncated ??= { offset: at, reason: `file cut short: ${msg}; ${end - p} byte(s) of a partial record dropped` };
  }

  /**
   * Records in the file's [start, end), read through `read` in pieces of one reused buffer:
   * a record cut by a piece's end is moved to the buffer's start and completed by the next
   * read. Errors and `truncated` name offsets in the file, as records() on the whole file does.
   */
  recordsRead(read: FileReader, start: number, end: number, cutMeansTruncated: boolean, pieceBytes: number): void {
    let buf = new Uint8Array(Math.max(64, pieceBytes));
    let have = 0;
    let pos = start;
    for (let base = start; ;) {
      while (have < buf.length && pos < end) {
        const n = read(pos, buf, have, Math.min(buf.length - have, end - pos));
        if (!(n > 0))
          throw new FormatError(
            `the file ended at 0x${pos.toString(16)} while its data section was read (did it change meanwhile?)`,
            SEC_RECORDS,
            pos,
          );
        have += n;
        pos += n;
      }
      const last = pos >= end;
      this.bind(buf.subarray(0, have));
      this.base = base;
      let stop: number;
      try {
        stop = this.records(0, have, last ? cutMeansTruncated : true, false);
      } catch (e) {
        throw e instanceof FormatError ? new FormatError(e.detail, e.section, e.offset + base) : e;
      }
      if (last) return;
      this.truncated = undefined; // a record cut by the piece's end: completed by the next piece
      if (stop === 0 && have === buf.length) {
        // One record (with its payload) larger than the buffer.
        const b = new Uint8Array(buf.length * 2);
        b.set(buf);
        buf = b;
        continue;
      }
      buf.copyWithin(0, stop, have);
      have -= stop;
      base += stop;
    }
  }

  private need(p: number, size: number, n: number): void {
    if (size < n) throw new FormatError(`record needs ${n} bytes, has ${size}`, SEC_RECORDS, p);
  }

  private sample(p: number, misc: number, size: number): void {
    const ai = this.attrs.length <= 1 ? 0 : this.attrFor(p, size, true);
    const l = this.layouts[ai];
    if (!l) throw new FormatError('sample before any event attr', SEC_RECORDS, p);
    const dv = this.dv;
    const end = p + size;
    const s = this.samples;
    const i = s.next();
    s.attrIndex[i] = ai;
    s.cpumode[i] = misc & MISC_CPUMODE_MASK;
    // The leading fields sit at offsets fixed per layout (-1: absent).
    if (p + l.fixedEnd > end) this.sampleFail('header fields', p, size);
    let at = l.ipAt;
    if (at >= 0) {
      at += p;
      const hi = dv.getInt32(at + 4, true);
      s.ip[i] = hi * TWO32 + dv.getUint32(at, true);
      if (hi >= 0x200000 || hi < -0x200000) s.ipWide.set(i, dv.getBigUint64(at, true));
    } else s.ip[i] = NaN;
    at = l.tidAt;
    if (at >= 0) {
      s.pid[i] = dv.getInt32(p + at, true);
      s.tid[i] = dv.getInt32(p + at + 4, true);
    } else {
      s.pid[i] = -1;
      s.tid[i] = -1;
    }
    at = l.timeAt;
    s.time[i] = at >= 0 ? dv.getUint32(p + at + 4, true) * TWO32 + dv.getUint32(p + at, true) : NaN;
    at = l.cpuAt;
    s.cpu[i] = at >= 0 ? dv.getInt32(p + at, true) : -1;
    at = l.periodAt;
    s.period[i] = at >= 0 ? dv.getUint32(p + at + 4, true) * TWO32 + dv.getUint32(p + at, true) : l.fixedPeriod;
    let q = p + l.fixedEnd;
    if (l.read) q = this.skipRead(l, q, end, p, size);
    if (l.callchain) q = this.callchain(i, q, end, p, size);
    else {
      s.chainOffset[i] = s.chainUsed;
      s.chainLength[i] = 0;
    }
    if (l.hasTail) q = this.skipTail(i, l, q, end, p, size);
    // With only known bits, the fields must fill the record exactly: anything else means a wrong layout.
    if (q !== end && !l.unknownBits) {
      s.count--;
      throw new FormatError(`sample fields end at ${q - p} of the record's ${size} bytes`, SEC_RECORDS, p);
    }
  }

  // sample() is split into small functions on purpose: V8 optimizes small hot functions soon,
  // and one big one late (or never, within a 100k-sample parse).

  private skipRead(l: Layout, q: number, end: number, p: number, size: number): number {
    if (q + l.readHeaderBytes > end) this.sampleFail('read values', p, size);
    if (l.readGroup) {
      const nr = this.u64num(q);
      if (nr > (end - q) / 8) this.sampleFail('read group', p, size);
      q += l.readHeaderBytes + nr * l.readEntryBytes;
    } else q += l.readHeaderBytes + l.readEntryBytes;
    if (q > end) this.sampleFail('read values', p, size);
    return q;
  }

  /** Copies sample i's callchain (at q: u64 nr, then nr u64 entries); returns the offset after it. */
  private callchain(i: number, q: number, end: number, p: number, size: number): number {
    if (q + 8 > end) this.sampleFail('callchain length', p, size);
    const nr = this.u64num(q);
    q += 8;
    if (nr > (end - q) / 8) this.sampleFail(`callchain of ${nr} entries`, p, size);
    const s = this.samples;
    // Aligned (always, for whole files): plain typed-array reads. Kept small, the rarer paths in
    // functions of their own, so that V8 compiles it soon.
    s.chainOffset[i] = this.u32 !== undefined && (q & 3) === 0 && nr > 0 ? this.alignedChain(q >> 2, nr) : this.copyChain(q, nr);
    s.chainLength[i] = nr;
    return q + nr * 8;
  }

  /**
   * The offset of the callchain of nr entries at word w0 in the chain store. A chain seen before
   * is shared, not copied: found by a hash of its length, first entries and last entry, then
   * compared value by value.
   */
  private alignedChain(w0: number, nr: number): number {
    const u32 = this.u32!,
      i32 = this.i32!;
    let h = Math.imul(nr, 0x9e3779b1) ^ i32[w0 + 1]!;
    for (let k = 0, w = w0, m = nr < 6 ? nr : 6; k < m; k++, w += 2) h = Math.imul(h ^ u32[w]!, 0x85ebca6b);
    h = Math.imul(h ^ u32[w0 + 2 * (nr - 1)]!, 0xc2b2ae35);
    h ^= h >>> 15;
    const seen = this.samples.findChain(h, nr, u32, i32, w0);
    return seen >= 0 ? seen : this.storeChain(w0, nr, h);
  }

  /** Copies a new aligned callchain into the store (shared from now on when its values are exact); returns its offset. */
  private storeChain(w0: number, nr: number, h: number): number {
    const s = this.samples;
    const u32 = this.u32!,
      i32 = this.i32!;
    s.reserveChain(nr);
    const chain = s.chain;
    const o0 = s.chainUsed;
    let wide = false;
    for (let k = 0, w = w0; k < nr; k++, w += 2) {
      const hi = i32[w + 1]!;
      // Beyond ±2^53 a double is inexact: keep the exact value aside (rare: broken FP walks).
      if (hi >= 0x200000 || hi < -0x200000) {
        s.chainWide.set(o0 + k, this.dv.getBigUint64(w * 4, true));
        wide = true;
      }
      chain[o0 + k] = hi * TWO32 + u32[w]!;
    }
    s.chainUsed = o0 + nr;
    // Inexact doubles would compare equal for different values: such chains are never shared.
    if (!wide) s.addChain(h, nr, o0);
    return o0;
  }

  /** Copies a callchain read through the DataView (unaligned bytes, or empty); returns its offset. */
  private copyChain(q: number, nr: number): number {
    const s = this.samples;
    const dv = this.dv;
    s.reserveChain(nr);
    const chain = s.chain;
    const o0 = s.chainUsed;
    for (let k = 0; k < nr; k++, q += 8) {
      const hi = dv.getInt32(q + 4, true);
      if (hi >= 0x200000 || hi < -0x200000) s.chainWide.set(o0 + k, dv.getBigUint64(q, true));
      chain[o0 + k] = hi * TWO32 + dv.getUint32(q, true);
    }
    s.chainUsed = o0 + nr;
    return o0;
  }

  /** Copies sample i's user registers and stack bytes (a --call-graph dwarf recording's) into userStacks. */
  private keepUserStack(i: number, l: Layout, regsAt: number, stackAt: number, dyn: number): void {
    const regs = new Float64Array(l.regsUserCount);
    for (let k = 0; k < regs.length; k++) regs[k] = this.u64num(regsAt + 8 * k);
    (this.userStacks ??= new UserStacks()).set(i, {
      mask: l.regsUserMask,
      regs,
      requested: l.stackUserSize,
      bytes: new Uint8Array(this.bytes.subarray(stackAt, stackAt + dyn)),
    }); // a copy: the bytes read are reused
  }

  /** Walks the fields after the callchain, so a malformed tail or a wrong layout is caught; keeps user stacks. */
  private skipTail(i: number, l: Layout, q: number, end: number, p: number, size: number): number {
    const dv = this.dv;
    if (l.raw) {
      if (q + 4 > end) this.sampleFail('raw size', p, size);
      q += 4 + dv.getUint32(q, true);
    }
    if (l.branchStack) {
      if (q + 8 > end) this.sampleFail('branch stack', p, size);
      const nr = this.u64num(q);
      if (nr > (end - q) / 24) this.sampleFail('branch stack', p, size);
      q += 8 + (l.branchHwIndex ? 8 : 0) + nr * 24;
    }
    let regsAt = -1;
    if (l.regsUser) {
      if (q + 8 > end) this.sampleFail('user regs', p, size);
      const abi = this.u64num(q);
      if (abi) regsAt = q + 8;
      q += 8 + (abi ? l.regsUserCount * 8 : 0);
    }
    if (l.stackUser) {
      if (q + 8 > end) this.sampleFail('user stack', p, size);
      const sz = this.u64num(q);
      if (sz > end - q - 8 || (sz && q + 16 + sz > end)) this.sampleFail('user stack', p, size);
      // The kernel copies sz bytes and says after them how many it really read (dyn_size).
      const dyn = sz ? Math.min(sz, this.u64num(q + 8 + sz)) : 0;
      if (regsAt >= 0 && q + 8 + sz <= end) this.keepUserStack(i, l, regsAt, q + 8, dyn);
      q += 8 + sz + (sz ? 8 : 0);
    }
    if (l.weight) q += 8;
    if (l.dataSrc) q += 8;
    if (l.transaction) q += 8;
    if (l.regsIntr) {
      if (q + 8 > end) this.sampleFail('intr regs', p, size);
      const abi = this.u64num(q);
      q += 8 + (abi ? l.regsIntrCount * 8 : 0);
    }
    if (l.physAddr) q += 8;
    if (l.cgroup) q += 8;
    if (l.dataPageSize) q += 8;
    if (l.codePageSize) q += 8;
    if (l.aux) {
      if (q + 8 > end) this.sampleFail('aux', p, size);
      const sz = this.u64num(q);
      if (sz > end - q) this.sampleFail('aux', p, size);
      q += 8 + sz;
    }
    if (q > end) this.sampleFail('fields', p, size);
    return q;
  }

  private sampleFail(what: string, p: number, size: number): never {
    this.samples.count--;
    throw new FormatError(`sample ${what} runs past the record's ${size} bytes`, SEC_RECORDS, p);
  }

  /** Time from the sample_id_all trailer of a non-sample record, when the attr has one. */
  private trailerTime(p: number, size: number, bodyEnd: number): number | undefined {
    const l = this.layouts[this.attrFor(p, size, false)];
    if (!l || !l.sampleIdAll || l.trailerTimeAt < 0) return undefined;
    const t = p + size - l.trailerBytes;
    if (t < bodyEnd) return undefined;
    return this.u64num(t + l.trailerTimeAt);
  }

  private cstr(p: number, end: number): { s: string; end: number } {
    let e = p;
    const b = this.bytes;
    while (e < end && b[e] !== 0) e++;
    return { s: decodeUtf8(b, p, e), end: e + 1 };
  }

  private mmap(p: number, misc: number, size: number, v2: boolean): void {
    const fixed = v2 ? 72 : 40;
    this.need(p, size, fixed + 1);
    const dv = this.dv;
    const name = this.cstr(p + fixed, p + size);
    const m: PerfMmap = {
      pid: dv.getInt32(p + 8, true),
      tid: dv.getInt32(p + 12, true),
      start: dv.getBigUint64(p + 16, true),
      len: dv.getBigUint64(p + 24, true),
      pgoff: dv.getBigUint64(p + 32, true),
      filename: name.s,
      mmap2: v2,
      cpumode: misc & MISC_CPUMODE_MASK,
      isData: (misc & MISC_MMAP_DATA) !== 0,
    };
    if (v2) {
      if (misc & MISC_MMAP_BUILD_ID) {
        const n = Math.min(20, this.bytes[p + 40]!);
        m.buildId = hex(this.bytes, p + 44, n);
      } else {
        m.maj = dv.getUint32(p + 40, true);
        m.min = dv.getUint32(p + 44, true);
        m.ino = dv.getBigUint64(p + 48, true);
        m.inoGeneration = dv.getBigUint64(p + 56, true);
      }
      m.prot = dv.getUint32(p + 64, true);
      m.flags = dv.getUint32(p + 68, true);
    }
    const t = this.trailerTime(p, size, name.end);
    if (t !== undefined) m.time = t;
    this.mmaps.push(m);
  }

  private comm(p: number, misc: number, size: number): void {
    this.need(p, size, 17);
    const name = this.cstr(p + 16, p + size);
    const c: PerfComm = {
      pid: this.dv.getInt32(p + 8, true),
      tid: this.dv.getInt32(p + 12, true),
      comm: name.s,
      exec: (misc & MISC_COMM_EXEC) !== 0,
    };
    const t = this.trailerTime(p, size, name.end);
    if (t !== undefined) c.time = t;
    this.comms.push(c);
  }

  private task(p: number, size: number, kind: 'fork' | 'exit'): void {
    this.need(p, size, 32);
    const dv = this.dv;
    this.tasks.push({
      kind,
      pid: dv.getInt32(p + 8, true),
      ppid: dv.getInt32(p + 12, true),
      tid: dv.getInt32(p + 16, true),
      ptid: dv.getInt32(p + 20, true),
      time: this.u64num(p + 24),
    });
  }

  /** Pipe mode PERF_RECORD_HEADER_ATTR: perf_event_attr (its own size) then the ids. */
  private headerAttr(p: number, size: number): void {
    const r = new ByteReader(this.bytes, SEC_RECORDS).sub(p + 8, size - 8);
    const attr = parseAttr(r, size - 8);
    const ids: bigint[] = [];
    while (r.remaining >= 8) ids.push(r.u64());
    attr.ids = ids;
    this.addAttr(attr);
  }

  /** Pipe mode PERF_RECORD_HEADER_FEATURE: u64 feature id, then the feature's bytes as in a file. */
  private headerFeature(p: number, size: number): void {
    this.need(p, size, 16);
    const feat = this.u64num(p + 8);
    if (feat < 256 && !this.features.present.includes(feat)) this.features.present.push(feat);
    this.feature(feat, new ByteReader(this.bytes, SEC_RECORDS).sub(p + 16, size - 16));
  }

  /** One feature section. Unknown ones are ignored (their extent is known to the caller). */
  feature(feat: number, r: ByteReader): void {
    const f = this.features;
    switch (feat) {
      case HEADER_FEAT.BUILD_ID:
        while (r.remaining >= 8) {
          const at = r.pos;
          r.skip(6);
          const sz = r.u16();
          if (sz < 8) r.fail(`build id record of size ${sz}`, at);
          f.buildIds.push(this.buildIdEvent(r.sub(at, sz)));
          r.seek(at + sz);
        }
        break;
      case HEADER_FEAT.HOSTNAME:
        f.hostname = headerString(r);
        break;
      case HEADER_FEAT.OSRELEASE:
        f.osRelease = headerString(r);
        break;
      case HEADER_FEAT.VERSION:
        f.version = headerString(r);
        break;
      case HEADER_FEAT.ARCH:
        f.arch = headerString(r);
        break;
      case HEADER_FEAT.NRCPUS:
        f.nrCpusAvailable = r.u32();
        f.nrCpusOnline = r.u32();
        break;
      case HEADER_FEAT.CMDLINE: {
        const n = r.u32();
        if (n > r.remaining / 4) r.fail(`cmdline count ${n} too large`);
        const out: string[] = [];
        for (let k = 0; k < n; k++) out.push(headerString(r));
        f.cmdline = out;
        break;
      }
      case HEADER_FEAT.EVENT_DESC: {
        const n = r.u32();
        const attrSize = r.u32();
        if (attrSize < 8 || n > r.remaining / (attrSize + 8)) r.fail(`event desc count ${n} / attr size ${attrSize} do not fit`);
        const out: NonNullable<PerfFeatures['eventDescs']> = [];
        for (let k = 0; k < n; k++) {
          const ar = r.sub(r.pos, attrSize);
          const a = parseAttr(ar, attrSize);
          r.skip(attrSize);
          const nrIds = r.u32();
          const name = headerString(r);
          if (nrIds > r.remaining / 8) r.fail(`event desc with ${nrIds} ids does not fit`);
          const ids: bigint[] = [];
          for (let j = 0; j < nrIds; j++) ids.push(r.u64());
          out.push({ name, type: a.type, config: a.config, ids });
        }
        f.eventDescs = out;
        break;
      }
      default:
        break;
    }
  }

  /** struct build_id_event: header, pid, 24 bytes of build id (size byte at 20 when MISC_BUILD_ID_SIZE), file name. */
  buildIdEvent(r: ByteReader): PerfBuildId {
    r.skip(4);
    const misc = r.u16();
    r.skip(2);
    const pid = r.i32();
    const id = r.bytesN(24);
    const n = misc & MISC_BUILD_ID_SIZE ? Math.min(20, id[20]!) : 20;
    const nameBytes = r.bytesN(r.remaining);
    const z = nameBytes.indexOf(0);
    return {
      pid,
      buildId: hex(id, 0, n),
      filename: decodeUtf8(nameBytes, 0, z < 0 ? nameBytes.length : z),
      cpumode: misc & MISC_CPUMODE_MASK,
    };
  }

  private recordCountMap(): Map<number, number> {
    const m = new Map<number, number>();
    this.counts.forEach((n, t) => {
      if (n) m.set(t, n);
    });
    for (const [t, n] of this.otherCounts) m.set(t, n);
    return m;
  }

  result(pipeMode: boolean): PerfData {
    const samples = this.samples.finish();
    // Names: EVENT_DESC lists the events in attr order; fall back to what perf would derive.
    const descs = this.features.eventDescs;
    this.attrs.forEach((a, k) => {
      const byId = descs?.find((d) => d.ids.length > 0 && a.ids.length > 0 && d.ids.some((id) => a.ids.includes(id)));
      const desc = byId ?? (descs && descs.length === this.attrs.length ? descs[k] : undefined);
      a.name = desc?.name ?? eventName(a);
      if (a.ids.length === 0 && desc) a.ids = desc.ids.slice();
    });
    let first: number | undefined, last: number | undefined;
    for (let i = 0; i < samples.count; i++) {
      const t = samples.time[i]!;
      if (Number.isNaN(t)) continue;
      if (first === undefined || t < first) first = t;
      if (last === undefined || t > last) last = t;
    }
    this.features.present.sort((a, b) => a - b);
    const d: PerfData = {
      pipeMode,
      attrs: this.attrs,
      samples,
      mmaps: this.mmaps,
      comms: this.comms,
      tasks: this.tasks,
      // The kernel's LOST records (ring buffer overflows) and the LOST_SAMPLES records perf adds
      // at the end from each event's own lost count tell of the same losses: the larger sum.
      lostSamples: Math.max(this.lostInRecords, this.lostInLostSamples),
      lostRecords: this.lostRecords,
      throttles: this.throttles,
      unthrottles: this.unthrottles,
      recordCounts: this.recordCountMap(),
      features: this.features,
    };
    if (first !== undefined) d.firstSampleTimeNs = first;
    if (last !== undefined) d.lastSampleTimeNs = last;
    if (this.truncated) d.truncated = this.truncated;
    if (this.userStacks) d.userStacks = this.userStacks;
    return d;
  }
}

function hex(b: Uint8Array, at: number, n: number): string {
  let s = '';
  for (let k = 0; k < n; k++) s += b[at + k]!.toString(16).padStart(2, '0');
  return s;
}

/** struct perf_header_string: u32 len (including NUL padding), then the bytes. */
function headerString(r: ByteReader): string {
  const len = r.u32();
  const b = r.bytesN(len);
  const z = b.indexOf(0);
  return decodeUtf8(b, 0, z < 0 ? b.length : z);
}

/**
 * Decodes a whole perf.data (file or pipe mode). Throws FormatError for a file that is not
 * perf.data or is broken in its header/attrs/records; a file cut short inside the data
 * section (perf killed) is not an error: whole records are kept and `truncated` says where.
 */
export function parsePerfData(bytes: Uint8Array): PerfData {
  return parseFile(bytes, undefined);
}

/** Reads `len` bytes of the file at `pos` into `buf` at `at`; returns how many it read (0 at its end). */
export type FileReader = (pos: number, buf: Uint8Array, at: number, len: number) => number;

/** Thrown by parseFile when a section other than the data overlaps the data section (read whole then). */
const OVERLAP = new Error('a perf.data section overlaps the data section');

/**
 * parsePerfData of a file of `size` bytes read through `read`: the header, attrs and feature
 * sections first, then the data section in pieces through one buffer of `pieceBytes`. The same
 * result and the same errors as parsePerfData of the whole file, without the whole file in
 * memory: fresh memory for a 20 MB file costs ~10 ms to page in here, more than reading it.
 */
export function parsePerfDataFile(size: number, read: FileReader, pieceBytes = 1 << 20): PerfData {
  const readRange = (bytes: Uint8Array, from: number, to: number): void => {
    for (let pos = from; pos < to;) {
      const n = read(pos, bytes, pos, to - pos);
      if (!(n > 0))
        throw new FormatError(
          `the file ended at 0x${pos.toString(16)} of the ${size} bytes it had (did it change meanwhile?)`,
          SEC_HEADER,
          pos,
        );
      pos += n;
    }
  };
  // Only the parts outside the data section are read into `bytes`; its data region stays
  // zero pages, never touched (parseFile reads the data through `read`).
  const bytes = new Uint8Array(size);
  readRange(bytes, 0, Math.min(size, FILE_HEADER_SIZE));
  const dv = new DataView(bytes.buffer);
  const fileMode =
    size >= FILE_HEADER_SIZE &&
    decodeUtf8(bytes, 0, 8) === MAGIC &&
    dv.getUint32(12, true) === 0 &&
    dv.getUint32(8, true) === FILE_HEADER_SIZE;
  const dataOff = fileMode ? dv.getUint32(40, true) + dv.getUint32(44, true) * TWO32 : 0;
  const dataSize = fileMode ? dv.getUint32(48, true) + dv.getUint32(52, true) * TWO32 : 0;
  if (fileMode && dataOff >= FILE_HEADER_SIZE && dataOff <= size) {
    // perf writes 0 as the data size when it was killed: then the data runs to the end.
    const dataEnd = dataSize === 0 ? size : Math.min(size, dataOff + dataSize);
    readRange(bytes, FILE_HEADER_SIZE, dataOff);
    readRange(bytes, dataEnd, size);
    try {
      return parseFile(bytes, { read, pieceBytes });
    } catch (e) {
      if (e !== OVERLAP) throw e;
      readRange(bytes, dataOff, dataEnd);
    }
  } else readRange(bytes, Math.min(size, FILE_HEADER_SIZE), size);
  return parsePerfData(bytes);
}

/** parsePerfData; with `pieces`, `bytes` holds all but the data section, which is read through pieces.read. */
function parseFile(bytes: Uint8Array, pieces: { read: FileReader; pieceBytes: number } | undefined): PerfData {
  const h = new ByteReader(bytes, SEC_HEADER);
  if (bytes.length < 16) h.fail(`file of ${bytes.length} bytes is too short for a perf.data header`, 0);
  const magic = decodeUtf8(bytes, 0, 8);
  if (magic !== MAGIC) {
    if (magic === '2ELIFREP') h.fail('big-endian perf.data is not supported', 0);
    if (magic === 'PERFFILE') h.fail('perf.data version 1 (PERFFILE) is too old; re-record with a newer perf', 0);
    h.fail('not a perf.data file (no PERFILE2 magic)', 0);
  }
  h.seek(8);
  const headerSize = h.u64n();
  if (headerSize === PIPE_HEADER_SIZE) return parsePipe(bytes);
  if (headerSize !== FILE_HEADER_SIZE)
    h.fail(`header size ${headerSize} is neither ${FILE_HEADER_SIZE} (file) nor ${PIPE_HEADER_SIZE} (pipe)`, 8);
  if (bytes.length < FILE_HEADER_SIZE) h.fail(`file of ${bytes.length} bytes is too short for the ${FILE_HEADER_SIZE}-byte header`, 0);

  const attrSize = h.u64n();
  const attrsOff = h.u64n(),
    attrsSize = h.u64n();
  const dataOff = h.u64n(),
    dataSizeDeclared = h.u64n();
  h.skip(16); // event_types: unused since perf 3.x
  const featBits: number[] = [];
  for (let w = 0; w < 4; w++) {
    const lo = h.u32(),
      hi = h.u32();
    for (let b = 0; b < 32; b++) {
      if (lo & (1 << b)) featBits.push(w * 64 + b);
      if (hi & (1 << b)) featBits.push(w * 64 + 32 + b);
    }
  }
  featBits.sort((a, b) => a - b);

  if (attrSize < 16 + 64 || attrSize > 4096) h.fail(`attr entry size ${attrSize} is implausible`, 16);
  if (attrsSize % attrSize !== 0) h.fail(`attrs section size ${attrsSize} is not a multiple of the attr entry size ${attrSize}`, 32);
  if (attrsOff + attrsSize > bytes.length)
    h.fail(`attrs section 0x${attrsOff.toString(16)}+0x${attrsSize.toString(16)} is past the end of the file (${bytes.length} bytes)`, 24);
  if (dataOff < FILE_HEADER_SIZE || dataOff > bytes.length)
    h.fail(`data section offset 0x${dataOff.toString(16)} is outside the file (${bytes.length} bytes)`, 40);

  const dataEndDeclared = dataOff + dataSizeDeclared;
  let dataEnd = dataEndDeclared;
  let truncatedReason: string | undefined;
  if (dataSizeDeclared === 0 && bytes.length > dataOff) {
    // perf writes the final sizes only when it exits cleanly: a killed perf leaves 0 here.
    dataEnd = bytes.length;
    truncatedReason =
      'the header has no data size (perf did not finish writing the file, e.g. it was killed); read records up to the end of the file';
  } else if (dataEndDeclared > bytes.length) {
    dataEnd = bytes.length;
    truncatedReason = `the data section ends at 0x${dataEndDeclared.toString(16)} but the file has only ${bytes.length} bytes`;
  }
  const p = new Parser(bytes, dataEnd - dataOff);
  // Reading in pieces, `bytes` has zeros where the data section is: a section there (a
  // broken or odd file) means reading the whole file instead.
  const outsideData = (off: number, size: number): void => {
    if (pieces && size > 0 && off < dataEnd && off + size > dataOff) throw OVERLAP;
  };
  outsideData(attrsOff, attrsSize);

  const ar = new ByteReader(bytes, SEC_ATTRS);
  for (let off = attrsOff; off < attrsOff + attrsSize; off += attrSize) {
    const r = ar.sub(off, attrSize);
    const attr = parseAttr(r.sub(0, attrSize - 16), attrSize - 16);
    r.seek(attrSize - 16);
    const idsOff = r.u64n(),
      idsSize = r.u64n();
    if (idsSize % 8 !== 0 || idsOff + idsSize > bytes.length)
      r.fail(`ids 0x${idsOff.toString(16)}+0x${idsSize.toString(16)} outside the file`, attrSize - 16);
    outsideData(idsOff, idsSize);
    const ir = ar.sub(idsOff, idsSize);
    const ids: bigint[] = [];
    while (!ir.eof) ids.push(ir.u64());
    attr.ids = ids;
    p.addAttr(attr);
  }
  if (p.attrs.length === 0) h.fail('no event attrs', 24);

  // Feature sections: a table of (offset, size) right after the data, one per set bit.
  if (!truncatedReason) {
    const fr = new ByteReader(bytes, SEC_FEATURES);
    const tableEnd = dataEndDeclared + featBits.length * 16;
    if (tableEnd > bytes.length) {
      truncatedReason = `the feature table at 0x${dataEndDeclared.toString(16)} is past the end of the file (${bytes.length} bytes); features not read`;
    } else {
      outsideData(dataEndDeclared, featBits.length * 16);
      fr.seek(dataEndDeclared);
      for (const bit of featBits) {
        const off = fr.u64n(),
          size = fr.u64n();
        p.features.present.push(bit);
        if (off + size > bytes.length) {
          truncatedReason = `feature ${bit} at 0x${off.toString(16)}+0x${size.toString(16)} is past the end of the file (${bytes.length} bytes)`;
          break;
        }
        outsideData(off, size);
        p.feature(bit, fr.sub(off, size, `${SEC_FEATURES} (feature ${bit})`));
      }
    }
  }

  const cutMeansTruncated = truncatedReason !== undefined && dataEnd === bytes.length;
  if (pieces) p.recordsRead(pieces.read, dataOff, dataEnd, cutMeansTruncated, pieces.pieceBytes);
  else p.records(dataOff, dataEnd, cutMeansTruncated, false);
  if (truncatedReason && !p.truncated) p.truncated = { offset: Math.min(dataEnd, bytes.length), reason: truncatedReason };
  else if (truncatedReason && p.truncated) p.truncated.reason = `${truncatedReason}; ${p.truncated.reason}`;
  return p.result(false);
}

/** Pipe mode: a 16-byte header, then records to the end; attrs and features come as records. */
function parsePipe(bytes: Uint8Array): PerfData {
  const p = new Parser(bytes, bytes.length - PIPE_HEADER_SIZE);
  p.records(PIPE_HEADER_SIZE, bytes.length, true, true);
  if (p.attrs.length === 0) {
    if (p.truncated)
      throw new FormatError(
        `pipe-mode perf.data ends before its first event attr (${p.truncated.reason})`,
        SEC_RECORDS,
        p.truncated.offset,
      );
    throw new FormatError('pipe-mode perf.data has no event attr record', SEC_RECORDS, PIPE_HEADER_SIZE);
  }
  return p.result(true);
}

/**
 * A pipe-mode perf.data (`perf record -o -`) read as it arrives: push() parses every whole
 * record of what has come so far (keeping a partial last record for the next piece), so at the
 * end of a recording only its last piece is left to read. snapshot() is the data so far.
 * A FormatError names its offset in the whole stream; after one, the stream is unusable.
 */
export class PerfDataStream {
  private parser: Parser | undefined;
  private head = new Uint8Array(0);
  /** Stream offset of head[0]. */
  private base = 0;
  private failed: Error | undefined;
  private ended = false;

  /** Bytes pushed so far. */
  get bytesSeen(): number {
    return this.base + this.head.length;
  }

  /** Samples parsed so far. */
  get sampleCount(): number {
    return this.parser?.samples.count ?? 0;
  }

  push(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    if (this.ended) throw new Error('PerfDataStream: push after end');
    if (chunk.length === 0) return;
    // A fresh buffer (offset 0, so 4-byte aligned: records are 8-byte multiples from the start).
    const bytes = new Uint8Array(this.head.length + chunk.length);
    bytes.set(this.head, 0);
    bytes.set(chunk, this.head.length);
    let at = 0;
    try {
      if (!this.parser) {
        if (bytes.length < PIPE_HEADER_SIZE) {
          this.head = bytes;
          return;
        }
        this.checkHeader(bytes);
        this.parser = new Parser(bytes, 1 << 20);
        at = PIPE_HEADER_SIZE;
      }
      const p = this.parser;
      p.bind(bytes);
      const stop = p.records(at, bytes.length, true, true);
      // A record cut by the piece's end is not truncation here: it completes with the next one.
      p.truncated = undefined;
      this.head = bytes.slice(stop);
      this.base += stop;
    } catch (e) {
      this.failed = e instanceof FormatError ? new FormatError(e.detail, e.section, e.offset + this.base) : (e as Error);
      throw this.failed;
    }
  }

  /** What has been parsed so far (a partial last record is left out). */
  snapshot(): PerfData {
    if (this.failed) throw this.failed;
    const p = this.parser;
    if (!p || p.attrs.length === 0) throw new FormatError('pipe-mode perf.data has no event attr record yet', SEC_RECORDS, this.bytesSeen);
    return p.result(true);
  }

  /** The whole stream: bytes left over after the last whole record make it `truncated`, as a cut file. */
  end(): PerfData {
    if (this.failed) throw this.failed;
    this.ended = true;
    if (!this.parser) {
      if (this.head.length > 0) this.checkHeader(this.head);
      throw new FormatError(`perf.data stream of ${this.head.length} bytes is too short for a pipe header`, SEC_HEADER, 0);
    }
    const d = this.snapshot();
    if (this.head.length > 0) {
      const what = this.head.length < 8 ? 'record header' : `record of type ${new DataView(this.head.buffer).getUint32(0, true)}`;
      d.truncated = {
        offset: this.base,
        reason: `stream cut short: ${what} at 0x${this.base.toString(16)} runs past the end of the data; ${this.head.length} byte(s) of a partial record dropped`,
      };
    }
    return d;
  }

  private checkHeader(bytes: Uint8Array): void {
    const h = new ByteReader(bytes, SEC_HEADER);
    const magic = decodeUtf8(bytes, 0, Math.min(8, bytes.length));
    if (magic !== MAGIC) h.fail('not a perf.data stream (no PERFILE2 magic)', 0);
    if (bytes.length >= 16) {
      h.seek(8);
      const size = h.u64n();
      if (size !== PIPE_HEADER_SIZE) h.fail(`header size ${size}: not a pipe-mode stream (perf record -o -)`, 8);
    }
  }
}
