/**
 * The blocking sampler's result (the helper's `blocking`: per (stack at gopark, wait reason, log2
 * slot of the wait's length), the time from gopark to runtime.execute of the same goroutine and
 * the number of such waits) + the Go binary → blocked time per function, line and reason, and
 * each line's wait-time histogram.
 *
 * Where a wait is charged: the first frame of the stack at gopark outside the Go runtime and
 * the packages whose internals do the parking for their callers — `runtime.`, `sync.`,
 * `internal/…`, `time.` and `net.` (net's own frames, not net/http) — so a wait in
 * mu.Lock(), <-ch, time.Sleep or conn.Read lands on the caller's line.
 */
import type { HistogramBucket } from '../model/profile';
import { waitReasonName } from '../symbolize/goWaitReasons';
import { UserError } from '../util/userError';
import { chainReader, chargedIndex } from './ebpfStacks';
import type { LoadedBinary } from './loadBinary';

export interface WireBlockStack {
  reason: number;
  /** bpf_log2l of each wait's length: they lasted [2^(slot-1), 2^slot) ns (slot 0: 0 ns). */
  slot: number;
  ns: number;
  waits: number;
  /** Runtime user addresses at gopark: its own ip first, then return addresses. */
  user: number[];
  userStackError?: number;
}

export interface WireBlockingResult {
  pid: number;
  stacks: WireBlockStack[];
  stats: {
    parks: number;
    executes: number;
    paired: number;
    parkedFull: number;
    hashFull: number;
    stackErrors: number;
    stackCollisions: number;
  };
  stackWalkFailed: number;
  stillParked: number;
  stillParkedNs: number;
  hitsPerSecond: number[];
  maxHitsPerSec: number;
  hashCapacity?: number;
  loadBias: number;
  elapsedSec: number;
  endedBy: 'duration' | 'stop' | 'target-exited' | 'budget';
  budgetReason?: string;
  probes: number;
  attachMs: number;
}

export interface BlockFunction {
  name: string;
  file: string;
  line: number;
  blockedNs: number;
  waits: number;
  /** Blocked ns by wait reason. */
  reasons: Record<string, number>;
}

export interface BlockLine {
  file: string;
  line: number;
  blockedNs: number;
  waits: number;
  /** Blocked ns by wait reason. */
  reasons: Record<string, number>;
  /** How long the waits at this line lasted: log2 buckets of waits, ascending. */
  histogram: HistogramBucket[];
}

export interface BlockHeat {
  durationSec: number;
  blockedNs: number;
  waits: number;
  functions: BlockFunction[];
  lines: BlockLine[];
  /** Goroutines parked when the recording ended (their waits are not in the figures). */
  stillParked: number;
  endedBy: WireBlockingResult['endedBy'];
  warnings: string[];
}

/** Frames that park for their callers: skipped until the first frame outside them. */
export function isParkingInternal(fn: string): boolean {
  return (
    fn.startsWith('runtime.') ||
    fn.startsWith('sync.') ||
    fn.startsWith('sync/atomic.') ||
    fn.startsWith('internal/') ||
    fn.startsWith('time.') ||
    fn.startsWith('net.')
  );
}

