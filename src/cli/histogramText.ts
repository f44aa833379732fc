/**
 * Log2 histograms drawn in the terminal the way BCC's funclatency draws them:
 *
 *          nsecs               : count     distribution
 *      65536 -> 131071         : 1982     |****************************************|
 */
import type { HistogramBucket } from '../model/profile';

const WIDTH = 40;

export function formatLog2Histogram(buckets: HistogramBucket[], unitLabel = 'nsecs'): string {
  const nonEmpty = buckets.filter((b) => b.count > 0).sort((a, b) => a.loNanos - b.loNanos);
  if (nonEmpty.length === 0) return '    (no events)\n';
  // Show every bucket between the first and the last non-empty one, as funclatency does.
  const lo = log2Slot(nonEmpty[0]!.loNanos);
  const hi = log2Slot(nonEmpty[nonEmpty.length - 1]!.loNanos);
  const counts = new Map(nonEmpty.map((b) => [log2Slot(b.loNanos), b.count]));
  const max = Math.max(...nonEmpty.map((b) => b.count));
  const rows: string[] = [];
  const w = Math.max(String(2 ** hi - 1).length, unitLabel.length) + 4;
  rows.push(`${unitLabel.padStart(w)}${' '.repeat(w + 4)}: count     distribution`);
  for (let s = lo; s <= hi; s++) {
    const start = s === 0 ? 0 : 2 ** (s - 1);
    const end = s === 0 ? 0 : 2 ** s - 1;
    const c = counts.get(s) ?? 0;
    const stars = max === 0 ? 0 : Math.round((c / max) * WIDTH);
    rows.push(`${String(start).padStart(w)} -> ${String(end).padEnd(w)}: ${String(c).padEnd(9)} |${'*'.repeat(stars).padEnd(WIDTH)}|`);
  }
  return `${rows.join('\n')}\n`;
}

/** BCC's slot for a bucket starting at lo: slot s covers [2^(s-1), 2^s), slot 0 is {0}. */
function log2Slot(lo: number): number {
  return lo === 0 ? 0 : Math.round(Math.log2(lo)) + 1;
}

/** 1234567 → "1.23 ms". */
export function formatNanos(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${Math.round(ns)} ns`;
}
