/**
 * The blocking part of a line's hover: how long the waits at that line lasted (the histogram of
 * a blocking recording, as an SVG image) and why they waited (wait reasons by blocked time).
 * Pure: no vscode import.
 */
import type { LineStat, LineWaits, Profile } from '../model/profile';
import { formatCount, formatDuration, formatPercent } from './format';
import { histogramSvg, svgDataUri } from './histogramSvg';

/** The waits recorded at a line of the profile (by the profile's own file path), if any. */
export function waitsAt(profile: Profile, stats: readonly Pick<LineStat, 'file' | 'line1'>[]): LineWaits | undefined {
  const wl = profile.waitLines;
  if (!wl?.length) return undefined;
  for (const s of stats) {
    const w = wl.find((l) => l.line1 === s.line1 && l.file === s.file);
    if (w) return w;
  }
  return undefined;
}

/** "**Blocked here**: 1.0 s in 50 waits" + reasons + the wait-time histogram. */
export function waitHoverMarkdown(w: LineWaits): string {
  const reasons = Object.entries(w.reasons).sort((a, b) => b[1] - a[1]);
  const total = Math.max(w.blockedNanos, 1);
  const lines = [
    `**Blocked here**: ${formatDuration(w.blockedNanos)} in ${formatCount(w.waits)} wait${w.waits === 1 ? '' : 's'}${reasons.length ? ` · mostly ${reasons[0]![0]}` : ''}`,
    '',
  ];
  for (const [r, ns] of reasons) lines.push(`- ${r}: ${formatDuration(ns)} (${formatPercent(ns / total)})`);
  if (w.buckets.length) {
    lines.push(
      '',
      `![wait-time histogram of this line](${svgDataUri(histogramSvg(w.buckets))})`,
      '',
      'how long each wait lasted (waits per time range)',
    );
  }
  return lines.join('\n');
}
