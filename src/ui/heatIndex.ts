/**
 * Line heat, indexed for the question the editor asks: "what is hot in this file?".
 * Built once per profile (file → line → counts); each visible editor then asks for its file's
 * decorations, computed lazily and cached per file. Pure: no vscode import (the benchmark and
 * unit tests run it in Node).
 */
import type { LineStat, Profile } from '../model/profile';
import { shownMetric } from '../model/metrics';
import { formatLineFigure, type LineFigureAmount } from './format';
import { formatMetricAmount, isSampleMetric } from './metricText';

export interface LineCounts {
  selfSamples: number;
  cumSamples: number;
  /** The model's entries that fell on this line (several when inlined copies share it). */
  stats: LineStat[];
}

export interface HeatOptions {
  /** Which count scales the tint and the figure. */
  basis: 'self' | 'cumulative';
  /** Whether to draw the after-line figure at all. */
  showFigure: boolean;
  amount: LineFigureAmount;
  /** Lines below this share of all samples get no heat. */
  threshold: number;
}

export const HEAT_LEVELS = 5;

export interface LineHeat {
  line1: number;
  /** 1..HEAT_LEVELS, how strongly to tint. */
  level: number;
  /** Share of all samples by the chosen basis. */
  share: number;
  /** "4.2% · 1.3k" (self), "39.5% (self 0.8%) · 1.3k" (cumulative), or '' when figures are off. */
  figure: string;
  counts: LineCounts;
}

/** Resolves a file name recorded in the binary to a local path (or undefined when unknown). */
export type FileResolver = (recordedFile: string) => string | undefined;

export class HeatIndex {
  private readonly byFile = new Map<string, Map<number, LineCounts>>();
  private readonly heatCache = new Map<string, LineHeat[]>();
  /** The largest line share in the profile for each basis: the top of the tint scale. */
  readonly maxShare: { self: number; cumulative: number };

  constructor(
    readonly profile: Profile,
    resolve: FileResolver,
  ) {
    let maxSelf = 0;
    let maxCum = 0;
    const total = Math.max(profile.totalSamples, 1);
    for (const stat of profile.lines) {
      if (stat.line1 <= 0) continue;
      const local = resolve(stat.file);
      if (local === undefined) continue;
      let lines = this.byFile.get(local);
      if (!lines) this.byFile.set(local, (lines = new Map()));
      let c = lines.get(stat.line1);
      if (!c) lines.set(stat.line1, (c = { selfSamples: 0, cumSamples: 0, stats: [] }));
      c.selfSamples += stat.selfSamples;
      // Inlined copies of one line in several callers are distinct samples: they add up.
      c.cumSamples += stat.cumSamples;
      c.stats.push(stat);
      maxSelf = Math.max(maxSelf, c.selfSamples / total);
      maxCum = Math.max(maxCum, c.cumSamples / total);
    }
    this.maxShare = { self: maxSelf, cumulative: maxCum };
  }

  files(): string[] {
    return [...this.byFile.keys()];
  }

  linesOf(localFile: string): ReadonlyMap<number, LineCounts> | undefined {
    return this.byFile.get(localFile);
  }

  /** Decorations for one file, cached until the options change (callers make a new index per profile). */
  heatFor(localFile: string, options: HeatOptions): LineHeat[] {
    const key = `${localFile}\0${options.basis}\0${options.showFigure}\0${options.amount}\0${options.threshold}`;
    let heat = this.heatCache.get(key);
    if (!heat) {
      const lines = this.byFile.get(localFile);
      heat = lines ? computeLineHeat(lines, this.profile, options, this.maxShare[options.basis]) : [];
      this.heatCache.set(key, heat);
    }
    return heat;
  }
}

/** Nanoseconds one sample stands for, when the event measures time (CPU samples; 1 for metrics counted in nanoseconds). */
export function nanosPerSample(profile: Profile): number | undefined {
  return profile.event.unit === 'nanoseconds' ? profile.event.periodPerSample : undefined;
}

/**
 * The pure decoration computation for one file: which lines, how hot, what figure.
 * Tint levels are logarithmic between the threshold and the profile's hottest line, so a
 * 0.5% line is still visible next to a 40% one.
 */
export function computeLineHeat(
  lines: ReadonlyMap<number, LineCounts>,
  profile: Profile,
  options: HeatOptions,
  maxShare: number,
): LineHeat[] {
  const total = profile.totalSamples;
  if (total <= 0) return [];
  const nps = nanosPerSample(profile);
  const metric = shownMetric(profile);
  const inUnit = isSampleMetric(metric) ? undefined : (v: number): string => formatMetricAmount(v, metric);
  const threshold = Math.max(options.threshold, 1e-9);
  const top = Math.max(maxShare, threshold);
  const span = Math.log(top / threshold);
  const out: LineHeat[] = [];
  for (const [line1, counts] of lines) {
    const samples = options.basis === 'self' ? counts.selfSamples : counts.cumSamples;
    const share = samples / total;
    if (samples <= 0 || share < options.threshold) continue;
    const level =
      span > 0 ? Math.min(HEAT_LEVELS, Math.max(1, Math.ceil((HEAT_LEVELS * Math.log(share / threshold)) / span))) : HEAT_LEVELS;
    out.push({
      line1,
      level,
      share,
      figure: options.showFigure
        ? formatLineFigure(samples, total, options.amount, nps, options.basis === 'cumulative' ? counts.selfSamples : undefined, inUnit)
        : '',
      counts,
    });
  }
  out.sort((a, b) => a.line1 - b.line1);
  return out;
}
