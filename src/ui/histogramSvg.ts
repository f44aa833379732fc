/**
 * A latency histogram as a small SVG bar chart, for Markdown hovers (as a data: image) and
 * webview panels. Buckets are the model's log2 buckets on a contiguous axis (empty ones drawn as
 * gaps); labels are their lower bounds in ns/µs/ms/s; percentiles can be marked on it.
 * Pure: no vscode import.
 */
import type { HistogramBucket } from '../model/profile';
import { formatCount, formatDurationShort } from './format';

export interface HistogramSvgOptions {
  width?: number;
  height?: number;
  /** Bar fill; hovers cannot read theme variables, so a mid-tone that reads on light and dark. */
  barColor?: string;
  textColor?: string;
  /** Percentiles to mark with a line and a label on the axis, e.g. { p50: 1200, p99: 41000 } (nanoseconds). */
  markers?: Readonly<Record<string, number>>;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/**
 * Buckets on a contiguous time axis, with their empty edges trimmed. The tracer reports only
 * the non-empty log2 buckets; the empty ones between them are put back (as gaps), so 1 µs and
 * 1 ms are never drawn side by side as if they were neighbours.
 */
export function trimBuckets(buckets: readonly HistogramBucket[]): HistogramBucket[] {
  const sorted = buckets.filter((b) => b.count > 0).sort((a, b) => a.loNanos - b.loNanos);
  const out: HistogramBucket[] = [];
  for (const b of sorted) {
    const prev = out.at(-1);
    if (prev) {
      // Empty log2 buckets (each twice as wide as the last) up to this one.
      for (let lo = prev.hiNanos; lo < b.loNanos;) {
        const hi = Math.min(Math.max(lo * 2, lo + 1), b.loNanos);
        out.push({ loNanos: lo, hiNanos: hi, count: 0 });
        lo = hi;
      }
    }
    out.push({ ...b });
  }
  return out;
}

/** Where a duration falls on the drawn axis, in bucket slots (log-interpolated inside its bucket). */
function slotOf(shown: readonly HistogramBucket[], nanos: number): number | undefined {
  for (let i = 0; i < shown.length; i++) {
    const b = shown[i]!;
    if (nanos >= b.loNanos && nanos < b.hiNanos) {
      const lo = Math.max(b.loNanos, 1);
      const frac = b.hiNanos > lo ? Math.log(Math.max(nanos, lo) / lo) / Math.log(b.hiNanos / lo) : 0;
      return i + Math.min(Math.max(frac, 0), 1);
    }
  }
  if (shown.length && nanos >= shown.at(-1)!.hiNanos) return shown.length;
  return undefined;
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
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="9">`,
  );
  // Label every bucket when they fit, otherwise every k-th so the text never overlaps.
  const every = Math.max(1, Math.ceil(38 / slot));
  shown.forEach((b, i) => {
    const h = b.count > 0 ? Math.max(1, (b.count / max) * chartH) : 0;
    const x = i * slot + 1;
    const y = countH + chartH - h;
    const title = `${formatDurationShort(b.loNanos)}–${formatDurationShort(b.hiNanos)}: ${b.count}`;
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, slot - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${bar}"><title>${escapeXml(title)}</title></rect>`,
    );
    if (b.count > 0 && slot >= 18) {
      parts.push(
        `<text x="${(x + slot / 2 - 1).toFixed(1)}" y="${(y - 2).toFixed(1)}" text-anchor="middle" fill="${text}">${escapeXml(formatCount(b.count))}</text>`,
      );
    }
    if (i % every === 0) {
      parts.push(
        `<text x="${(x + slot / 2 - 1).toFixed(1)}" y="${height - 4}" text-anchor="middle" fill="${text}">${escapeXml(formatDurationShort(b.loNanos))}</text>`,
      );
    }
  });
  parts.push(
    `<line x1="0" y1="${countH + chartH + 0.5}" x2="${width}" y2="${countH + chartH + 0.5}" stroke="${text}" stroke-width="0.5"/>`,
  );
  for (const [label, nanos] of Object.entries(options.markers ?? {})) {
    const at = slotOf(shown, nanos);
    if (at === undefined) continue;
    const x = Math.min(Math.max(at * slot, 1), width - 1).toFixed(1);
    parts.push(
      `<line class="marker" x1="${x}" y1="${countH - 2}" x2="${x}" y2="${countH + chartH}" stroke="#3b8eea" stroke-width="1.5" stroke-dasharray="3,2"><title>${escapeXml(`${label} ${formatDurationShort(nanos)}`)}</title></line>`,
    );
    const anchor = at * slot > width - 30 ? 'end' : at * slot < 30 ? 'start' : 'middle';
    parts.push(
      `<text class="marker" x="${x}" y="${countH - 3}" text-anchor="${anchor}" fill="#3b8eea" font-weight="bold">${escapeXml(label)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

/** An SVG as a data: URI that Markdown hovers accept as an image source. */
export function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}
