/**
 * The eBPF CPU sampler's result (the helper's `profile`: distinct user stacks with the word at
 * the user SP, and their counts) + the Go binary → the same Profile model as perf. Addresses
 * are mapped to link-time ones (minus the load bias), the caller that frame-pointer stacks skip
 * at frameless points is put back from the SP word where that is exact, and the rest is F's
 * aggregation (StackTrie + Aggregator), so both samplers give the same kind of model.
 *
 * The sampler sends its stacks as they come (each second's partial carries those received since
 * the last one, the result the rest): BpfProfileIngest takes each batch in as it arrives and
 * builds the profile so far or the whole one; ingestBpfProfile is the same over one batch.
 */
import * as path from 'node:path';
import { PROFILE_MODEL_VERSION, type EventInfo, type Profile } from '../model/profile';
import { emptyRepairCounts, type FramelessIndex, missingCallerWarning, stillMissing } from '../symbolize/framelessCallers';
import { UserError } from '../util/userError';
import { Aggregator, StackTrie } from './aggregate';
import { framelessIndexOf } from './framelessIndexOf';
import { returnAddressLookup } from './fromPerfData';
import type { LoadedBinary } from './loadBinary';

/** One distinct sample record of the sampler, with how many samples had it. */
export interface WireBpfStack {
  count: number;
  /** Runtime user addresses, leaf (the ip) first, then return addresses. */
  user: number[];
  /** The word at the user SP, when it was a text address of the binary. */
  spWord?: number;
  /** Kernel addresses (hex), when kernel stacks were asked for and the sample was in the kernel. */
  kernel?: string[];
  /** bpf_get_stack's negative errno when the user stack could not be taken (user is then [ip]). */
  userStackError?: number;
}

export interface WireBpfStats {
  samples: number;
  userStackErrors: number;
  kernelStackErrors: number;
  /** Samples that found the ring buffer full: dropped, counted as lost. */
  ringFull: number;
  spUnreadable: number;
  kernelModeSamples: number;
  noUserRegs: number;
  /** Sum of the samples' periods (ns for cpu-clock, cycles for cycles). */
  periodSum?: number;
}

/** What every message of the sampler says (each second's partial, and the result). */
export interface WireBpfBatch {
  samples: number;
  samplesPerSecond: number[];
  elapsedSec: number;
  /** The stacks received since the last message (all of them, for a recording in one message). */
  stacks: WireBpfStack[];
  stats: WireBpfStats;
  /** Records the helper read from the ring buffer so far (= samples − ringFull when none went astray). */
  received: number;
  /** Frames a user stack can hold: a stack this long may have been cut at its bottom. */
  userDepth: number;
  loadBias: number;
  pid: number;
  event: 'cpu-clock' | 'cycles';
  fallbackReason: string | null;
  freqHz: number;
  ringBytes: number;
  /** A partial sent after the recording ended, ahead of the result, with stacks one message could not hold. */
  backlog?: boolean;
}

export interface WireProfileResult extends WireBpfBatch {
  /** Samples neither received nor counted as ringFull (lost on the way; should be 0). */
  unreceived: number;
  endedBy: 'duration' | 'stop' | 'target-exited';
  cpus: number;
  textLo: number;
  textHi: number;
  attachMs: number;
  kernelStacks: boolean;
}

/** How this sampler takes stacks, as the report says it. */
export const BPF_STACK_METHOD = 'frame pointers and the return address at SP, every sample whole (eBPF sampler)';

export interface BpfIngestOptions {
  target?: Profile['target'];
  startTimeMs?: number;
  warnings?: string[];
}

function eventOf(w: WireBpfBatch): EventInfo {
  const measured = w.stats.periodSum && w.stats.samples ? w.stats.periodSum / w.stats.samples : undefined;
  const ev: EventInfo =
    w.event === 'cycles'
      ? { name: 'cycles', unit: 'cycles', periodPerSample: measured ?? 0 }
      : { name: 'cpu-clock', unit: 'nanoseconds', periodPerSample: measured ?? 1e9 / w.freqHz };
  ev.frequencyHz = w.freqHz;
  if (w.fallbackReason) ev.fallbackReason = w.fallbackReason;
  return ev;
}

