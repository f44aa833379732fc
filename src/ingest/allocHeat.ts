/**
 * The allocation sampler's result (the helper's `allocs`: distinct (stack, size) keys of the
 * allocations the Go runtime sampled, and their counts) + the Go binary → estimated bytes and
 * objects per function (self and cumulative) and per line.
 *
 * Unsampling is pprof's (runtime/pprof scaleHeapSample): the runtime samples an allocation of
 * `size` bytes with probability 1 - exp(-size/rate), so each sample of that size stands for
 * 1 / (1 - exp(-size/rate)) allocations. Keys hold one size each (as the runtime's buckets do),
 * so the scaling is exact per key, not per average.
 *
 * Attribution: the runtime's own frames (mProf_Malloc, mallocgc, newobject, makeslice,
 * growslice, …) are skipped from the leaf; the first frame outside `runtime.` is where the
 * allocation is charged ("self"), and every distinct function on the stack gets it cumulatively.
 */
import { chainReader, chargedIndex } from './ebpfStacks';
import type { LoadedBinary } from './loadBinary';
import { UserError } from '../util/userError';

export interface WireAllocStack {
  size: number;
  count: number;
  /** Runtime user addresses: the probe's ip first, then return addresses. */
  user: number[];
  userStackError?: number;
}

export interface WireAllocsResult {
  pid: number;
  memProfileRate: number;
  memProfileRateEnd: number;
  stacks: WireAllocStack[];
  stats: { samples: number; stackErrors: number; stackCollisions: number; hashFull: number };
  stackWalkFailed?: number;
  hashCapacity?: number;
  samplesPerSecond?: number[];
  elapsedSec: number;
  endedBy: 'duration' | 'stop' | 'target-exited' | 'budget' | 'profiling-off';
  /** Why a recording that ended by 'budget' stopped (the probe rate against the budget). */
  budgetReason?: string;
  maxHitsPerSec?: number;
  loadBias: number;
  probes: number;
  attachMs: number;
}

export interface AllocFunction {
  name: string;
  /** Declaration (func line) when the binary says it, else the function's first line seen. */
  file: string;
  line: number;
  selfBytes: number;
  bytes: number;
  selfObjects: number;
  objects: number;
}

export interface AllocLine {
  file: string;
  line: number;
  /** Allocated at this line (self). */
  bytes: number;
  objects: number;
}

export interface AllocHeat {
  /** Estimated totals over the recording. */
  bytes: number;
  objects: number;
  durationSec: number;
  memProfileRate: number;
  /** Allocations the runtime sampled (probe hits). */
  samples: number;
  functions: AllocFunction[];
  lines: AllocLine[];
  /** Estimated bytes whose stack could not be taken or named (counted in bytes, not in any function). */
  unattributedBytes: number;
  warnings: string[];
}

/** pprof's unsampling factor for one allocation of `size` bytes at MemProfileRate `rate`. */
export function unsampleScale(size: number, rate: number): number {
  if (rate <= 1 || size <= 0) return 1;
  return 1 / (1 - Math.exp(-size / rate));
}

/** The runtime's frames, skipped from the leaf: an allocation is charged to the first frame outside them. */
export function isAllocatorFrame(fn: string): boolean {
  return fn.startsWith('runtime.');
}

