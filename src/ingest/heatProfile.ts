/**
 * One profile from what a "Profile Go process" recording measured in one window: allocations
 * (allocated bytes and objects), blocking (blocked time and waits), and CPU samples when they
 * were recorded alongside — each a metric of the profile (model/metrics), over the union of
 * their stacks, so the heat, tree, flame graph and lenses can show any of them.
 *
 * The stacks are cut where the figures are charged (ebpfStacks.chargedIndex): an allocation's
 * stack starts at the first frame outside the runtime's allocator, a wait's at the first frame
 * outside the code that parks, so "self" is the line that allocates or waits, as in the CLI.
 * The CPU profile's stacks are taken as its ingest made them (repaired callers included).
 */
import { attachMetrics, metricsOf, unitEvent, type StackMetric } from '../model/metrics';
import { type LineWaits, PROFILE_MODEL_VERSION, type MetricInfo, type Profile } from '../model/profile';
import type { SourceFrame } from '../symbolize/symbolizer';
import { aggregate, type FrameSource, StackTrie } from './aggregate';
import { type AllocHeat, isAllocatorFrame, unsampleScale, type WireAllocsResult } from './allocHeat';
import { type BlockHeat, isParkingInternal, type WireBlockingResult } from './blockHeat';
import { chainReader, chargedIndex, type ChainFrame } from './ebpfStacks';
import type { LoadedBinary } from './loadBinary';

export interface HeatRecordings {
  /** The binary the eBPF recordings' addresses are in. */
  bin: LoadedBinary;
  /** CPU samples of the same window (its own ingest's profile, with its stacks). */
  cpu?: Profile;
  allocs?: { wire: WireAllocsResult; heat: AllocHeat };
  blocking?: { wire: WireBlockingResult; heat: BlockHeat };
  /** Where the recording came from and how it ended, for the profile. */
  target?: Profile['target'];
  requestedSec: number;
  startTimeMs?: number;
}

export const ALLOC_SPACE = 'alloc_space';
export const ALLOC_OBJECTS = 'alloc_objects';
export const BLOCKED_TIME = 'blocked_time';
export const WAITS = 'waits';

