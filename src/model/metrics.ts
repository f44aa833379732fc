/**
 * Profiles that measure several things (see profile.ts): which metrics a profile has, which one
 * its samples fields show, switching to another (withMetric), and building a metric's values
 * from per-stack counts (attachMetrics, metricValuesFromStacks) so every ingest path — pprof
 * imports, the eBPF allocation and blocking recordings — makes them the same way. Pure data in,
 * new data out: the profile given is never changed.
 */
import type { CallTree, EventInfo, MetricInfo, MetricValues, Profile } from './profile';

/** pprof sample types that are not CPU: an older single-metric profile with one of them as its event keeps that id. */
const NON_CPU_EVENTS = new Set(['alloc_space', 'alloc_objects', 'inuse_space', 'inuse_objects', 'contentions', 'delay', 'goroutine']);

/** The metric a profile without a `metrics` list carries: its event (CPU samples for every recording of ours). */
function impliedMetric(p: Profile): MetricInfo {
  const cpu = !NON_CPU_EVENTS.has(p.event.name);
  const m: MetricInfo = {
    id: cpu ? 'cpu' : p.event.name,
    label: cpu ? 'CPU' : p.event.name,
    measures: cpu ? 'cpu' : 'other',
    event: p.event,
    total: p.totalSamples,
  };
  if (p.unattributedSamples) m.unattributed = p.unattributedSamples;
  return m;
}

/** Every metric of the profile, in its own order. */
export function metricsOf(p: Profile): MetricInfo[] {
  return p.metrics && p.metrics.length > 0 ? p.metrics : [impliedMetric(p)];
}

/** The metric whose values the samples fields hold. */
export function shownMetric(p: Profile): MetricInfo {
  const ms = metricsOf(p);
  return (p.metric !== undefined ? ms.find((m) => m.id === p.metric) : undefined) ?? ms[0]!;
}

/** The number of samples a share of the shown metric rests on (the baseline diff's noise test). */
export function noiseSamples(p: Profile): number {
  const m = shownMetric(p);
  return m.samples ?? p.totalSamples;
}

/** A metric's values: from the samples fields for the shown one, else from metricValues; undefined when the profile lacks it. */
export function valuesOf(p: Profile, id: string): MetricValues | undefined {
  if (shownMetric(p).id !== id) return p.metricValues?.[id];
  const v: MetricValues = {
    functionSelf: p.functions.map((f) => f.selfSamples),
    functionCum: p.functions.map((f) => f.cumSamples),
    lineSelf: p.lines.map((l) => l.selfSamples),
    lineCum: p.lines.map((l) => l.cumSamples),
    treeSelf: p.callTree.selfSamples.slice(),
    treeTotal: p.callTree.totalSamples.slice(),
  };
  if (p.stacks) v.stackCounts = p.stacks.counts.slice();
  return v;
}

/**
 * The same profile showing metric `id`: its values in the samples fields, its event and total,
 * the call tree's children ordered by it (heaviest first, as ingest orders them). Returns the
 * profile itself when it already shows `id`, undefined when it does not have it.
 */
export function withMetric(p: Profile, id: string): Profile | undefined {
  const cur = shownMetric(p);
  if (cur.id === id) return p;
  const target = metricsOf(p).find((m) => m.id === id);
  const values = p.metricValues?.[id];
  if (!target || !values) return undefined;
  const others: Record<string, MetricValues> = { ...p.metricValues };
  delete others[id];
  others[cur.id] = valuesOf(p, cur.id)!;
  return show(p, target, values, others);
}

/** Puts `values` of metric `m` into the samples fields; `others` keeps every other metric's values. */
function show(p: Profile, m: MetricInfo, values: MetricValues, others: Record<string, MetricValues>): Profile {
  const order = preorderBy(p.callTree.parents, values.treeTotal);
  const permute = (a: readonly number[]): number[] => order.map((o) => a[o]!);
  const newIndex = new Int32Array(order.length);
  order.forEach((o, i) => (newIndex[o] = i));
  const t = p.callTree;
  const callTree: CallTree = {
    parents: order.map((o) => (t.parents[o]! >= 0 ? newIndex[t.parents[o]!]! : -1)),
    functions: permute(t.functions),
    callLines: permute(t.callLines),
    totalSamples: permute(values.treeTotal),
    selfSamples: permute(values.treeSelf),
  };
  const metricValues: Record<string, MetricValues> = {};
  for (const [k, v] of Object.entries(others)) metricValues[k] = { ...v, treeSelf: permute(v.treeSelf), treeTotal: permute(v.treeTotal) };
  const out: Profile = {
    ...p,
    event: m.event,
    totalSamples: m.total,
    unattributedSamples: m.unattributed ?? 0,
    functions: p.functions.map((f, i) => ({ ...f, selfSamples: values.functionSelf[i]!, cumSamples: values.functionCum[i]! })),
    lines: p.lines.map((l, i) => ({ ...l, selfSamples: values.lineSelf[i]!, cumSamples: values.lineCum[i]! })),
    callTree,
    metrics: metricsOf(p),
    metric: m.id,
    metricValues,
  };
  if (p.stacks) out.stacks = { ...p.stacks, counts: values.stackCounts ?? p.stacks.counts.map(() => 0) };
  return out;
}

/**
 * The pre-order layout of a tree (parents[i] < i) with each node's children by `total`,
 * heaviest first (ties: the old order): the old index of each new position.
 */
