/**
 * Samples grouped by identical raw callchain (and pid, cpu mode, event): the only per-sample
 * work of a perf ingest. The parser stores each distinct callchain once and points every sample
 * that repeats it at the same copy, so a group is found by chainOffset alone. Groups are kept
 * up to date incrementally (update() reads only the samples added since the last call), so a
 * recording streamed in can be grouped while it is still being recorded. The per-sample loop
 * runs in WebAssembly where it can (chainGroupsFast.ts); the JavaScript loop here is its
 * reference and fallback.
 */
import type { PerfData } from '../formats/perfData';
import { fastGrouping, type FastGrouping } from './chainGroupsFast';

/** Totals over the groups of one event (and pid). */
export interface GroupTotals {
  total: number;
  periodSum: number;
  tMin: number;
  tMax: number;
}

export class ChainGroups {
  /**
   * Per group: representative sample, sample count, period sum, time range (the JavaScript
   * loop's arrays, or views of the WebAssembly loop's, renewed by each update).
   */
  private rep: ArrayLike<number> = [];
  private count: ArrayLike<number> = [];
  private periodSum: ArrayLike<number> = [];
  private tMin: ArrayLike<number> = [];
  private tMax: ArrayLike<number> = [];
  /** The next group with the same key (another pid, mode or event on the same chain), or -1. */
  private readonly next: number[] = [];
  /** First group + 1 per chainOffset (0: none yet), for samples with a callchain; by ip for those without. */
  private byChain = new Int32Array(1024);
  private readonly byIp = new Map<number, number>();
  /** Groups whose count changed since takeChanged(), each once (changedIn: the round it was listed in). */
  private changed: number[] = [];
  private readonly changedIn: number[] = [];
  private round = 0;
  /** Samples already grouped. */
  private seen = 0;
  private source: PerfData | undefined;
  /** The WebAssembly loop (chosen at the first update, then kept; null: the JavaScript loop). */
  private fast: FastGrouping | null | undefined;

  /** Groups the samples of `d` not grouped yet. `d` is the same recording each time, grown (a stream's snapshot). */
  update(d: PerfData): this {
    if (this.source !== undefined && this.source.attrs !== d.attrs) throw new Error('ChainGroups.update: samples of another recording');
    this.source = d;
    const s = d.samples;
    this.fast ??= fastGrouping() ?? null;
    if (this.fast) {
      // Cold, the JavaScript loop below spends its first tens of thousands of samples interpreted
      // (160k samples of one recording: ~17 ms, against ~11 ms here).
      for (const g of this.fast.update(s, this.seen, s.count)) {
        if (this.changedIn[g] !== this.round) {
          this.changedIn[g] = this.round;
          this.changed.push(g);
        }
      }
      ({ rep: this.rep, count: this.count, periodSum: this.periodSum, tMin: this.tMin, tMax: this.tMax } = this.fast.arrays());
      this.seen = s.count;
      return this;
    }
    const { pid, cpumode, attrIndex, chainOffset, chainLength, ip, period, time } = s;
    const rep = this.rep as number[],
      count = this.count as number[],
      periodSum = this.periodSum as number[];
    const tMin = this.tMin as number[],
      tMax = this.tMax as number[];
    for (let i = this.seen; i < s.count; i++) {
      const n = chainLength[i]!;
      const o = chainOffset[i]!;
      if (n !== 0 && o >= this.byChain.length) this.growTo(o);
      const first = n === 0 ? (this.byIp.get(ip[i]!) ?? -1) : this.byChain[o]! - 1;
      let g = first;
      while (g >= 0) {
        const r = rep[g]!;
        if (pid[r] === pid[i] && cpumode[r] === cpumode[i] && attrIndex[r] === attrIndex[i] && chainLength[r] === n) break;
        g = this.next[g]!;
      }
      const t = time[i]!;
      if (g < 0) {
        g = rep.length;
        rep.push(i);
        count.push(0);
        periodSum.push(0);
        tMin.push(Infinity);
        tMax.push(-Infinity);
        this.next.push(first);
        if (n === 0) this.byIp.set(ip[i]!, g);
        else this.byChain[o] = g + 1;
      }
      if (this.changedIn[g] !== this.round) {
        this.changedIn[g] = this.round;
        this.changed.push(g);
      }
      count[g]!++;
      periodSum[g]! += period[i]!;
      if (t < tMin[g]!) tMin[g] = t;
      if (t > tMax[g]!) tMax[g] = t;
    }
    this.seen = s.count;
    return this;
  }

  private growTo(o: number): void {
    let n = this.byChain.length * 2;
    while (n <= o) n *= 2;
    const b = new Int32Array(n);
    b.set(this.byChain);
    this.byChain = b;
  }

  /** Sample counts per event (attr index) over every group. */
  samplesPerAttr(attrCount: number): number[] {
    const d = this.source;
    const per = new Array<number>(Math.max(1, attrCount)).fill(0);
    if (!d) return per;
    for (let g = 0; g < this.rep.length; g++) per[d.samples.attrIndex[this.rep[g]!]!]! += this.count[g]!;
    return per;
  }

  /** Groups made so far; ids are 0 .. size-1, stable across updates. */
  get size(): number {
    return this.rep.length;
  }

  /** The groups whose sample count changed since the last call (each once), in the order they changed. */
  takeChanged(): number[] {
    const c = this.changed;
    this.changed = [];
    this.round++;
    return c;
  }

  /** Group g's samples so far. */
  countOf(g: number): number {
    return this.count[g]!;
  }

  /** A sample of group g: every sample of a group has its pid, cpu mode, event and callchain. */
  sampleOf(g: number): number {
    return this.rep[g]!;
  }

  /** Whether group g's samples are of event attrIndex (and of pid pidFilter, when given). */
  isOf(g: number, attrIndex: number, pidFilter: number | undefined): boolean {
    const d = this.source;
    if (!d) return false;
    const r = this.rep[g]!;
    return d.samples.attrIndex[r] === attrIndex && (pidFilter === undefined || d.samples.pid[r] === pidFilter);
  }

  /** Totals over the groups of one event, and of one pid when given. */
  totals(attrIndex: number, pidFilter: number | undefined): GroupTotals {
    const out: GroupTotals = { total: 0, periodSum: 0, tMin: Infinity, tMax: -Infinity };
    for (let g = 0; g < this.rep.length; g++) {
      if (!this.isOf(g, attrIndex, pidFilter)) continue;
      out.total += this.count[g]!;
      out.periodSum += this.periodSum[g]!;
      if (this.tMin[g]! < out.tMin) out.tMin = this.tMin[g]!;
      if (this.tMax[g]! > out.tMax) out.tMax = this.tMax[g]!;
    }
    return out;
  }
}
