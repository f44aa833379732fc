import * as assert from 'node:assert/strict';
import type { HistogramBucket } from '../../../src/model/profile';
import { histogramSvg, svgDataUri, trimBuckets } from '../../../src/ui/histogramSvg';

// log2 buckets as the eBPF tracer reports them: [2^k, 2^(k+1)) ns.
function log2Buckets(counts: Record<number, number>): HistogramBucket[] {
  const out: HistogramBucket[] = [];
  for (let k = 8; k <= 24; k++) out.push({ loNanos: 2 ** k, hiNanos: 2 ** (k + 1), count: counts[k] ?? 0 });
  return out;
}

describe('ui: latency histogram SVG', () => {
  const buckets = log2Buckets({ 10: 5, 11: 40, 12: 0, 13: 10, 20: 1 });

  it('trims empty buckets at the edges only', () => {
    const t = trimBuckets(buckets);
    assert.equal(t[0]!.loNanos, 2 ** 10);
    assert.equal(t.at(-1)!.loNanos, 2 ** 20);
    assert.equal(t.length, 11);
  });

  it('puts the empty buckets the tracer leaves out back on the axis, as gaps', () => {
    // What the helper sends: only the non-empty buckets.
    const sparse = buckets.filter((b) => b.count > 0);
    assert.equal(sparse.length, 4);
    const t = trimBuckets(sparse);
    assert.deepEqual(
      t.map((b) => [b.loNanos, b.hiNanos, b.count]),
      trimBuckets(buckets).map((b) => [b.loNanos, b.hiNanos, b.count]),
    );
    const svg = histogramSvg(sparse, { width: 440, height: 120 });
    assert.equal([...svg.matchAll(/<rect /g)].length, 11);
  });

  it('marks p50 and p99 where they fall on the axis', () => {
    const svg = histogramSvg(buckets, { width: 440, height: 120, markers: { p50: 2 ** 11 * 1.5, p99: 2 ** 13 * 1.2 } });
    const marks = [...svg.matchAll(/<line class="marker" x1="([\d.]+)"/g)].map((m) => Number(m[1]));
    assert.equal(marks.length, 2);
    const slot = 440 / 11;
    // p50 in the second shown bucket (2^11), p99 in the fourth (2^13).
    assert.ok(marks[0]! > slot && marks[0]! < 2 * slot, String(marks[0]));
    assert.ok(marks[1]! > 3 * slot && marks[1]! < 4 * slot, String(marks[1]));
    assert.match(svg, />p50<\/text>/);
    assert.match(svg, />p99<\/text>/);
  });

  it('draws one bar per shown bucket, heights proportional to counts', () => {
    const svg = histogramSvg(buckets, { width: 440, height: 120 });
    const rects = [...svg.matchAll(/<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/g)].map((m) => Number(m[2]));
    assert.equal(rects.length, 11);
    const chartH = 120 - 16 - 12;
    assert.equal(rects[1], chartH); // the 40-count bucket is the tallest
    assert.ok(Math.abs(rects[0]! - (5 / 40) * chartH) < 0.06);
    assert.ok(Math.abs(rects[3]! - (10 / 40) * chartH) < 0.06);
    assert.equal(rects[2], 0);
    // Tooltips carry the bucket range and count.
    assert.match(svg, /<title>1µs–2µs: 5<\/title>/);
  });

  it('labels bucket bounds in µs and ms', () => {
    const svg = histogramSvg(log2Buckets({ 10: 1, 20: 1 }), { width: 800 });
    const labels = [...svg.matchAll(/text-anchor="middle" fill="#888888">([^<]+)<\/text>/g)].map((m) => m[1]);
    assert.ok(labels.includes('1µs'), labels.join(','));
    assert.ok(labels.includes('1ms'), labels.join(','));
  });

  it('embeds as a base64 data: URI that decodes back to the SVG', () => {
    const svg = histogramSvg(buckets);
    const uri = svgDataUri(svg);
    assert.match(uri, /^data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+$/);
    assert.equal(Buffer.from(uri.split(',')[1]!, 'base64').toString('utf8'), svg);
  });
});
