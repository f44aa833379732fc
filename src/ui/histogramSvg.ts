/**
 * A latency histogram as a small SVG bar chart, for Markdown hovers (as a data: image) and
 * webview panels. Buckets are the model's log2 buckets; labels are their lower bounds in
 * ns/µs/ms/s. Pure: no vscode import.
 */
import type { HistogramBucket } from '../model/profile';
import { formatCount, formatDurationShort } from './format';

export interface HistogramSvgOptions {
  width?: number;
  height?: number;
  /** Bar fill; hovers cannot read theme variables, so a mid-tone that reads on light and dark. */
  barColor?: string;
  textColor?: string;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** Buckets with their empty edges trimmed (keeping the empty ones in between, which carry meaning). */
export function trimBuckets(buckets: readonly HistogramBucket[]): HistogramBucket[] {
  let lo = 0;
  let hi = buckets.length - 1;
  while (lo <= hi && buckets[lo]!.count === 0) lo++;
  while (hi >= lo && buckets[hi]!.count === 0) hi--;
  return buckets.slice(lo, hi + 1);
}

export function histogramSvg(buckets: readonly HistogramBucket[], options: HistogramSvgOptions = {}): string {
  const shown = trimBuckets(buckets);
  const width = options.width ?? 360;
  const height = options.height ?? 120;
  const bar = options.barColor ?? '#e07b39';
  const text = options.textColor ?? '#888888';
  const labelH = 16;
  const countH = 12;
  const chartH = height - labelH - countH;
  const n = Math.max(shown.length, 1);
  const slot = width / n;
  const max = Math.max(1, ...shown.map((b) => b.count));
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="9">`);
  // Label every bucket when they fit, otherwise every k-th so the text never overlaps.
  const every = Math.max(1, Math.ceil(38 / slot));
  shown.forEach((b, i) => {
    const h = b.count > 0 ? Math.max(1, (b.count / max) * chartH) : 0;
    const x = i * slot + 1;
    const y = countH + chartH - h;
    const title = `${formatDurationShort(b.loNanos)}–${formatDurationShort(b.hiNanos)}: ${b.count}`;
    parts.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, slot - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${bar}"><title>${escapeXml(title)}</title></rect>`);
    if (b.count > 0 && slot >= 18) {
      parts.push(`<text x="${(x + slot / 2 - 1).toFixed(1)}" y="${(y - 2).toFixed(1)}" text-anchor="middle" fill="${text}">${escapeXml(formatCount(b.count))}</text>`);
    }
    if (i % every === 0) {
      parts.push(`<text x="${(x + slot / 2 - 1).toFixed(1)}" y="${height - 4}" text-anchor="middle" fill="${text}">${escapeXml(formatDurationShort(b.loNanos))}</text>`);
    }
  });
  parts.push(`<line x1="0" y1="${countH + chartH + 0.5}" x2="${width}" y2="${countH + chartH + 0.5}" stroke="${text}" stroke-width="0.5"/>`);
  parts.push('</svg>');
  return parts.join('');
}

/** An SVG as a data: URI that Markdown hovers accept as an image source. */
export function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}
