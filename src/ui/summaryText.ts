/**
 * The words and Markdown the editor shows: code-lens titles, hover texts, the tree's
 * descriptions, the status-bar text. Pure: no vscode import (vscode wraps these strings).
 */
import { shownMetric } from '../model/metrics';
import type { FunctionLatency, FunctionStat, MetricInfo, Profile } from '../model/profile';
import { companionValues, formatMetricAmount, isSampleMetric, metricFigure, metricWord } from './metricText';
import { formatCount, formatDeltaPercent, formatDuration, formatPercent, formatRate, formatShareChange } from './format';
import { histogramSvg, svgDataUri } from './histogramSvg';
import type { LineCounts } from './heatIndex';
import { shortFuncName } from './funcDecl';
import type { SelfCumDelta } from './profileDiff';

/** What one sample is called in the UI: "cycles", or "CPU time" when perf fell back to cpu-clock; other metrics by their label ("allocated bytes"). */
export function eventLabel(profile: Profile): string {
  const m = shownMetric(profile);
  if (!isSampleMetric(m)) return m.label;
  const n = profile.event.name.replace(/:.*$/, '');
  if (n === 'cpu-clock' || n === 'task-clock') return 'CPU time';
  return n;
}

export function callsPerSecond(lat: FunctionLatency): number | undefined {
  return lat.durationNanos > 0 ? lat.calls / (lat.durationNanos / 1e9) : undefined;
}

/**
 * "12.4% CPU (self 3.1%) · 83k calls/s · p50 1.2 µs · p99 4.1 ms" — only the parts that have data.
 * Against a baseline: "3.9% → 9.5% CPU (+5.6 pp) · self 0.8% → 1.0%", "(within noise)" when the
 * change is no larger than two recordings of the same program differ by.
 * Other metrics lead with their amount and their companion's: "1.2 GB/s alloc · 3.4M obj/s ·
 * 12.4% (self 3.1%)", "blocked 3.2 s · 41k waits · 12.4% (self 3.1%)"; diffs say "alloc", "blocked".
 */
export function codeLensTitle(
  profile: Profile | undefined,
  fn: FunctionStat | undefined,
  lat: FunctionLatency | undefined,
  diff?: SelfCumDelta,
): string {
  const parts: string[] = [];
  const m = profile && shownMetric(profile);
  const word = m ? metricWord(m) : 'CPU';
  if (diff && (diff.cum.current > 0 || diff.cum.baseline > 0)) {
    parts.push(
      `${formatPercent(diff.cum.baseline)} → ${formatPercent(diff.cum.current)} ${word} (${diff.cum.significant ? formatDeltaPercent(diff.cum.delta) : 'within noise'})`,
    );
    parts.push(`self ${formatPercent(diff.self.baseline)} → ${formatPercent(diff.self.current)}`);
  } else if (profile && m && fn && profile.totalSamples > 0 && fn.cumSamples > 0) {
    const shares = `${formatPercent(fn.cumSamples / profile.totalSamples)}`;
    const self = `(self ${formatPercent(fn.selfSamples / profile.totalSamples)})`;
    if (isSampleMetric(m)) parts.push(`${shares} CPU ${self}`);
    else {
      parts.push(metricFigure(fn.cumSamples, m, profile.durationNanos));
      const c = companionValues(profile, { fn });
      if (c) parts.push(metricFigure(c.cum, c.metric, profile.durationNanos, true));
      parts.push(`${shares} ${self}`);
    }
  }
  if (lat) {
    const rate = callsPerSecond(lat);
    if (rate !== undefined) parts.push(`${formatRate(rate)} calls/s`);
    if (lat.calls > 0) parts.push(`p50 ${formatDuration(lat.p50Nanos)}`, `p99 ${formatDuration(lat.p99Nanos)}`);
  }
  return parts.join(' · ');
}

/**
 * Hover Markdown for a traced function: the histogram image with p50 and p99 marked, then count,
 * rate, percentiles, unmatched calls and the traced window in one row, and the CPU share beside
 * (`cpu`: the code lens's CPU text, when the profile has samples of it). The times are
 * wall-clock: from entry to return, waiting included.
 */
export function latencyHoverMarkdown(lat: FunctionLatency, cpu?: string): string {
  const rate = callsPerSecond(lat);
  const name = escapeMd(shortFuncName(lat.function));
  const lines = [`**${name}** — wall-clock time per call, from entry to return: waiting (locks, I/O, the scheduler) included`, ''];
  if (lat.buckets.some((b) => b.count > 0)) {
    const markers: Record<string, number> = lat.calls > 0 ? { p50: lat.p50Nanos, p99: lat.p99Nanos } : {};
    lines.push(`![latency histogram of ${name}](${svgDataUri(histogramSvg(lat.buckets, { markers }))})`, '');
  }
  lines.push(
    `| calls | rate | p50 | p90 | p99 | mean | unmatched | traced for |`,
    `|---:|---:|---:|---:|---:|---:|---:|---:|`,
    `| ${formatCount(lat.calls)} | ${rate !== undefined ? `${formatRate(rate)}/s` : '—'} | ${formatDuration(lat.p50Nanos)} | ${formatDuration(lat.p90Nanos)} | ${formatDuration(lat.p99Nanos)} | ${lat.calls > 0 ? formatDuration(lat.sumNanos / lat.calls) : '—'} | ${formatCount(lat.unmatched)} | ${lat.durationNanos > 0 ? formatDuration(lat.durationNanos) : '—'} |`,
  );
  if (cpu) lines.push('', `CPU (sampled, on-CPU time only): ${cpu}`);
  if (lat.unmatched > 0)
    lines.push(
      '',
      `_${formatCount(lat.unmatched)} calls had no matching return (panic, Goexit, or still running when the trace ended): they are not in the percentiles._`,
    );
  return lines.join('\n');
}

