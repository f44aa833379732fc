/**
 * Go's block and mutex profiles have the same sample types (contentions, delay) and nothing in
 * the pprof file says which of the two it is. They measure different things — where goroutines
 * waited (block) and which unlock made others wait (mutex) — so a profile of either kind gets
 * its own metric ids ("block_delay" and "mutex_delay", "block_contentions" and
 * "mutex_contentions"): the switch names them apart, and a baseline diff never subtracts one
 * from the other. The kind is read from where the delay was charged: every sample of a mutex
 * profile ends in an unlock (sync.(*Mutex).Unlock, RWMutex's Unlock/RUnlock, the runtime's own
 * unlock, runtime._LostContendedRuntimeLock), no sample of a block profile does. A profile
 * without samples falls back to its name (an endpoint's path, a file's name), else keeps the
 * generic ids "contentions" and "delay" — as sessions written before this distinction do until
 * they are read (parseSession tells them apart with this same rule).
 */
import { metricsOf, valuesOf } from './metrics';
import type { MetricInfo, MetricMeasure, MetricValues, Profile } from './profile';

export type ContentionKind = 'block' | 'mutex';

/** The generic ids a block or mutex profile's metrics have while its kind is unknown (pprof's sample type names). */
export const CONTENTION_TYPES = ['contentions', 'delay'] as const;

/** Label and measure of each kind's metrics, by pprof sample type. */
const KIND_METRICS: Record<ContentionKind, Record<(typeof CONTENTION_TYPES)[number], { label: string; measures: MetricMeasure }>> = {
  block: {
    delay: { label: 'Blocking: delay', measures: 'blocked-time' },
    contentions: { label: 'Blocking: contentions', measures: 'waits' },
  },
  mutex: {
    delay: { label: 'Mutex contention: delay', measures: 'lock-delay' },
    contentions: { label: 'Mutex contention: contentions', measures: 'waits' },
  },
};

const KIND_ID = /^(block|mutex)_(contentions|delay)$/;

/** The pprof sample type a metric id stands for: "delay" for "mutex_delay"; the id itself otherwise. */
export function contentionSampleType(id: string): string {
  return KIND_ID.exec(id)?.[2] ?? id;
}

/** The kind a metric id names ("mutex" for "mutex_delay"), if it names one. */
export function contentionKindOfId(id: string): ContentionKind | undefined {
  return KIND_ID.exec(id)?.[1] as ContentionKind | undefined;
}

/** Functions a mutex profile charges its delay to (sync's or, from Go 1.24, internal/sync's unlocks; the runtime's). */
const UNLOCK = /(?:^|\/)sync\.\(\*(?:RW)?Mutex\)\.(?:R?Unlock|unlockSlow|rUnlockSlow)$|^runtime\.(?:unlock\w*|_LostContendedRuntimeLock)$/;

/** Whether a function is where a mutex profile charges its delay. */
export function isUnlockFunction(name: string): boolean {
  return UNLOCK.test(name);
}

/** The kind a profile's name says ("…/debug/pprof/mutex", "mutex.pb.gz"), if it says one. */
export function contentionKindOfName(name: string | undefined): ContentionKind | undefined {
  if (!name) return undefined;
  const base =
    name
      .replace(/[?#].*$/, '')
      .split(/[\\/]/)
      .pop() ?? '';
  if (/mutex/i.test(base)) return 'mutex';
  if (/block/i.test(base)) return 'block';
  return undefined;
}

/** The kind by where the values were charged: the leaf functions' self values (unlocks against the rest); undefined for none. */
function kindOfValues(p: Profile, v: MetricValues): ContentionKind | undefined {
  let unlock = 0;
  let other = 0;
  p.functions.forEach((f, i) => {
    const self = v.functionSelf[i] ?? 0;
    if (isUnlockFunction(f.name)) unlock += self;
    else other += self;
  });
  if (unlock === other) return undefined;
  return unlock > other ? 'mutex' : 'block';
}

/**
 * The profile with its generic contention metrics ("contentions", "delay") renamed for its kind
 * (see the file comment), or the profile itself when it has none or its kind cannot be told.
 * `name`: where it came from, for profiles whose samples do not tell.
 */
export function distinguishContention(p: Profile, name?: string): Profile {
  const metrics = metricsOf(p);
  const generic = metrics.filter((m) => (CONTENTION_TYPES as readonly string[]).includes(m.id));
  if (generic.length === 0 || !p.metrics) return p;
  // Delay first: it weighs each site by how long it made goroutines wait.
  const basis = generic.find((m) => m.id === 'delay') ?? generic[0]!;
  const values = valuesOf(p, basis.id);
  const kind = (values && kindOfValues(p, values)) ?? contentionKindOfName(name);
  if (!kind) return p;
  const rename = (id: string): string => ((CONTENTION_TYPES as readonly string[]).includes(id) ? `${kind}_${id}` : id);
  const renamed = (m: MetricInfo): MetricInfo => {
    const known = KIND_METRICS[kind][m.id as (typeof CONTENTION_TYPES)[number]];
    if (!known) return m;
    const out: MetricInfo = { ...m, id: rename(m.id), label: known.label, measures: known.measures };
    if (m.companion !== undefined) out.companion = rename(m.companion);
    return out;
  };
  const out: Profile = { ...p, metrics: p.metrics.map(renamed) };
  if (p.metric !== undefined) out.metric = rename(p.metric);
  if (p.metricValues) out.metricValues = Object.fromEntries(Object.entries(p.metricValues).map(([id, v]) => [rename(id), v]));
  return out;
}
