/**
 * Number formatting for the editor: compact counts (1.3k), durations (1.2 µs), percentages,
 * and the after-line figure "4.2% · 1.3k". Pure: no vscode import, so it unit-tests in Node.
 */

/**
 * `n` in the largest of `units` (largest first) it reaches: two significant figures below 10
 * ("1.3k"), whole numbers above ("83k"); undefined below the smallest unit.
 */
export function formatScaled(n: number, units: readonly (readonly [number, string])[]): string | undefined {
  const a = Math.abs(n);
  for (const [div, suffix] of units) {
    if (a >= div) {
      const v = n / div;
      return (Math.abs(v) < 9.95 ? v.toFixed(1).replace(/\.0$/, '') : String(Math.round(v))) + suffix;
    }
  }
  return undefined;
}

const COUNT_UNITS = [
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
] as const;

/** 950 → "950", 1340 → "1.3k", 83000 → "83k", 1.2e6 → "1.2M". */
export function formatCount(n: number): string {
  return formatScaled(n, COUNT_UNITS) ?? String(Math.round(n));
}

/** A rate per second: one decimal below 10 ("6.5"), else as a count ("83k"). */
export function formatRate(perSecond: number): string {
  return perSecond < 9.95 ? perSecond.toFixed(1).replace(/\.0$/, '') : formatCount(perSecond);
}

/** Nanoseconds to a short human duration: "850 ns", "1.2 µs", "4.1 ms", "2.5 s". */
export function formatDuration(nanos: number): string {
  const a = Math.abs(nanos);
  const scales: [number, string][] = [
    [1e9, 's'],
    [1e6, 'ms'],
    [1e3, 'µs'],
  ];
  for (const [div, unit] of scales) {
    if (a >= div) return `${trimNumber(nanos / div)} ${unit}`;
  }
  return `${Math.round(nanos)} ns`;
}

/** Labels for log2 histogram bucket bounds: "1µs", "512µs", "2ms" (no space, to stay narrow). */
export function formatDurationShort(nanos: number): string {
  return formatDuration(nanos).replace(' ', '');
}

function trimNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 100) return String(Math.round(v));
  if (a >= 10) return v.toFixed(1).replace(/\.0$/, '');
  return v.toFixed(1).replace(/\.0$/, '');
}

/** A share in [0, 1] as "4.2%"; tiny non-zero shares as "<0.1%". */
export function formatPercent(share: number): string {
  if (share > 0 && share < 0.0005) return '<0.1%';
  const p = share * 100;
  return `${p >= 99.95 ? '100' : p.toFixed(1)}%`;
}

/** A signed share change in percentage points: "+1.2 pp", "−0.4 pp". */
export function formatDeltaPercent(delta: number): string {
  const p = delta * 100;
  const sign = p > 0 ? '+' : p < 0 ? '−' : '±';
  return `${sign}${Math.abs(p).toFixed(1)} pp`;
}

/** A change of share: "3.7% → 9.1% (+5.4 pp)". */
export function formatShareChange(before: number, after: number): string {
  return `${formatPercent(before)} → ${formatPercent(after)} (${formatDeltaPercent(after - before)})`;
}

export type LineFigureAmount = 'samples' | 'time' | 'none';

/**
 * The figure after a hot line: "4.2% · 1.3k" (samples), "4.2% · 13 ms" (time) or "4.2%"; with
 * `selfSamples` (cumulative figures), "39.5% (self 0.8%) · 1.3k".
 * `nanosPerSample` is undefined when the event is not time-based; then time falls back to samples.
 * `inUnit`: for metrics that are not CPU samples, the amount in their own unit ("1.2 MB", "3.2 s"),
 * shown whenever an amount is ("samples" and "time" alike).
 */
export function formatLineFigure(
  samples: number,
  totalSamples: number,
  amount: LineFigureAmount,
  nanosPerSample?: number,
  selfSamples?: number,
  inUnit?: (value: number) => string,
): string {
  let pct = formatPercent(totalSamples > 0 ? samples / totalSamples : 0);
  // Cumulative figures name the line's own share too where it differs (pprof's flat and cum).
  if (selfSamples !== undefined) {
    const self = formatPercent(totalSamples > 0 ? selfSamples / totalSamples : 0);
    if (self !== pct) pct += ` (self ${self})`;
  }
  if (amount === 'none') return pct;
  if (inUnit) return `${pct} · ${inUnit(samples)}`;
  if (amount === 'time' && nanosPerSample !== undefined) return `${pct} · ${formatDuration(samples * nanosPerSample)}`;
  return `${pct} · ${formatCount(samples)}`;
}