/** The link-time range of the binary's code, which bounds the SP words the sampler keeps. */
export function bpfTextRange(bin: LoadedBinary): { lo: number; hi: number } {
  const t = bin.elf.section('.text');
  if (t && t.size > 0) return { lo: Number(t.addr), hi: Number(t.addr) + t.size };
  const x = bin.segments.filter((s) => s.flags & 1);
  if (x.length === 0) throw new UserError(`${bin.path} has no executable code segment`, 'pass the PID of a Go process', 'not-go');
  return { lo: Math.min(...x.map((s) => s.vaddr)), hi: Math.max(...x.map((s) => s.vaddr + s.memsz)) };
}

/** The whole recording in one message (or its batches merged): the model, in one go. */
export function ingestBpfProfile(w: WireProfileResult, bin: LoadedBinary, opts: BpfIngestOptions = {}): Profile {
  const ingest = new BpfProfileIngest(bin);
  ingest.add(w);
  return ingest.profile(w, opts);
}

const protocolError = (what: string): UserError =>
  new UserError(`the eBPF sampler sent ${what}`, 'this is a bug in go-perf-lens (helper protocol)', 'helper-protocol');

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
/** A frame-pointer walk gone astray may read any word: past 2^53 too (mapped to nothing later). */
const isAddress = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;

/** A batch's shape, checked before anything of it is taken in (partials and the result alike). */
function checkBatch(w: WireBpfBatch): void {
  if (!w || typeof w !== 'object' || !Array.isArray(w.stacks) || !w.stats || typeof w.stats !== 'object') throw protocolError('no stacks');
  if (!isCount(w.userDepth) || !Number.isSafeInteger(w.loadBias) || !isCount(w.received) || !(w.elapsedSec >= 0) || !isCount(w.pid))
    throw protocolError("a message without its recording's facts (userDepth, loadBias, received, elapsedSec, pid)");
  for (const k of ['samples', 'userStackErrors', 'ringFull'] as const) if (!isCount(w.stats[k])) throw protocolError(`no stats.${k}`);
  for (const st of w.stacks) {
    if (!st || !isCount(st.count) || st.count === 0 || !Array.isArray(st.user) || !st.user.every(isAddress))
      throw protocolError('a stack that is not {count, user: [addresses]}');
    if (st.spWord !== undefined && !isAddress(st.spWord)) throw protocolError('a stack whose spWord is not an address');
    if (st.userStackError !== undefined && !Number.isSafeInteger(st.userStackError))
      throw protocolError('a stack with a bad userStackError');
  }
}

/**
 * The sampler's stacks taken in batch by batch as they arrive (add), with the profile so far or
 * the whole one built at any point (profile): the same stacks in the same order give the same
 * profile however they were split into batches.
 */
export class BpfProfileIngest {
  private readonly trie = new StackTrie();
  private readonly aggregator: Aggregator;
  private readonly frameless: FramelessIndex | undefined;
  private readonly repairs = emptyRepairCounts();
  private readonly callerPc: (ret: number) => number;
  private readonly text: LoadedBinary['segments'];
  private readonly keys: number[] = [];
  /** Samples taken in, and those mapped to nothing in the binary. */
  private total = 0;
  private unattributed = 0;
  /**
   * Samples whose callers are (partly) unknown although the leaf is known: a leaf in the binary
   * but no user stack (bpf_get_stack failed), or a stack as deep as the walk goes (cut at its
   * bottom, unless it ends at runtime.goexit). cutNotFrameless: those not already counted as a
   * frameless leaf left unrepaired.
   */
  private leafOnly = 0;
  private deep = 0;
  private cutNotFrameless = 0;

  constructor(private readonly bin: LoadedBinary) {
    const sym = bin.symbolizer;
    this.aggregator = new Aggregator({
      frames: (pc) => sym.framesAt(pc),
      address: (pc) => `0x${pc.toString(16)}`,
      declarationAt: (pc) => sym.declarationAt(pc),
    });
    this.frameless = framelessIndexOf(bin);
    this.callerPc = returnAddressLookup(sym);
    this.text = bin.segments.filter((s) => s.flags & 1);
  }

  /** Samples taken in so far. */
  get samples(): number {
    return this.total;
  }

