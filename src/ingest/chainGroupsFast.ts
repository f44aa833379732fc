/**
 * ChainGroups' per-sample loop in WebAssembly (chainGroups.wat): the samples' columns are
 * copied in a batch at a time and grouped there; the groups an update touched come back with
 * their new sums. Same group ids, in the same order, as the JavaScript loop, which stays the
 * reference (tests run both) and the fallback (GO_PERF_LENS_NO_WASM=1, setFastGrouping(false)).
 */
import type { PerfSamples } from '../formats/perfData';
import { instantiate, WasmRegions, wasmModule, type WasmGlobal, type WasmMemory, type WasmModule } from '../util/wasm';
import { CHAIN_GROUPS_WASM } from './chainGroupsWasm';

let enabled = true;

/** Turns the WebAssembly loop on or off for ChainGroups made from now on (tests run both ways). */
export function setFastGrouping(on: boolean): void {
  enabled = on;
}

/** A WebAssembly grouping loop, or undefined when WebAssembly is off or unavailable. */
export function fastGrouping(): FastGrouping | undefined {
  const mod = enabled ? wasmModule(CHAIN_GROUPS_WASM) : undefined;
  return mod ? new FastGrouping(mod) : undefined;
}

/** The groups' arrays: views of the module's memory, valid until the next update. */
export interface GroupArrays {
  rep: Int32Array;
  count: Float64Array;
  periodSum: Float64Array;
  tMin: Float64Array;
  tMax: Float64Array;
}

interface Exports {
  memory: WasmMemory;
  run(from: number, n: number, base: number): number;
}

/** Samples copied in and grouped per call. */
const BATCH = 1 << 16;

export class FastGrouping {
  private readonly x: Exports;
  private readonly g: Record<string, WasmGlobal>;
  private readonly mem: WasmRegions;
  private calls = 0;

  constructor(mod: WasmModule) {
    this.x = instantiate<Exports>(mod);
    this.g = this.x as unknown as Record<string, WasmGlobal>;
    this.mem = new WasmRegions(this.x.memory, 0);
    const region = (name: string, bytes: number): void => {
      this.g[name]!.value = this.mem.alloc(bytes);
    };
    region('iIp', BATCH * 8);
    region('iPeriod', BATCH * 8);
    region('iTime', BATCH * 8);
    region('iOff', BATCH * 4);
    region('iLen', BATCH * 4);
    region('iPid', BATCH * 4);
    region('iAttr', BATCH * 2);
    region('iMode', BATCH);
    region('oTouched', BATCH * 4);
    // Room for most recordings' groups (a 30 s one of a busy service has ~18,000); beyond, they grow.
    this.newGroups(1 << 15);
    this.newHash(1 << 16);
  }

  /** Groups samples [from, to) of s (the same recording each time); returns the groups they touched, in the order they first did. */
  update(s: PerfSamples, from: number, to: number): number[] {
    const g = this.g;
    g.call!.value = ++this.calls;
    const touched: number[] = [];
    for (let b = from; b < to; b += BATCH) {
      const n = Math.min(BATCH, to - b);
      const buf = this.x.memory.buffer;
      const put = <T extends { set(a: ArrayLike<number>): void }>(
        make: new (b: ArrayBuffer, at: number, n: number) => T,
        name: string,
        col: { subarray(a: number, b: number): ArrayLike<number> },
      ): void => {
        new make(buf, g[name]!.value, n).set(col.subarray(b, b + n));
      };
      put(Float64Array, 'iIp', s.ip);
      put(Float64Array, 'iPeriod', s.period);
      put(Float64Array, 'iTime', s.time);
      put(Uint32Array, 'iOff', s.chainOffset);
      put(Uint32Array, 'iLen', s.chainLength);
      put(Int32Array, 'iPid', s.pid);
      put(Uint16Array, 'iAttr', s.attrIndex);
      put(Uint8Array, 'iMode', s.cpumode);
      for (let i = 0; ;) {
        g.touched!.value = 0;
        i = this.x.run(i, n, b);
        const t = new Int32Array(this.x.memory.buffer, g.oTouched!.value, g.touched!.value);
        for (let k = 0; k < t.length; k++) touched.push(t[k]!);
        if (i >= n) break;
        this.makeRoom();
      }
    }
    return touched;
  }

  /** The groups' arrays so far (views: valid until the next update). */
  arrays(): GroupArrays {
    const g = this.g,
      buf = this.x.memory.buffer,
      groups = g.groups!.value;
    const f64 = (name: string): Float64Array => new Float64Array(buf, g[name]!.value, groups);
    return {
      rep: new Int32Array(buf, g.gRep!.value, groups),
      count: f64('gCount'),
      periodSum: f64('gPeriod'),
      tMin: f64('gTMin'),
      tMax: f64('gTMax'),
    };
  }

  /** After a stop for room: more groups, or a larger key table. */
  private makeRoom(): void {
    const g = this.g;
    if (g.groups!.value >= g.groupCap!.value) this.newGroups(g.groupCap!.value * 2);
    if ((g.groups!.value + 1) * 2 > g.hashMask!.value) this.newHash((g.hashMask!.value + 1) * 2);
  }

  /** Group arrays for `cap` groups at the top, holding the old ones' groups. */
  private newGroups(cap: number): void {
    const g = this.g,
      used = g.groups!.value;
    for (const [name, size] of [
      ['gRep', 4],
      ['gStamp', 4],
      ['gCount', 8],
      ['gPeriod', 8],
      ['gTMin', 8],
      ['gTMax', 8],
    ] as const) {
      const at = this.mem.alloc(cap * size);
      const old = g[name]!.value;
      if (used > 0) new Uint8Array(this.x.memory.buffer).copyWithin(at, old, old + used * size);
      g[name]!.value = at;
    }
    g.groupCap!.value = cap;
  }

  /** A key table of `slots` (a power of two) at the top, holding the old one's keys (by the hash each slot keeps, word 6). */
  private newHash(slots: number): void {
    const g = this.g;
    g.oHash!.value = this.mem.rehash(g.oHash!.value, g.hashMask!.value + 1, slots, 8, 6);
    g.hashMask!.value = slots - 1;
  }
}
