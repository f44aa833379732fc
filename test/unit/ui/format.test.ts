import * as assert from 'node:assert/strict';
import {
  formatCount,
  formatDeltaPercent,
  formatDuration,
  formatLineFigure,
  formatPercent,
  formatRate,
  formatShareChange,
} from '../../../src/ui/format';

describe('ui: number formatting', () => {
  it('counts: exact below 1000, one decimal below 10 of a unit, whole above', () => {
    assert.equal(formatCount(0), '0');
    assert.equal(formatCount(950), '950');
    assert.equal(formatCount(1000), '1k');
    assert.equal(formatCount(1340), '1.3k');
    assert.equal(formatCount(9940), '9.9k');
    assert.equal(formatCount(83_000), '83k');
    assert.equal(formatCount(1_200_000), '1.2M');
    assert.equal(formatCount(3_000_000_000), '3G');
  });

  it('rates: one decimal below 10 per second, counts above', () => {
    assert.equal(formatRate(6.5), '6.5');
    assert.equal(formatRate(0), '0');
    assert.equal(formatRate(450), '450');
    assert.equal(formatRate(83_000), '83k');
  });

  it('durations in ns, µs, ms and s', () => {
    assert.equal(formatDuration(850), '850 ns');
    assert.equal(formatDuration(1200), '1.2 µs');
    assert.equal(formatDuration(4_100_000), '4.1 ms');
    assert.equal(formatDuration(13_000_000), '13 ms');
    assert.equal(formatDuration(262_144), '262 µs');
    assert.equal(formatDuration(2_500_000_000), '2.5 s');
  });

  it('percentages with one decimal, tiny shares as <0.1%', () => {
    assert.equal(formatPercent(0.042), '4.2%');
    assert.equal(formatPercent(0.124), '12.4%');
    assert.equal(formatPercent(1), '100%');
    assert.equal(formatPercent(0.0001), '<0.1%');
    assert.equal(formatPercent(0), '0.0%');
    assert.equal(formatDeltaPercent(0.012), '+1.2 pp');
    assert.equal(formatDeltaPercent(-0.004), '−0.4 pp');
  });

  it('the after-line figure: "4.2% · 1.3k", time, or percent only', () => {
    // 1340 of 31905 samples = 4.2%.
    assert.equal(formatLineFigure(1340, 31905, 'samples'), '4.2% · 1.3k');
    // cpu-clock at 999 Hz: 1,001,001 ns per sample; 13 samples ≈ 13 ms.
    assert.equal(formatLineFigure(13, 310, 'time', 1_001_001), '4.2% · 13 ms');
    assert.equal(formatLineFigure(13, 310, 'none'), '4.2%');
    assert.equal(formatLineFigure(1260, 3190, 'samples', undefined, 26), '39.5% (self 0.8%) · 1.3k');
    assert.equal(formatLineFigure(26, 3190, 'none', undefined, 26), '0.8%');
    assert.equal(formatShareChange(0.039, 0.095), '3.9% → 9.5% (+5.6 pp)');
    assert.equal(formatShareChange(0.02, 0.013), '2.0% → 1.3% (−0.7 pp)');
    // No time unit (cycles): time falls back to samples rather than inventing one.
    assert.equal(formatLineFigure(13, 310, 'time', undefined), '4.2% · 13');
  });
});