/** Hover Markdown for a hot line: samples, share, and where it ran inlined. */
export function lineHoverMarkdown(profile: Profile, counts: LineCounts, stale?: string, diff?: SelfCumDelta): string {
  const total = Math.max(profile.totalSamples, 1);
  const label = eventLabel(profile);
  const m = shownMetric(profile);
  const nps = profile.event.unit === 'nanoseconds' ? profile.event.periodPerSample : undefined;
  const amount = (n: number): string =>
    !isSampleMetric(m)
      ? formatMetricAmount(n, m)
      : nps !== undefined
        ? `${formatCount(n)} samples ≈ ${formatDuration(n * nps)}`
        : `${formatCount(n)} samples`;
  const lines = [
    `**Go Perf Lens** — ${escapeMd(label)}`,
    '',
    `self: ${amount(counts.selfSamples)} (${formatPercent(counts.selfSamples / total)})  `,
    `with callees: ${amount(counts.cumSamples)} (${formatPercent(counts.cumSamples / total)})`,
  ];
  // The companion metric beside (objects beside bytes, waits beside blocked time), summed over the line's entries.
  const comp = counts.stats.map((line) => companionValues(profile, { line })).filter((c) => c !== undefined);
  if (comp.length) {
    const cm = comp[0]!.metric;
    const self = comp.reduce((n, c) => n + c.self, 0);
    const cum = comp.reduce((n, c) => n + c.cum, 0);
    lines.push(`${cm.label}: self ${formatMetricAmount(self, cm)}, with callees ${formatMetricAmount(cum, cm)}`);
  }
  if (!isSampleMetric(m) && !m.snapshot && profile.durationNanos > 0)
    lines.push(
      `over ${formatDuration(profile.durationNanos)} recorded: ${metricFigure(counts.selfSamples, m, profile.durationNanos)} here (self)`,
    );
  if (diff) {
    const noise = (d: SelfCumDelta['cum']): string => (d.significant ? '' : ' — within sampling noise');
    lines.push(
      '',
      `against the baseline, with callees: ${formatShareChange(diff.cum.baseline, diff.cum.current)}${noise(diff.cum)}  `,
      `self: ${formatShareChange(diff.self.baseline, diff.self.current)}${noise(diff.self)}`,
    );
  }
  const fns = new Set(counts.stats.map((s) => s.function));
  if (fns.size) lines.push('', `in ${[...fns].map((f) => '`' + shortFuncName(f) + '`').join(', ')}`);
  for (const s of counts.stats) {
    if (s.inlinedInto && s.inlinedInto.length) {
      lines.push('', `inlined into ${s.inlinedInto.map((f) => '`' + shortFuncName(f) + '`').join(' → ')} (${amount(s.selfSamples)})`);
    }
  }
  if (stale) lines.push('', `$(warning) ${escapeMd(stale)}`);
  return lines.join('\n');
}

/**
 * Why a pinned baseline is not compared: it does not measure the metric shown (a CPU baseline
 * against an allocation profile, a block profile's against a mutex profile's). A difference only
 * subtracts like from like, so the views show the profile alone and say so.
 */
export function notComparedText(baselineLabel: string, baselineMetrics: readonly MetricInfo[], shown: MetricInfo): string {
  const has = baselineMetrics.map((m) => m.label).join(', ');
  return `Baseline "${baselineLabel}" measures ${has}, not ${shown.label}: nothing is compared (a difference needs the same metric in both); the views show this profile alone.`;
}

/** Status bar: "$(flame) CPU time · 12.3k samples · 10 s". */
export function statusText(profile: Profile): string {
  if (profile.totalSamples === 0 && profile.source === 'ebpf') {
    const n = profile.latency?.length ?? 0;
    return `$(watch) ${n} traced function${n === 1 ? '' : 's'}${profile.sched ? ' · sched' : ''}${profile.syscalls ? ' · syscalls' : ''}`;
  }
  const m = shownMetric(profile);
  if (isSampleMetric(m))
    return `$(flame) ${eventLabel(profile)} · ${formatCount(profile.totalSamples)} samples · ${formatDuration(profile.durationNanos)}`;
  // A heap or goroutine snapshot has no duration.
  const over = profile.durationNanos > 0 ? ` · ${formatDuration(profile.durationNanos)}` : '';
  return `$(flame) ${eventLabel(profile)} · ${formatMetricAmount(profile.totalSamples, m)}${over}`;
}

/** The tree's description for a function row: "self 3.1% · cum 12.4%". */
export function functionDescription(profile: Profile, fn: FunctionStat): string {
  const total = Math.max(profile.totalSamples, 1);
  const m = shownMetric(profile);
  const amount = isSampleMetric(m) ? '' : ` · ${formatMetricAmount(fn.cumSamples, m)}`;
  return `self ${formatPercent(fn.selfSamples / total)} · cum ${formatPercent(fn.cumSamples / total)}${amount}`;
}

/** A plain-text line for "Copy as text". */
export function functionAsText(profile: Profile, fn: FunctionStat): string {
  const where = fn.file ? ` (${fn.file}${fn.line1 ? `:${fn.line1}` : ''})` : '';
  const m = shownMetric(profile);
  const of = isSampleMetric(m)
    ? `${fn.selfSamples}/${fn.cumSamples} of ${profile.totalSamples} samples`
    : `${formatMetricAmount(fn.selfSamples, m)}/${formatMetricAmount(fn.cumSamples, m)} of ${formatMetricAmount(profile.totalSamples, m)} ${m.label}`;
  return `${fn.name}${where}\t${functionDescription(profile, fn)}\t${of}`;
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+!|<>]/g, (c) => '\\' + c);
}
