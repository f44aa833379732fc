/**
 * A --call-graph dwarf recording seen as if perf had recorded whole user callchains: each
 * sample's user stack dump is unwound with the binary's Go frame tables (goStackUnwind.ts) and
 * the sample's callchain replaced by its kernel part plus the unwound user frames. The rest of
 * the ingest (grouping, mapping, aggregation) then works as for a frame-pointer recording.
 * Identical unwound chains share one copy, as the parser's do (ChainGroups relies on it).
 * Incremental: a streamed recording's new samples are unwound as they come.
 */
import { isContextMarker, type MappingIndex, PERF_CONTEXT, type PerfData, type PerfSamples, userReg, X86_REG } from '../formats/perfData';
import type { Symbolizer } from '../symbolize/symbolizer';
import { type UnwindEnd, unwindGoStack } from './goStackUnwind';

export interface UnwindCounts {
  /** Samples that carried a stack dump. */
  dumps: number;
  /** Of those, by how their walk ended. */
  ends: Record<UnwindEnd, number>;
  /** Frames whose saved frame pointer was compared with the unwound caller, and those that disagreed. */
  fpChecked: number;
  fpDisagreed: number;
  /** Bytes of stack the events asked for (the largest). */
  requestedBytes: number;
}

const MAX_FRAMES = 4096;

export class UnwoundSamples {
  readonly counts: UnwindCounts = {
    dumps: 0,
    ends: { bottom: 0, truncated: 0, notGo: 0, stackSwitch: 0, noTable: 0 },
    fpChecked: 0,
    fpDisagreed: 0,
    requestedBytes: 0,
  };
  /** Per sample index: how its walk ended (undefined: no dump). */
  private readonly endOf: (UnwindEnd | undefined)[] = [];
  private chainOffset = new Uint32Array(1024);
  private chainLength = new Uint32Array(1024);
  private chain = new Float64Array(1 << 14);
  private used = 0;
  private readonly shared = new Map<string, number>();
  private done = 0;
  private readonly frames = new Float64Array(MAX_FRAMES);
  private readonly scratch = new Float64Array(MAX_FRAMES + 64);

  /** `sym` answers the frame tables of the binary. */
  constructor(private readonly sym: Symbolizer) {}

  /** How sample i's walk ended (undefined: it had no dump). */
  endOfSample(i: number): UnwindEnd | undefined {
    return this.endOf[i];
  }

  /**
   * `d` with every sample's callchain as unwound (samples without a dump keep theirs).
   * `toLink(pid, addr)`: the binary's link-time address of a run-time address of process pid
   * (NaN outside its code).
   */
  view(d: PerfData, toLink: (pid: number, addr: number) => number): PerfData {
    const s = d.samples;
    const stacks = d.userStacks;
    if (this.chainOffset.length < s.count) this.growSamples(s.count);
    for (let i = this.done; i < s.count; i++) {
      const dump = stacks?.dumpOf(i);
      const k = this.kernelPart(s, i);
      let n = k;
      if (dump) {
        const ip = userReg(dump, X86_REG.IP),
          sp = userReg(dump, X86_REG.SP);
        this.counts.dumps++;
        this.counts.requestedBytes = Math.max(this.counts.requestedBytes, dump.requested);
        if (ip !== undefined && sp !== undefined) {
          const pid = s.pid[i]!;
          const r = unwindGoStack(
            { ip, sp, stack: dump.bytes, toLink: (a) => toLink(pid, a), frameAt: (pc) => this.sym.goFrameAt(pc) },
            this.frames,
          );
          this.scratch[n++] = PERF_CONTEXT.USER;
          this.scratch.set(this.frames.subarray(0, r.n), n);
          n += r.n;
          this.counts.ends[r.end]++;
          this.counts.fpChecked += r.fpChecked;
          this.counts.fpDisagreed += r.fpDisagreed;
          this.endOf[i] = r.end;
        } else {
          this.counts.ends.noTable++;
          this.endOf[i] = 'noTable';
        }
      } else {
        // No dump: the sample's own callchain (or its ip) stands.
        n = this.ownChain(s, i);
      }
      this.store(i, n);
    }
    this.done = s.count;
    const samples: PerfSamples = {
      ...s,
      chainOffset: this.chainOffset,
      chainLength: this.chainLength,
      chain: this.chain,
      chainWide: new Map(),
    };
    return { ...d, samples };
  }

  /** Copies the kernel part of sample i's callchain (up to its user marker) into scratch; returns its length. */
  private kernelPart(s: PerfSamples, i: number): number {
    const o = s.chainOffset[i]!,
      len = s.chainLength[i]!;
    let n = 0;
    for (let j = o; j < o + len && n < 64; j++) {
      const x = s.chain[j]!;
      if (x === PERF_CONTEXT.USER) break;
      this.scratch[n++] = x;
    }
    return n;
  }

  /** Sample i's callchain as recorded (its user ip when it has none), into scratch. */
  private ownChain(s: PerfSamples, i: number): number {
    const o = s.chainOffset[i]!,
      len = Math.min(s.chainLength[i]!, this.scratch.length - 1);
    let n = 0;
    if (len === 0) {
      const ip = s.ip[i]!;
      if (s.cpumode[i] === 2 && !Number.isNaN(ip)) {
        this.scratch[n++] = PERF_CONTEXT.USER;
        this.scratch[n++] = ip;
      }
      return n;
    }
    for (let j = o; j < o + len; j++) {
      const x = s.chain[j]!;
      // Inexact values (beyond ±2^53) are dropped rather than shared under a wrong value.
      if (!isContextMarker(x) && s.chainWide.has(j)) continue;
      this.scratch[n++] = x;
    }
    return n;
  }

  /** Points sample i at scratch[0, n), sharing an identical earlier chain. */
  private store(i: number, n: number): void {
    const key = Array.prototype.join.call(this.scratch.subarray(0, n), ',');
    let at = this.shared.get(key);
    if (at === undefined) {
      if (this.used + n > this.chain.length) {
        const c = new Float64Array(Math.max(this.chain.length * 2, this.used + n));
        c.set(this.chain.subarray(0, this.used));
        this.chain = c;
      }
      this.chain.set(this.scratch.subarray(0, n), this.used);
      at = this.used;
      this.used += n;
      this.shared.set(key, at);
    }
    this.chainOffset[i] = at;
    this.chainLength[i] = n;
  }

  private growSamples(count: number): void {
    const c = Math.max(count, this.chainOffset.length * 2);
    const o = new Uint32Array(c),
      l = new Uint32Array(c);
    o.set(this.chainOffset);
    l.set(this.chainLength);
    this.chainOffset = o;
    this.chainLength = l;
  }
}

/** A `toLink` over a recording's mappings for the mapped file `file` of a binary with these PT_LOAD segments. */
export function linkAddressOf(
  idx: MappingIndex,
  file: string,
  segments: readonly { offset: number; vaddr: number; filesz: number }[],
): (pid: number, addr: number) => number {
  return (pid, addr) => {
    const r = idx.resolve(pid, addr);
    if (!r || r.mmap.filename !== file) return NaN;
    for (const g of segments) if (r.fileOffset >= g.offset && r.fileOffset < g.offset + g.filesz) return r.fileOffset - g.offset + g.vaddr;
    return NaN;
  };
}