  /** Takes in one message's stacks (checked first: a malformed message is a helper-protocol UserError, and adds nothing). */
  add(w: WireBpfBatch): void {
    checkBatch(w);
    const bias = w.loadBias;
    const text = this.text;
    /** Runtime address → link-time address in the binary's code, or NaN. */
    const link = (a: number): number => {
      const v = a - bias;
      for (const s of text) if (v >= s.vaddr && v < s.vaddr + s.memsz) return v;
      return NaN;
    };
    const { frameless, repairs, keys } = this;
    for (const st of w.stacks) {
      const count = st.count;
      this.total += count;
      const noStack = st.userStackError !== undefined;
      const bottom = st.user.length ? link(st.user[st.user.length - 1]!) : NaN;
      const tooDeep = !noStack && st.user.length >= w.userDepth && !(frameless && frameless.isGoexitReturn(bottom));
      const missingBefore = stillMissing(repairs);
      let stack: readonly number[] = st.user.map(link);
      const leafIn = stack.length > 0 && !Number.isNaN(stack[0]!);
      stack = stack.filter((v) => !Number.isNaN(v));
      if (leafIn && frameless) {
        const sp = st.spWord !== undefined ? link(st.spWord) : undefined;
        stack = frameless.repair(stack, sp !== undefined && !Number.isNaN(sp) ? sp : undefined, count, repairs, true);
      }
      if (stack.length === 0) {
        this.unattributed += count;
        continue;
      }
      // Counted once: a frameless leaf left unrepaired is in stillMissing already.
      if ((noStack && leafIn) || tooDeep) {
        if (noStack) this.leafOnly += count;
        else this.deep += count;
        this.cutNotFrameless += count - (stillMissing(repairs) - missingBefore);
      }
      keys.length = 0;
      for (let j = 0; j < stack.length; j++) keys.push(j === 0 && leafIn ? stack[0]! : this.callerPc(stack[j]!));
      this.trie.add(keys, keys.length, count);
    }
  }

  /**
   * The profile of what was taken in. `w`: the last message, whose counters (stats, elapsed time)
   * cover the whole recording so far; a partial (no `unreceived` yet) counts only ringFull as lost,
   * since records still in the ring are not lost.
   */
  profile(w: WireBpfBatch & Partial<WireProfileResult>, opts: BpfIngestOptions = {}): Profile {
    const warnings = [...(opts.warnings ?? [])];
    const { bin, repairs, total } = this;
    const agg = this.aggregator.update(this.trie);
    if (agg.unsymbolizedSamples > 0)
      warnings.push(`${agg.unsymbolizedSamples} sample(s) fell in ${path.basename(bin.path)} at addresses no function covers`);
    const s = w.stats;
    const unreceived = w.unreceived ?? 0;
    const lost = s.ringFull + unreceived;
    if (lost > 0) {
      warnings.push(
        `${lost} sample(s) were dropped (${s.ringFull} found the sampler's ${Math.round(w.ringBytes / 1024)} KB ring buffer full${unreceived ? `, ${unreceived} never arrived` : ''}): counted as lost, in no figure`,
      );
    }
    if (s.userStackErrors > 0)
      warnings.push(
        `${s.userStackErrors} sample(s) kept only their leaf: the kernel could not take their user stack (their callers are unknown)`,
      );
    if (this.deep > 0)
      warnings.push(
        `${this.deep} sample(s) had stacks of ${w.userDepth} frames, as deep as the kernel walks: their outermost callers are cut off and unknown`,
      );
    if (w.endedBy === 'target-exited')
      warnings.push(`process ${w.pid} exited after ${w.elapsedSec.toFixed(1)} s: the profile covers that time only`);
    const mw = missingCallerWarning(repairs, total, 'bpf');
    if (mw) warnings.push(mw);

    const p: Profile = {
      version: PROFILE_MODEL_VERSION,
      source: 'bpf',
      event: eventOf(w),
      binary: bin.identity,
      durationNanos: Math.round(w.elapsedSec * 1e9),
      totalSamples: total,
      lostSamples: lost,
      unattributedSamples: this.unattributed,
      // A leaf-only or cut sample's callers are unknown, its frameless leaf repaired or not.
      missingCallerSamples: stillMissing(repairs) + this.cutNotFrameless,
      truncatedStackSamples: this.leafOnly + this.deep,
      stackMethod: BPF_STACK_METHOD,
      repairedCallerSamples: repairs.repaired + repairs.inferred,
      functions: agg.functions,
      lines: agg.lines,
      callTree: agg.callTree,
      stacks: agg.stacks,
    };
    p.target = { pid: w.pid, ...(opts.target ?? {}) };
    if (opts.startTimeMs !== undefined) p.startTimeMs = opts.startTimeMs;
    if (!this.frameless)
      warnings.push('the binary has no readable .gopclntab: callers skipped at frameless points could not be checked or repaired');
    if (warnings.length) p.warnings = warnings;
    return p;
  }
}