export function ingestAllocs(w: WireAllocsResult, bin: LoadedBinary): AllocHeat {
  if (!w || !Array.isArray(w.stacks) || !w.stats)
    throw new UserError('the allocation sampler returned no result', 'this is a bug in go-perf-lens (helper protocol)', 'helper-protocol');
  if (w.memProfileRate <= 0) {
    throw new UserError(
      `PID ${w.pid} has turned its memory profiling off (runtime.MemProfileRate = ${w.memProfileRate}): the Go runtime samples no allocations, so there is nothing to record`,
      'allocation heat needs the program not to set runtime.MemProfileRate = 0 (the default, 512 KiB, is fine)',
      'memprofile-off',
    );
  }
  const warnings: string[] = [];
  const rate = w.memProfileRate;
  const sym = bin.symbolizer;
  const chainOf = chainReader(bin, w.loadBias);

  type Fn = AllocFunction & { physical?: number };
  const fns = new Map<string, Fn>();
  const lines = new Map<string, AllocLine>();
  let bytes = 0;
  let objects = 0;
  let unattributed = 0;
  let noStack = 0;
  for (const st of w.stacks) {
    const scale = unsampleScale(st.size, rate);
    const obj = st.count * scale;
    const b = obj * st.size;
    bytes += b;
    objects += obj;
    const chain = chainOf(st.user);
    const leaf = chargedIndex(chain, isAllocatorFrame);
    if (leaf < 0) {
      unattributed += b;
      if (st.userStackError !== undefined || st.user.length === 0) noStack += st.count;
      continue;
    }
    const seen = new Set<string>();
    for (let j = leaf; j < chain.length; j++) {
      const f = chain[j]!;
      let fn = fns.get(f.fn);
      if (!fn) fns.set(f.fn, (fn = { name: f.fn, file: f.file, line: 0, selfBytes: 0, bytes: 0, selfObjects: 0, objects: 0 }));
      if (f.outer && fn.physical === undefined) fn.physical = f.pc;
      if (f.line > 0 && (fn.line === 0 || f.line < fn.line)) fn.line = f.line;
      if (j === leaf) {
        fn.selfBytes += b;
        fn.selfObjects += obj;
        const lk = `${f.file}\0${f.line}`;
        let l = lines.get(lk);
        if (!l) lines.set(lk, (l = { file: f.file, line: f.line, bytes: 0, objects: 0 }));
        l.bytes += b;
        l.objects += obj;
      }
      if (!seen.has(f.fn)) {
        seen.add(f.fn);
        fn.bytes += b;
        fn.objects += obj;
      }
    }
  }

  const functions: AllocFunction[] = [];
  for (const f of fns.values()) {
    const decl = f.physical !== undefined ? sym.declarationAt(f.physical) : sym.inlinedDeclarationOf(f.name);
    const out: AllocFunction = {
      name: f.name,
      file: decl && decl.file ? decl.file : f.file,
      line: decl && decl.file ? decl.line1 : f.line,
      selfBytes: Math.round(f.selfBytes),
      bytes: Math.round(f.bytes),
      selfObjects: Math.round(f.selfObjects),
      objects: Math.round(f.objects),
    };
    functions.push(out);
  }
  functions.sort((a, b) => b.selfBytes - a.selfBytes || b.bytes - a.bytes || a.name.localeCompare(b.name));
  const lineList = [...lines.values()].map((l) => ({ ...l, bytes: Math.round(l.bytes), objects: Math.round(l.objects) }));
  lineList.sort((a, b) => b.bytes - a.bytes || a.file.localeCompare(b.file) || a.line - b.line);

  const s = w.stats;
  if (s.hashFull > 0)
    warnings.push(
      `${s.hashFull} sampled allocation(s) were dropped: the sampler's map (${w.hashCapacity ?? '?'} keys) was full; totals are low by them`,
    );
  const lostStacks = s.stackErrors + s.stackCollisions + (w.stackWalkFailed ?? 0);
  if (lostStacks > 0)
    warnings.push(
      `${lostStacks} sampled allocation(s) have no call stack (${s.stackCollisions} stack-map collisions, ${s.stackErrors} other errors, ${w.stackWalkFailed ?? 0} evicted): counted in the totals only`,
    );
  if (unattributed > 0 && noStack === 0)
    warnings.push(`${fmtBytes(unattributed)} could not be placed in the binary's code: counted in the totals only`);
  if (w.memProfileRateEnd !== w.memProfileRate)
    warnings.push(
      `runtime.MemProfileRate changed from ${w.memProfileRate} to ${w.memProfileRateEnd} during the recording; estimates use ${w.memProfileRate}`,
    );
  if (w.endedBy === 'budget') warnings.push(`stopped after ${w.elapsedSec.toFixed(1)} s: ${w.budgetReason ?? 'over the probe budget'}`);
  if (w.endedBy === 'target-exited')
    warnings.push(`process ${w.pid} exited after ${w.elapsedSec.toFixed(1)} s: the figures cover that time only`);
  return {
    bytes: Math.round(bytes),
    objects: Math.round(objects),
    durationSec: w.elapsedSec,
    memProfileRate: rate,
    samples: s.samples,
    functions,
    lines: lineList,
    unattributedBytes: Math.round(unattributed),
    warnings,
  };
}

function fmtBytes(n: number): string {
  return n >= 1e9
    ? `${(n / 1e9).toFixed(1)} GB`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)} MB`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(1)} kB`
        : `${Math.round(n)} B`;
}
