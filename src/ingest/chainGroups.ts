/**
 * Samples grouped by identical raw callchain (and pid, cpu mode, event): the only per-sample
 * work of a perf ingest. The parser stores each distinct callchain once and points every sample
 * that repeats it at the same copy, so a group is found by chainOffset alone. Groups are kept
 * up to date incrementally (update() reads only the samples added since the last call), so a
 * recording streamed in can be grouped while it is still being recorded.
 */
import type { PerfData } from '../formats/perfData';

/** Totals over the groups of one event (and pid). */
export interface GroupTotals {
  total: number;
  periodSum: number;
  tMin: number;
  tMax: number;
}

export class ChainGroups {
  /** Per group: representative sample, sample count, period sum, time range. */
  private readonly rep: number[] = [];
  private readonly count: number[] = [];
  private readonly periodSum: number[] = [];
  private readonly tMin: number[] = [];
  private readonly tMax: number[] = [];
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

  /** Groups the samples of `d` not grouped yet. `d` is the same recording each time, grown (a stream's snapshot). */
  update(d: PerfData): this {
    if (this.source !== undefined && this.source.attrs !== d.attrs) throw new Error('ChainGroups.update: samples of another recording');
    this.source = d;
    const s = d.samples;
    const { pid, cpumode, attrIndex, chainOffset, chainLength, ip, period, time } = s;
    const { rep, count, periodSum, tMin, tMax } = this;
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
