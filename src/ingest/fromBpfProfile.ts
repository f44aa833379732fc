/**
 * The eBPF CPU sampler's result (the helper's `profile`: distinct user stacks with the word at
 * the user SP, and their counts) + the Go binary → the same Profile model as perf. Addresses
 * are mapped to link-time ones (minus the load bias), the caller that frame-pointer stacks skip
 * at frameless points is put back from the SP word where that is exact, and the rest is F's
 * aggregation (StackTrie + aggregate), so both samplers give the same kind of model.
 */
import * as path from 'node:path';
import { PROFILE_MODEL_VERSION, type EventInfo, type Profile } from '../model/profile';
import { emptyRepairCounts, missingCallerWarning, stillMissing } from '../symbolize/framelessCallers';
import { UserError } from '../util/userError';
import { aggregate, type FrameSource, StackTrie } from './aggregate';
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

export interface WireProfileResult {
  samples: number;
  samplesPerSecond: number[];
  elapsedSec: number;
  stacks: WireBpfStack[];
  stats: WireBpfStats;
  /** Records the helper read from the ring buffer (= samples − ringFull when none went astray). */
  received: number;
  /** Samples neither received nor counted as ringFull (lost on the way; should be 0). */
  unreceived: number;
  distinctKeys: number;
  /** Frames a user stack can hold: a stack this long may have been cut at its bottom. */
  userDepth: number;
  ringBytes: number;
  endedBy: 'duration' | 'stop' | 'target-exited';
  pid: number;
  event: 'cpu-clock' | 'cycles';
  fallbackReason: string | null;
  freqHz: number;
  cpus: number;
  loadBias: number;
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

function eventOf(w: WireProfileResult): EventInfo {
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

export function ingestBpfProfile(w: WireProfileResult, bin: LoadedBinary, opts: BpfIngestOptions = {}): Profile {
  if (!w || !Array.isArray(w.stacks) || !w.stats)
    throw new UserError('the eBPF sampler returned no stacks', 'this is a bug in go-perf-lens (helper protocol)', 'helper-protocol');
  const warnings = [...(opts.warnings ?? [])];
  const bias = w.loadBias;
  const text = bin.segments.filter((s) => s.flags & 1);
  /** Runtime address → link-time address in the binary's code, or NaN. */
  const link = (a: number): number => {
    const v = a - bias;
    for (const s of text) if (v >= s.vaddr && v < s.vaddr + s.memsz) return v;
    return NaN;
  };
  const frameless = framelessIndexOf(bin);
  const repairs = emptyRepairCounts();
  const callerPc = returnAddressLookup(bin.symbolizer);

  const trie = new StackTrie();
  const keys: number[] = [];
  let total = 0;
  let unattributed = 0;
  /**
   * Samples whose callers are (partly) unknown although the leaf is known: a leaf in the binary
   * but no user stack (bpf_get_stack failed), or a stack as deep as the walk goes (cut at its
   * bottom, unless it ends at runtime.goexit). cutNotFrameless: those not already counted as a
   * frameless leaf left unrepaired.
   */
  let leafOnly = 0,
    deep = 0,
    cutNotFrameless = 0;
  for (const st of w.stacks) {
    const count = st.count;
    total += count;
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
      unattributed += count;
      continue;
    }
    // Counted once: a frameless leaf left unrepaired is in stillMissing already.
    if ((noStack && leafIn) || tooDeep) {
      if (noStack) leafOnly += count;
      else deep += count;
      cutNotFrameless += count - (stillMissing(repairs) - missingBefore);
    }
    keys.length = 0;
    for (let j = 0; j < stack.length; j++) keys.push(j === 0 && leafIn ? stack[0]! : callerPc(stack[j]!));
    trie.add(keys, keys.length, count);
  }

  const sym = bin.symbolizer;
  const source: FrameSource = {
    frames: (pc) => sym.framesAt(pc),
    address: (pc) => `0x${pc.toString(16)}`,
    declarationAt: (pc) => sym.declarationAt(pc),
  };
  const agg = aggregate(trie, source);
  if (agg.unsymbolizedSamples > 0)
    warnings.push(`${agg.unsymbolizedSamples} sample(s) fell in ${path.basename(bin.path)} at addresses no function covers`);
  const s = w.stats;
  const lost = s.ringFull + w.unreceived;
  if (lost > 0)
    warnings.push(
      `${lost} sample(s) were dropped (${s.ringFull} found the sampler's ${Math.round(w.ringBytes / 1024)} KB ring buffer full${w.unreceived ? `, ${w.unreceived} never arrived` : ''}): counted as lost, in no figure`,
    );
  if (s.userStackErrors > 0)
    warnings.push(
      `${s.userStackErrors} sample(s) kept only their leaf: the kernel could not take their user stack (their callers are unknown)`,
    );
  if (deep > 0)
    warnings.push(
      `${deep} sample(s) had stacks of ${w.userDepth} frames, as deep as the kernel walks: their outermost callers are cut off and unknown`,
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
    unattributedSamples: unattributed,
    // A leaf-only or cut sample's callers are unknown, its frameless leaf repaired or not.
    missingCallerSamples: stillMissing(repairs) + cutNotFrameless,
    truncatedStackSamples: leafOnly + deep,
    stackMethod: BPF_STACK_METHOD,
    repairedCallerSamples: repairs.repaired + repairs.inferred,
    functions: agg.functions,
    lines: agg.lines,
    callTree: agg.callTree,
    stacks: agg.stacks,
  };
  const target: NonNullable<Profile['target']> = { pid: w.pid, ...(opts.target ?? {}) };
  p.target = target;
  if (opts.startTimeMs !== undefined) p.startTimeMs = opts.startTimeMs;
  if (!frameless)
    warnings.push('the binary has no readable .gopclntab: callers skipped at frameless points could not be checked or repaired');
  if (warnings.length) p.warnings = warnings;
  return p;
}
