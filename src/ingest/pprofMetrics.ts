/**
 * What each pprof sample type measures, as a metric of the model: Go's CPU profile (samples,
 * cpu), heap and allocs (alloc_space, alloc_objects, inuse_space, inuse_objects), block and
 * mutex (contentions, delay: named for their kind afterwards, model/contentionKind.ts), goroutine;
 * any other type is kept under its own name and unit.
 */
import type { EventInfo, MetricInfo, MetricMeasure } from '../model/profile';
import type { PprofProfile } from '../formats/pprof';
import { contentionSampleType } from '../model/contentionKind';
import { UserError } from '../util/userError';
import { COMMENT_PREFIX } from './toPprof';

/** A comment our own export writes ("go-perf-lens event: cpu-clock"). */
export function comment(pp: PprofProfile, key: string): string | undefined {
  const c = pp.comments.find((x) => x.startsWith(`${COMMENT_PREFIX}${key}: `));
  return c?.slice(COMMENT_PREFIX.length + key.length + 2);
}

interface Known {
  id: string;
  label: string;
  measures: MetricMeasure;
  snapshot?: boolean;
  companion?: string;
}

/** Go's sample types, by type name. */
const KNOWN: Record<string, Known> = {
  samples: { id: 'cpu', label: 'CPU', measures: 'cpu' },
  cpu: { id: 'cpu_time', label: 'CPU time', measures: 'cpu' },
  alloc_space: { id: 'alloc_space', label: 'allocated bytes', measures: 'alloc-bytes', companion: 'alloc_objects' },
  alloc_objects: { id: 'alloc_objects', label: 'allocated objects', measures: 'alloc-objects', companion: 'alloc_space' },
  inuse_space: { id: 'inuse_space', label: 'in-use bytes', measures: 'inuse-bytes', snapshot: true, companion: 'inuse_objects' },
  inuse_objects: { id: 'inuse_objects', label: 'in-use objects', measures: 'inuse-objects', snapshot: true, companion: 'inuse_space' },
  contentions: { id: 'contentions', label: 'contentions', measures: 'waits', companion: 'delay' },
  delay: { id: 'delay', label: 'delay (blocked or waiting for a lock)', measures: 'blocked-time', companion: 'contentions' },
  goroutine: { id: 'goroutine', label: 'goroutines', measures: 'goroutines', snapshot: true },
};

function unitOf(unit: string): EventInfo['unit'] {
  return unit === 'nanoseconds' ? 'nanoseconds' : unit === 'bytes' ? 'bytes' : 'count';
}

/**
 * The index of the sample type shown first: the one asked for (by type or metric id), else
 * "samples", else the profile's default, else the last (go tool pprof's choice).
 */
export function chooseSampleType(pp: PprofProfile, asked: string | undefined): number {
  const types = pp.sampleTypes.map((t) => t.type);
  if (asked !== undefined) {
    // "mutex_delay" and "block_delay" ask for "delay" (the file itself does not say which kind it is).
    const type = contentionSampleType(asked);
    const i = types.findIndex((t) => t === type || KNOWN[t]?.id === type);
    if (i < 0)
      throw new UserError(`the pprof profile has no sample type "${asked}" (it has: ${types.join(', ')})`, undefined, 'pprof-sample-type');
    return i;
  }
  let i = types.indexOf('samples');
  if (i < 0 && pp.defaultSampleType) i = types.indexOf(pp.defaultSampleType);
  return i < 0 ? types.length - 1 : i;
}

/**
 * One metric per sample type, with its totals. Sampled kinds say how many samples their shares
 * rest on (the baseline diff's noise): CPU values over the period; heap bytes over the
 * profile's sampling rate (MemProfileRate: about one sampled allocation per period bytes);
 * block and mutex delays over their contentions.
 */
export function sampleTypeMetrics(pp: PprofProfile, totals: readonly number[], unattributed: readonly number[]): MetricInfo[] {
  const total = (type: string): number | undefined => {
    const i = pp.sampleTypes.findIndex((t) => t.type === type);
    return i < 0 ? undefined : totals[i];
  };
  const period = pp.period > 0 ? pp.period : 0;
  const seen = new Set<string>();
  return pp.sampleTypes.map((t, k) => {
    const known = KNOWN[t.type];
    let id = known?.id ?? t.type;
    // A type named twice (not Go's, but the format allows it) stays apart.
    if (seen.has(id)) id = `${id}#${k}`;
    seen.add(id);
    let event: EventInfo;
    if (t.type === 'samples') {
      // CPU samples: what one sample stands for comes from the period (or our own export's comments).
      const unit: EventInfo['unit'] =
        pp.periodType?.unit === 'nanoseconds' ? 'nanoseconds' : pp.periodType?.type === 'cycles' ? 'cycles' : 'count';
      event = { name: comment(pp, 'event') ?? pp.periodType?.type ?? 'samples', unit, periodPerSample: pp.period || 1 };
      if (unit === 'nanoseconds' && pp.period > 0) event.frequencyHz = Math.round(1e9 / pp.period);
      const fallback = comment(pp, 'fallback');
      if (fallback) event.fallbackReason = fallback;
    } else {
      event = { name: t.type, unit: unitOf(t.unit), periodPerSample: 1 };
    }
    const m: MetricInfo = {
      id,
      label: known?.label ?? `${t.type} (${t.unit})`,
      measures: known?.measures ?? 'other',
      event,
      total: totals[k]!,
    };
    if (unattributed[k]) m.unattributed = unattributed[k];
    if (known?.snapshot) m.snapshot = true;
    if (known?.companion && total(known.companion) !== undefined) m.companion = known.companion;
    const samples = noiseBasis(t.type, pp.periodType?.unit, period, totals[k]!, total);
    if (samples !== undefined) m.samples = samples;
    return m;
  });
}

function noiseBasis(
  type: string,
  periodUnit: string | undefined,
  period: number,
  value: number,
  total: (type: string) => number | undefined,
): number | undefined {
  if (type === 'samples') return undefined;
  if (type === 'cpu' && period > 0) return Math.max(1, Math.round(value / period));
  if (periodUnit === 'bytes' && period > 0) {
    const space = type.startsWith('inuse') ? total('inuse_space') : total('alloc_space');
    if (space !== undefined) return Math.max(1, Math.round(space / period));
  }
  if (type === 'delay' || type === 'contentions') return total('contentions');
  return type === 'goroutine' ? value : undefined;
}
