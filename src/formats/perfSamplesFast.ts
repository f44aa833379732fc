/**
 * The perf.data parser's fast path: runs of SAMPLE records of one plain layout (fixed fields,
 * then a callchain, nothing after; one event, or several told apart by the sample's id) read by
 * a small WebAssembly loop (perfSamples.wat). It runs at full speed from the first record, where
 * the same loop in JavaScript spends its first thousands of samples in V8's interpreter: a cold
 * parse of 160,000 samples (20 MB) took ~90 ms in JavaScript, ~40 ms with it.
 *
 * The JavaScript parser stays the reference and does everything else: the loop stops at any
 * record it does not fully know (another type, a field running past its record, a value beyond
 * 2^53, the end of the data) and the parser reads that record itself, so results and errors
 * are the parser's. GO_PERF_LENS_NO_WASM=1 (or setFastSampleLoop(false)) turns it off.
 */
import { instantiate, WasmRegions, wasmModule, type WasmGlobal, type WasmMemory, type WasmModule } from '../util/wasm';
import { PERF_SAMPLES_WASM } from './perfSamplesWasm';

/** Where the leading fields of a sample sit (-1: absent), as the parser's Layout has them. */
export interface PlainLayout {
  ipAt: number;
  tidAt: number;
  timeAt: number;
  cpuAt: number;
  periodAt: number;
  fixedEnd: number;
  /** The period of a sample without PERIOD. */
  fixedPeriod: number;
}

/**
 * Several events of that layout: where a sample's id sits (byte offset in the record), and the
 * event index of each id (an id not there is event 0, as the parser has it).
 */
export interface SampleIds {
  idAt: number;
  attrOf: ReadonlyMap<number, number>;
}

/** One call's samples, as the parser's columns hold them; views into the module's memory, valid until the next call. */
export interface StagedSamples {
  count: number;
  pid: Int32Array;
  tid: Int32Array;
  time: Float64Array;
  ip: Float64Array;
  period: Float64Array;
  cpu: Int32Array;
  cpumode: Uint8Array;
  attrIndex: Uint16Array;
  chainOffset: Uint32Array;
  chainLength: Uint32Array;
  /** Callchains first seen in this call: they go to the chain store at the chainUsed the call began with. */
  newChains: Float64Array;
}

/** What the loop adds samples to (the parser's sample columns). */
export interface SampleSink {
  /** Entries in the chain store: where the next new chain goes. */
  readonly chainUsed: number;
  take(staged: StagedSamples): void;
}

let enabled = true;
/** Samples the loop has read in this process (tests check that it ran). */
let samplesRead = 0;

/** Turns the WebAssembly loop on or off for parses started from now on (tests run both ways). */
export function setFastSampleLoop(on: boolean): void {
  enabled = on;
}

/** How many samples the WebAssembly loop has read in this process. */
export function fastLoopSamples(): number {
  return samplesRead;
}

/** A loop for samples of this layout (and these ids), or undefined when WebAssembly is off or unavailable. */
export function fastSampleLoop(layout: PlainLayout, ids?: SampleIds): FastSampleLoop | undefined {
  const mod = enabled ? wasmModule(PERF_SAMPLES_WASM) : undefined;
  return mod ? new FastSampleLoop(mod, layout, ids) : undefined;
}

interface Exports {
  memory: WasmMemory;
  run(p: number, end: number): number;
}

/** Input window: records are at most 64 KiB, so any record fits in a window that starts at it. */
const WINDOW = 1 << 20;
/** Samples staged per call, and new chain entries per call (≥ the longest chain a record can hold). */
const BATCH = 8192;
const NEW_CAP = 1 << 16;
const MAX_CHAIN = 8191;

export class FastSampleLoop {
  private readonly x: Exports;
  private readonly g: Record<string, WasmGlobal>;
  private readonly mem: WasmRegions;
  /** The bytes the input window holds: bytes[winStart, winStart + winLen) of winOf. */
  private winOf: Uint8Array | undefined;
  private winStart = 0;
  private winLen = 0;
  /** Set when the module's memory could not grow: the JavaScript parser reads the rest. */
  private spent = false;

  constructor(mod: WasmModule, layout: PlainLayout, ids?: SampleIds) {
    this.x = instantiate<Exports>(mod);
    this.g = this.x as unknown as Record<string, WasmGlobal>;
    const set = (name: string, v: number): void => {
      this.g[name]!.value = v;
    };
    set('ipAt', layout.ipAt);
    set('tidAt', layout.tidAt);
    set('timeAt', layout.timeAt);
    set('cpuAt', layout.cpuAt);
    set('periodAt', layout.periodAt);
    set('fixedEnd', layout.fixedEnd);
    set('fixedPeriod', layout.fixedPeriod);
    // [window][staging columns][new chains][hash table][raw chains]; the last two move to the
    // top when they grow.
    this.mem = new WasmRegions(this.x.memory, 0);
    this.mem.alloc(WINDOW); // at 0: run() takes offsets in the window
    const region = (name: string, bytes: number): void => set(name, this.mem.alloc(bytes));
    set('batch', BATCH);
    region('oIp', BATCH * 8);
    region('oTime', BATCH * 8);
    region('oPeriod', BATCH * 8);
    region('oPid', BATCH * 4);
    region('oTid', BATCH * 4);
    region('oCpu', BATCH * 4);
    region('oChainOff', BATCH * 4);
    region('oChainLen', BATCH * 4);
    region('oAttr', BATCH * 2);
    region('oMode', BATCH);
    region('oNew', NEW_CAP * 8);
    set('newCap', NEW_CAP);
    if (ids) this.idTable(ids);
    this.newHash(4096);
    this.newRaw(1 << 16);
  }

