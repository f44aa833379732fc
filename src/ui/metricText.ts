/**
 * The words for a metric's figures: "1.2 GB/s alloc · 3.4M obj/s", "blocked 3.2 s · 41k waits",
 * "in use 120 MB", "42 goroutines". CPU samples keep their own wording elsewhere (shares,
 * samples, time through the period); every other metric is shown in its own unit. Pure: no
 * vscode import.
 */
import { contentionSampleType } from '../model/contentionKind';
import { shownMetric } from '../model/metrics';
import type { FunctionStat, LineStat, MetricInfo, Profile } from '../model/profile';
import { formatCount, formatDuration, formatScaled } from './format';

/** True for CPU samples (perf, eBPF, pprof's "samples"): figures stay samples, shares and time per sample. */
export function isSampleMetric(m: MetricInfo): boolean {
  return m.id === 'cpu';
}

/** 950 → "950 B", 1.34e6 → "1.3 MB", 2.5e9 → "2.5 GB" (decimal units, as go tool pprof's -unit=MB). */
export function formatBytes(n: number): string {
  return formatScaled(n, BYTE_UNITS) ?? `${Math.round(n)} B`;
}

const BYTE_UNITS = [
  [1e12, ' TB'],
  [1e9, ' GB'],
  [1e6, ' MB'],
  [1e3, ' kB'],
] as const;

/** What a count of this metric is called after the number ("obj", "waits"); '' for none. */
export function countNoun(m: MetricInfo): string {
  switch (m.measures) {
    case 'alloc-objects':
    case 'inuse-objects':
      return 'obj';
    case 'waits':
      return isContentions(m) ? 'contentions' : 'waits';
    case 'goroutines':
      return 'goroutines';
    case 'cpu':
      return 'samples';
    default:
      return '';
  }
}

/** pprof's contention counts (a block or mutex profile's), not the eBPF recording's waits. */
function isContentions(m: MetricInfo): boolean {
  return contentionSampleType(m.id) === 'contentions';
}

/** One amount of the metric in its unit: "1.2 MB", "3.2 s", "41k waits", "3.4M obj". */
export function formatMetricAmount(value: number, m: MetricInfo): string {
  const v = value * (m.event.periodPerSample || 1);
  if (m.event.unit === 'bytes') return formatBytes(v);
  if (m.event.unit === 'nanoseconds') return formatDuration(v);
  const noun = countNoun(m);
  return noun ? `${formatCount(isSampleMetric(m) ? value : v)} ${noun}` : formatCount(v);
}

/** The short word for the metric in shares and diffs: "CPU", "alloc", "in use", "blocked". */
export function metricWord(m: MetricInfo): string {
  switch (m.measures) {
    case 'cpu':
      return 'CPU';
    case 'alloc-bytes':
      return 'alloc';
    case 'alloc-objects':
      return 'alloc obj';
    case 'inuse-bytes':
      return 'in use';
    case 'inuse-objects':
      return 'in-use obj';
    case 'blocked-time':
      return 'blocked';
    case 'lock-delay':
      return 'lock delay';
    case 'waits':
      return isContentions(m) ? 'contentions' : 'waits';
    case 'goroutines':
      return 'goroutines';
    default:
      return m.label;
  }
}

/**
 * The figure of one amount as a lens or hover says it: per second for amounts over a recording
 * of known length ("1.2 GB/s alloc"), else the amount ("in use 120 MB", "blocked 3.2 s").
 * `beside`: the companion's wording, without the metric's word where the headline said it ("3.4M obj/s").
 */
export function metricFigure(value: number, m: MetricInfo, durationNanos: number, beside = false): string {
  const perSec = !m.snapshot && durationNanos > 0 && (m.measures === 'alloc-bytes' || m.measures === 'alloc-objects');
  const sec = durationNanos / 1e9;
  switch (m.measures) {
    case 'alloc-bytes':
      return `${perSec ? `${formatBytes(value / sec)}/s` : formatBytes(value)}${beside ? '' : ' alloc'}`;
    case 'alloc-objects':
      return `${perSec ? `${formatCount(value / sec)} obj/s` : `${formatCount(value)} obj`}${beside ? '' : ' alloc'}`;
    case 'inuse-bytes':
      return beside ? formatBytes(value) : `in use ${formatBytes(value)}`;
    case 'inuse-objects':
      return beside ? `${formatCount(value)} obj` : `in use ${formatCount(value)} obj`;
    case 'blocked-time':
      return `blocked ${formatDuration(value * (m.event.periodPerSample || 1))}`;
    case 'lock-delay':
      return `lock delay ${formatDuration(value * (m.event.periodPerSample || 1))}`;
    default:
      return formatMetricAmount(value, m);
  }
}

/** Self and cumulative values of another metric (the companion) for one function or line of the profile. */
export function companionValues(
  p: Profile,
  of: { fn: FunctionStat } | { line: LineStat },
): { metric: MetricInfo; self: number; cum: number } | undefined {
  const m = shownMetric(p);
  const cid = m.companion;
  const values = cid !== undefined ? p.metricValues?.[cid] : undefined;
  const metric = cid !== undefined ? p.metrics?.find((x) => x.id === cid) : undefined;
  if (!values || !metric) return undefined;
  if ('fn' in of) {
    const i = p.functions.indexOf(of.fn);
    return i < 0 ? undefined : { metric, self: values.functionSelf[i]!, cum: values.functionCum[i]! };
  }
  const i = p.lines.indexOf(of.line);
  return i < 0 ? undefined : { metric, self: values.lineSelf[i]!, cum: values.lineCum[i]! };
}