export function ingestBlocking(w: WireBlockingResult, bin: LoadedBinary, reasonNames: readonly string[] | undefined): BlockHeat {
  if (!w || !Array.isArray(w.stacks) || !w.stats)
    throw new UserError('the blocking sampler returned no result', 'this is a bug in go-perf-lens (helper protocol)', 'helper-protocol');
  if (!w.stacks.every((st) => Number.isInteger(st.slot) && st.slot >= 0 && st.slot < 64))
    throw new UserError(
      'the blocking sampler returned waits without their length slot',
      'this is a bug in go-perf-lens (helper protocol)',
      'helper-protocol',
    );
  const sym = bin.symbolizer;
  const chainOf = chainReader(bin, w.loadBias);
  type Fn = BlockFunction & { physical?: number };
  const fns = new Map<string, Fn>();
  type Line = BlockLine & { slots: Map<number, number> };
  const lines = new Map<string, Line>();
  let total = 0;
  let waits = 0;
  let noStackNs = 0;
  for (const st of w.stacks) {
    total += st.ns;
    waits += st.waits;
    const chain = chainOf(st.user);
    const ci = chargedIndex(chain, isParkingInternal);
    const charged = ci >= 0 ? chain[ci] : undefined;
    if (!charged) {
      noStackNs += st.ns;
      continue;
    }
    let fn = fns.get(charged.fn);
    if (!fn) fns.set(charged.fn, (fn = { name: charged.fn, file: charged.file, line: 0, blockedNs: 0, waits: 0, reasons: {} }));
    if (charged.outer && fn.physical === undefined) fn.physical = charged.pc;
    if (charged.line > 0 && (fn.line === 0 || charged.line < fn.line)) fn.line = charged.line;
    fn.blockedNs += st.ns;
    fn.waits += st.waits;
    const r = waitReasonName(reasonNames, st.reason);
    fn.reasons[r] = (fn.reasons[r] ?? 0) + st.ns;
    const lk = `${charged.file}\0${charged.line}`;
    let l = lines.get(lk);
    if (!l)
      lines.set(lk, (l = { file: charged.file, line: charged.line, blockedNs: 0, waits: 0, reasons: {}, histogram: [], slots: new Map() }));
    l.blockedNs += st.ns;
    l.waits += st.waits;
    l.reasons[r] = (l.reasons[r] ?? 0) + st.ns;
    l.slots.set(st.slot, (l.slots.get(st.slot) ?? 0) + st.waits);
  }
  const functions: BlockFunction[] = [...fns.values()].map((f) => {
    const decl = f.physical !== undefined ? sym.declarationAt(f.physical) : sym.inlinedDeclarationOf(f.name);
    return {
      name: f.name,
      file: decl?.file ? decl.file : f.file,
      line: decl?.file ? decl.line1 : f.line,
      blockedNs: f.blockedNs,
      waits: f.waits,
      reasons: f.reasons,
    };
  });
  functions.sort((a, b) => b.blockedNs - a.blockedNs || a.name.localeCompare(b.name));
  const lineList: BlockLine[] = [...lines.values()]
    .map(({ slots, ...l }) => ({ ...l, histogram: log2Histogram(slots) }))
    .sort((a, b) => b.blockedNs - a.blockedNs || a.file.localeCompare(b.file) || a.line - b.line);

  const warnings: string[] = [];
  const s = w.stats;
  if (w.endedBy === 'budget') warnings.push(`stopped after ${w.elapsedSec.toFixed(1)} s: ${w.budgetReason ?? 'over the probe budget'}`);
  if (w.endedBy === 'target-exited')
    warnings.push(`process ${w.pid} exited after ${w.elapsedSec.toFixed(1)} s: the figures cover that time only`);
  if (w.stillParked > 0)
    warnings.push(
      `${w.stillParked} goroutine(s) parked during the recording were still waiting at its end (${(w.stillParkedNs / 1e9).toFixed(1)} s so far in all): not in the figures`,
    );
  if (s.parkedFull > 0)
    warnings.push(`${s.parkedFull} park(s) could not be kept (the table of parked goroutines was full): their waits are missing`);
  if (s.hashFull > 0)
    warnings.push(`${s.hashFull} wait(s) were dropped: the map of (stack, reason) was full (${w.hashCapacity ?? '?'} keys)`);
  const lost = s.stackErrors + s.stackCollisions + w.stackWalkFailed;
  if (lost > 0 || noStackNs > 0)
    warnings.push(`${lost} park(s) have no usable call stack (${(noStackNs / 1e9).toFixed(3)} s): counted in the totals only`);
  if (!reasonNames) warnings.push('the wait reasons of this Go version are not known here: shown as numbers');
  return {
    durationSec: w.elapsedSec,
    blockedNs: total,
    waits,
    functions,
    lines: lineList,
    stillParked: w.stillParked,
    endedBy: w.endedBy,
    warnings,
  };
}

/** Waits per bpf_log2l slot → buckets [2^(slot-1), 2^slot) ns, ascending (slot 0 holds waits of 0 ns: [0, 1)). */
export function log2Histogram(slots: ReadonlyMap<number, number>): HistogramBucket[] {
  return [...slots.entries()]
    .filter(([, count]) => count > 0)
    .sort((a, b) => a[0] - b[0])
    .map(([slot, count]) => ({ loNanos: slot === 0 ? 0 : 2 ** (slot - 1), hiNanos: 2 ** slot, count }));
}