  /** The id → event table (open addressing by the id's low bits, at most half full). */
  private idTable(ids: SampleIds): void {
    let slots = 16;
    while (slots < ids.attrOf.size * 2) slots *= 2;
    const at = this.mem.alloc(slots * 16);
    const buf = this.x.memory.buffer;
    const t = new Int32Array(buf, at, slots * 4);
    const v = new DataView(buf, at, slots * 16);
    const mask = slots - 1;
    for (const [id, attr] of ids.attrOf) {
      // Ids are small kernel counters; one beyond 2^53 (never seen) cannot be written exactly: not in the table.
      if (!Number.isSafeInteger(id) || id < 0) continue;
      let slot = (id % 0x100000000) & mask;
      while (t[slot * 4 + 2] !== 0) slot = (slot + 1) & mask;
      v.setBigUint64(slot * 16, BigInt(id), true);
      t[slot * 4 + 2] = attr + 1;
    }
    this.g.oIds!.value = at;
    this.g.idMask!.value = mask;
    this.g.idAt!.value = ids.idAt;
  }

  /** Forgets the window (the parser's bytes are about to change: a new piece). */
  invalidate(): void {
    this.winOf = undefined;
  }

  /**
   * Reads samples from bytes[p, end) into `sink` until a record the JavaScript parser must read,
   * or the end; returns where it stopped (end, or that record's offset).
   */
  run(bytes: Uint8Array, p: number, end: number, sink: SampleSink): number {
    const g = this.g;
    while (p < end && !this.spent) {
      if (this.winOf !== bytes || p < this.winStart || p >= this.winStart + this.winLen || this.winStart + this.winLen > end) {
        const n = Math.min(end - p, WINDOW);
        new Uint8Array(this.x.memory.buffer, 0, n).set(bytes.subarray(p, p + n));
        this.winOf = bytes;
        this.winStart = p;
        this.winLen = n;
      }
      const winEnd = this.winStart + this.winLen;
      let at = p - this.winStart;
      let why: number;
      for (;;) {
        g.chainUsed!.value = sink.chainUsed;
        at = this.x.run(at, this.winLen);
        why = g.stop!.value;
        if (g.count!.value !== 0 || g.nNew!.value !== 0) {
          samplesRead += g.count!.value;
          sink.take(this.staged());
        }
        if (why !== 2) break;
        try {
          this.makeRoom();
        } catch {
          // No more memory for the module (RangeError from grow): not an error of the file.
          this.spent = true;
          return this.winStart + at;
        }
      }
      p = this.winStart + at;
      // A record for the parser, or the end of the data (a partial record there is the parser's too).
      if (why === 1 || winEnd === end) return p;
      // Else a record runs past the window's end: the next window starts at it.
      this.winOf = undefined;
    }
    return p;
  }

  private staged(): StagedSamples {
    const g = this.g,
      buf = this.x.memory.buffer;
    const n = g.count!.value;
    const i32 = (name: string): Int32Array => new Int32Array(buf, g[name]!.value, n);
    const f64 = (name: string): Float64Array => new Float64Array(buf, g[name]!.value, n);
    const u32 = (name: string): Uint32Array => new Uint32Array(buf, g[name]!.value, n);
    return {
      count: n,
      pid: i32('oPid'),
      tid: i32('oTid'),
      time: f64('oTime'),
      ip: f64('oIp'),
      period: f64('oPeriod'),
      cpu: i32('oCpu'),
      cpumode: new Uint8Array(buf, g.oMode!.value, n),
      attrIndex: new Uint16Array(buf, g.oAttr!.value, n),
      chainOffset: u32('oChainOff'),
      chainLength: u32('oChainLen'),
      newChains: new Float64Array(buf, g.oNew!.value, g.nNew!.value),
    };
  }

  /** After a stop for room: a larger hash table or raw chain store when one is (nearly) full. */
  private makeRoom(): void {
    const g = this.g;
    const mask = g.hashMask!.value;
    if ((g.hashCount!.value + 1) * 2 > mask) this.newHash((mask + 1) * 2);
    if (g.rawUsed!.value + MAX_CHAIN > g.rawCap!.value) this.newRaw(g.rawCap!.value * 2);
  }

  /** A hash table of `slots` (a power of two) at the top, holding the entries of the old one (slot: at, hash, length, offset). */
  private newHash(slots: number): void {
    const g = this.g;
    g.oHash!.value = this.mem.rehash(g.oHash!.value, g.hashMask!.value + 1, slots, 4, 1);
    g.hashMask!.value = slots - 1;
  }

  /** A raw chain store of `words` at the top, holding the old one's chains (the table indexes them). */
  private newRaw(words: number): void {
    const g = this.g;
    const oldAt = g.oRaw!.value,
      used = g.rawUsed!.value;
    const at = this.mem.alloc(words * 8);
    if (used > 0) new Uint8Array(this.x.memory.buffer).copyWithin(at, oldAt, oldAt + used * 8);
    g.oRaw!.value = at;
    g.rawCap!.value = words;
  }
}