function preorderBy(parents: readonly number[], total: readonly number[]): number[] {
  const n = parents.length;
  const kids: number[][] = Array.from({ length: n }, () => []);
  const roots: number[] = [];
  for (let i = 0; i < n; i++) (parents[i]! >= 0 ? kids[parents[i]!]! : roots).push(i);
  const byTotal = (a: number, b: number): number => total[b]! - total[a]! || a - b;
  const order: number[] = [];
  const stack = roots.sort(byTotal).reverse();
  while (stack.length) {
    const i = stack.pop()!;
    order.push(i);
    const ks = kids[i]!.sort(byTotal);
    for (let k = ks.length - 1; k >= 0; k--) stack.push(ks[k]!);
  }
  return order;
}

/**
 * A metric's values from a count per stack (aligned with p.stacks.stacks), counted the way
 * ingest's aggregation counts samples: self on the innermost frame that has a function,
 * cumulative once per stack for each function and line on it, the call tree along the stack's
 * inline-expanded frames. The profile must keep its stacks, and its tree must be theirs.
 */
export function metricValuesFromStacks(
  p: Pick<Profile, 'functions' | 'lines' | 'callTree' | 'stacks'>,
  counts: readonly number[],
): MetricValues {
  const st = p.stacks;
  if (!st) throw new Error('metricValuesFromStacks: the profile keeps no stacks');
  if (counts.length !== st.stacks.length) throw new Error(`metricValuesFromStacks: ${counts.length} counts for ${st.stacks.length} stacks`);
  const nf = p.functions.length;
  const lineIndex = new Map<string, number>();
  p.lines.forEach((l, i) => lineIndex.set(`${l.file}\0${l.line1}`, i));
  const t = p.callTree;
  const child = new Map<number, number>();
  for (let i = 0; i < t.parents.length; i++) child.set((t.parents[i]! + 1) * nf + t.functions[i]!, i);
  // Per location: its frames' function and line indexes, innermost first.
  const locFns = st.locations.map((l) => l.frames.map((f) => f.function));
  const locLines = st.locations.map((l) =>
    l.frames.map((f) => {
      const file = f.file ?? p.functions[f.function]?.file ?? '';
      const li = lineIndex.get(`${file}\0${f.line1}`);
      if (li === undefined) throw new Error(`metricValuesFromStacks: no line ${file}:${f.line1} in the profile`);
      return li;
    }),
  );
  const v: MetricValues = {
    functionSelf: new Array<number>(nf).fill(0),
    functionCum: new Array<number>(nf).fill(0),
    lineSelf: new Array<number>(p.lines.length).fill(0),
    lineCum: new Array<number>(p.lines.length).fill(0),
    treeSelf: new Array<number>(t.parents.length).fill(0),
    treeTotal: [],
    stackCounts: counts.slice(),
  };
  const fnStamp = new Int32Array(nf).fill(-1);
  const lineStamp = new Int32Array(p.lines.length).fill(-1);
  st.stacks.forEach((stack, s) => {
    const c = counts[s]!;
    if (c === 0) return;
    let leafSeen = false;
    for (const loc of stack) {
      const fns = locFns[loc]!;
      const lines = locLines[loc]!;
      if (fns.length > 0 && !leafSeen) {
        leafSeen = true;
        v.functionSelf[fns[0]!]! += c;
        v.lineSelf[lines[0]!]! += c;
      }
      for (let k = 0; k < fns.length; k++) {
        if (fnStamp[fns[k]!] !== s) {
          fnStamp[fns[k]!] = s;
          v.functionCum[fns[k]!]! += c;
        }
        if (lineStamp[lines[k]!] !== s) {
          lineStamp[lines[k]!] = s;
          v.lineCum[lines[k]!]! += c;
        }
      }
    }
    // The tree path: root first, each location's inline chain outer → inner.
    let node = -1;
    for (let j = stack.length - 1; j >= 0; j--) {
      const fns = locFns[stack[j]!]!;
      for (let k = fns.length - 1; k >= 0; k--) {
        const next = child.get((node + 1) * nf + fns[k]!);
        if (next === undefined) throw new Error('metricValuesFromStacks: a stack leaves the call tree');
        node = next;
      }
    }
    if (node >= 0) v.treeSelf[node]! += c;
  });
  v.treeTotal = v.treeSelf.slice();
  for (let i = t.parents.length - 1; i >= 0; i--) if (t.parents[i]! >= 0) v.treeTotal[t.parents[i]!]! += v.treeTotal[i]!;
  return v;
}

/** One metric for attachMetrics: what it is, and its count for each of the profile's stacks. */
export interface StackMetric {
  info: MetricInfo;
  stackCounts: readonly number[];
}

/**
 * A profile carrying several metrics, from one whose stacks (and so functions, lines and tree)
 * cover every stack any metric counts — for example aggregated with a count of 1 per distinct
 * stack — and each metric's counts per stack. `shown` (default: the first) goes in the
 * samples fields. This is how ingest makes multi-metric profiles.
 */
export function attachMetrics(base: Profile, metrics: readonly StackMetric[], shown?: string): Profile {
  if (metrics.length === 0) throw new Error('attachMetrics: no metrics');
  const ids = new Set(metrics.map((m) => m.info.id));
  if (ids.size !== metrics.length) throw new Error('attachMetrics: two metrics with one id');
  const first = metrics.find((m) => m.info.id === shown) ?? metrics[0]!;
  const others: Record<string, MetricValues> = {};
  for (const m of metrics) if (m !== first) others[m.info.id] = metricValuesFromStacks(base, m.stackCounts);
  const withList: Profile = { ...base, metrics: metrics.map((m) => m.info) };
  return show(withList, first.info, metricValuesFromStacks(base, first.stackCounts), others);
}

/** An EventInfo for metric values that are amounts in `unit` themselves (one value = one unit). */
export function unitEvent(name: string, unit: EventInfo['unit']): EventInfo {
  return { name, unit, periodPerSample: 1 };
}