/** The profile of the recordings; the first eBPF metric (allocated bytes, else blocked time) is shown. */
export function heatProfile(r: HeatRecordings): Profile {
  const trie = new StackTrie();
  // Location keys: an eBPF call site cut at an inline depth ("pc:depth"), or a location of the CPU profile ("cpu:i").
  const keyIndex = new Map<string, number>();
  const keyFrames: SourceFrame[][] = [];
  const keyAddress: (string | undefined)[] = [];
  const keyPhysical: (number | undefined)[] = [];
  const intern = (name: string, frames: () => SourceFrame[], address: string | undefined, physical: number | undefined): number => {
    let k = keyIndex.get(name);
    if (k === undefined) {
      k = keyFrames.length;
      keyIndex.set(name, k);
      keyFrames.push(frames());
      keyAddress.push(address);
      keyPhysical.push(physical);
    }
    return k;
  };
  /** Per metric: its value at each trie node. */
  const perNode = new Map<string, number[]>();
  const add = (metric: string, node: number, v: number): void => {
    let a = perNode.get(metric);
    if (!a) perNode.set(metric, (a = []));
    while (a.length <= node) a.push(0);
    a[node]! += v;
  };
  const buf: number[] = [];
  const insert = (): number => {
    const node = trie.insert(buf, buf.length);
    if (trie.counts[node] === 0) trie.addCount(node, 1);
    return node;
  };

  const sym = r.bin.symbolizer;
  /** The stack of an eBPF chain from its charged frame on, as location keys, leaf first. */
  const ebpfStack = (chain: ChainFrame[], from: number): void => {
    buf.length = 0;
    for (let j = from; j < chain.length; j++) {
      const f = chain[j]!;
      // One location per call site: its innermost frame, or the charged frame within its inline chain.
      if (j !== from && f.depth !== 0) continue;
      const depth = f.depth;
      buf.push(intern(`${f.pc}:${depth}`, () => sym.framesAt(f.pc).slice(depth), `0x${f.pc.toString(16)}`, f.pc));
    }
  };

  const metrics: MetricInfo[] = [];
  const warnings: string[] = [];
  const waitLines: LineWaits[] = [];
  if (r.allocs) {
    const { wire, heat } = r.allocs;
    const chainOf = chainReader(r.bin, wire.loadBias);
    for (const st of wire.stacks) {
      const chain = chainOf(st.user);
      const leaf = chargedIndex(chain, isAllocatorFrame);
      if (leaf < 0) continue; // in the totals as unattributed
      ebpfStack(chain, leaf);
      const node = insert();
      const obj = st.count * unsampleScale(st.size, wire.memProfileRate);
      add(ALLOC_SPACE, node, obj * st.size);
      add(ALLOC_OBJECTS, node, obj);
    }
    const common = { total: 0, samples: heat.samples };
    metrics.push(
      {
        id: ALLOC_SPACE,
        label: 'allocated bytes',
        measures: 'alloc-bytes',
        event: unitEvent(ALLOC_SPACE, 'bytes'),
        ...common,
        companion: ALLOC_OBJECTS,
      },
      {
        id: ALLOC_OBJECTS,
        label: 'allocated objects',
        measures: 'alloc-objects',
        event: unitEvent(ALLOC_OBJECTS, 'count'),
        ...common,
        companion: ALLOC_SPACE,
      },
    );
    warnings.push(...heat.warnings.map((w) => `allocations: ${w}`));
  }
  if (r.blocking) {
    const { wire, heat } = r.blocking;
    const chainOf = chainReader(r.bin, wire.loadBias);
    for (const st of wire.stacks) {
      const chain = chainOf(st.user);
      const ci = chargedIndex(chain, isParkingInternal);
      if (ci < 0) continue;
      ebpfStack(chain, ci);
      const node = insert();
      add(BLOCKED_TIME, node, st.ns);
      add(WAITS, node, st.waits);
    }
    metrics.push(
      {
        id: BLOCKED_TIME,
        label: 'blocked time',
        measures: 'blocked-time',
        event: unitEvent(BLOCKED_TIME, 'nanoseconds'),
        total: 0,
        samples: heat.waits,
        companion: WAITS,
      },
      { id: WAITS, label: 'waits', measures: 'waits', event: unitEvent(WAITS, 'count'), total: 0, companion: BLOCKED_TIME },
    );
    for (const l of heat.lines)
      waitLines.push({ file: l.file, line1: l.line, blockedNanos: l.blockedNs, waits: l.waits, reasons: l.reasons, buckets: l.histogram });
    warnings.push(...heat.warnings.map((w) => `blocking: ${w}`));
  }
  const cpu = r.cpu;
  if (cpu) {
    const st = cpu.stacks;
    if (!st) throw new Error('heatProfile: the CPU profile keeps no stacks');
    const cpuFrames = (i: number): SourceFrame[] =>
      st.locations[i]!.frames.map((f) => {
        const fn = cpu.functions[f.function]!;
        return { function: fn.name, file: f.file ?? fn.file ?? '', line: f.line1 };
      });
    st.stacks.forEach((locs, s) => {
      buf.length = 0;
      for (const i of locs) buf.push(intern(`cpu:${i}`, () => cpuFrames(i), st.locations[i]!.address, undefined));
      add('cpu', insert(), st.counts[s]!);
    });
    metrics.push({ ...metricsOf(cpu)[0]!, total: cpu.totalSamples });
    warnings.push(...(cpu.warnings ?? []).map((w) => `CPU: ${w}`));
  }

  const cpuDecl = new Map((cpu?.functions ?? []).filter((f) => f.file && f.line1).map((f) => [f.name, { file: f.file!, line1: f.line1! }]));
  const source: FrameSource = {
    frames: (k) => keyFrames[k]!,
    address: (k) => keyAddress[k],
    declarationAt: (k) => {
      const pc = keyPhysical[k];
      if (pc !== undefined) {
        const d = sym.declarationAt(pc);
        if (d?.file) return { file: d.file, line1: d.line1 };
      }
      const outer = keyFrames[k]!.at(-1);
      return outer ? cpuDecl.get(outer.function) : undefined;
    },
    declarationOf: (name) => {
      const d = cpuDecl.get(name) ?? sym.inlinedDeclarationOf(name);
      return d?.file ? { file: d.file, line1: d.line1 } : undefined;
    },
  };
  const agg = aggregate(trie, source);
  const stackNodes: number[] = [];
  for (let i = 1; i < trie.size; i++) if (trie.counts[i] !== 0) stackNodes.push(i);

  // Totals: what the stacks hold, plus what could not be placed (unattributed).
  const totals: Record<string, { total: number; unattributed: number }> = {};
  const sum = (id: string): number => (perNode.get(id) ?? []).reduce((a, b) => a + b, 0);
  if (r.allocs) {
    const h = r.allocs.heat;
    const placed = sum(ALLOC_SPACE);
    totals[ALLOC_SPACE] = { total: h.bytes, unattributed: Math.max(0, h.bytes - placed) };
    totals[ALLOC_OBJECTS] = { total: h.objects, unattributed: Math.max(0, h.objects - sum(ALLOC_OBJECTS)) };
  }
  if (r.blocking) {
    const h = r.blocking.heat;
    totals[BLOCKED_TIME] = { total: h.blockedNs, unattributed: Math.max(0, h.blockedNs - sum(BLOCKED_TIME)) };
    totals[WAITS] = { total: h.waits, unattributed: Math.max(0, h.waits - sum(WAITS)) };
  }
  if (cpu) totals.cpu = { total: cpu.totalSamples, unattributed: cpu.unattributedSamples };
  const stackMetrics: StackMetric[] = metrics.map((m) => {
    const t = totals[m.id]!;
    const info: MetricInfo = { ...m, total: t.total };
    if (t.unattributed > 0) info.unattributed = t.unattributed;
    else delete info.unattributed;
    const a = perNode.get(m.id) ?? [];
    return { info, stackCounts: stackNodes.map((i) => a[i] ?? 0) };
  });

  const first = metrics[0]!;
  const durationSec = Math.max(r.allocs?.heat.durationSec ?? 0, r.blocking?.heat.durationSec ?? 0, cpu ? cpu.durationNanos / 1e9 : 0);
  const endedBy = r.allocs?.wire.endedBy ?? r.blocking?.wire.endedBy;
  const base: Profile = {
    version: PROFILE_MODEL_VERSION,
    source: cpu ? cpu.source : 'ebpf',
    event: first.event,
    durationNanos: Math.round(durationSec * 1e9),
    totalSamples: 0,
    lostSamples: cpu?.lostSamples ?? 0,
    unattributedSamples: 0,
    functions: agg.functions,
    lines: agg.lines,
    callTree: agg.callTree,
    stacks: agg.stacks,
  };
  const p = attachMetrics(base, stackMetrics, first.id);
  p.binary = cpu?.binary ?? r.bin.identity;
  if (r.target ?? cpu?.target) p.target = r.target ?? cpu?.target;
  if (r.startTimeMs !== undefined) p.startTimeMs = r.startTimeMs;
  const ended = cpu?.ended;
  if (ended) p.ended = ended;
  else if (endedBy === 'stop' || endedBy === 'target-exited' || endedBy === 'duration')
    p.ended = { by: endedBy, afterSec: durationSec, requestedSec: r.requestedSec };
  if (waitLines.length) p.waitLines = waitLines;
  if (cpu?.missingCallerSamples !== undefined) p.missingCallerSamples = cpu.missingCallerSamples;
  if (warnings.length) p.warnings = warnings;
  return p;
}
