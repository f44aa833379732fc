import * as assert from 'node:assert/strict';
import { PROFILE_MODEL_VERSION, type FunctionLatency, type Profile } from '../../../src/model/profile';
import {
  codeLensTitle,
  eventLabel,
  functionAsText,
  latencyHoverMarkdown,
  lineHoverMarkdown,
  statusText,
} from '../../../src/ui/summaryText';

function profile(event: string): Profile {
  return {
    version: PROFILE_MODEL_VERSION,
    source: 'test',
    event: { name: event, unit: event === 'cpu-clock' ? 'nanoseconds' : 'cycles', periodPerSample: 1_001_001 },
    durationNanos: 10e9,
    totalSamples: 10_000,
    lostSamples: 0,
    unattributedSamples: 0,
    functions: [{ name: 'example.com/svc.(*Server).handle', file: '/w/s.go', line1: 12, selfSamples: 310, cumSamples: 1240 }],
    lines: [],
    callTree: { parents: [], functions: [], callLines: [], totalSamples: [], selfSamples: [] },
  };
}

const lat: FunctionLatency = {
  function: 'example.com/svc.(*Server).handle',
  calls: 830_000,
  unmatched: 3,
  sumNanos: 830_000 * 5000,
  p50Nanos: 1200,
  p90Nanos: 90_000,
  p99Nanos: 4_100_000,
  durationNanos: 10e9,
  buckets: [
    { loNanos: 1024, hiNanos: 2048, count: 600_000 },
    { loNanos: 2048, hiNanos: 4096, count: 0 },
    { loNanos: 4_194_304, hiNanos: 8_388_608, count: 230_000 },
  ],
};

describe('ui: code lens, hover and status texts', () => {
  it('the code lens: "12.4% CPU (self 3.1%) · 83k calls/s · p50 1.2 µs · p99 4.1 ms"', () => {
    const p = profile('cpu-clock');
    assert.equal(codeLensTitle(p, p.functions[0], lat), '12.4% CPU (self 3.1%) · 83k calls/s · p50 1.2 µs · p99 4.1 ms');
    assert.equal(codeLensTitle(p, p.functions[0], undefined), '12.4% CPU (self 3.1%)');
    assert.equal(codeLensTitle(undefined, undefined, lat), '83k calls/s · p50 1.2 µs · p99 4.1 ms');
    assert.equal(codeLensTitle(p, { ...p.functions[0]!, cumSamples: 0, selfSamples: 0 }, undefined), '');
    // Against a baseline: before → after, and the change (or that it is within noise).
    const d = {
      self: { current: 0.031, baseline: 0.008, delta: 0.023, significant: true },
      cum: { current: 0.095, baseline: 0.039, delta: 0.056, significant: true },
    };
    assert.equal(codeLensTitle(p, p.functions[0], undefined, d), '3.9% → 9.5% CPU (+5.6 pp) · self 0.8% → 3.1%');
    assert.equal(
      codeLensTitle(p, p.functions[0], undefined, { ...d, cum: { ...d.cum, significant: false } }),
      '3.9% → 9.5% CPU (within noise) · self 0.8% → 3.1%',
    );
  });

  it('the event is named as the user should read it', () => {
    assert.equal(eventLabel(profile('cpu-clock')), 'CPU time');
    assert.equal(eventLabel(profile('cycles:u')), 'cycles');
    assert.equal(statusText(profile('cpu-clock')), '$(flame) CPU time · 10k samples · 10 s');
  });

  it('the latency hover embeds the histogram and lists count, rate, percentiles, unmatched', () => {
    const md = latencyHoverMarkdown(lat);
    assert.match(md, /!\[latency histogram of \\\(\\\*Server\\\)\.handle\]\(data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+\)/);
    assert.match(md, /\| 830k \| 83k\/s \| 1\.2 µs \| 90 µs \| 4\.1 ms \| 5 µs \| 3 \| 10 s \|/);
    assert.match(md, /3 calls had no matching return/);
    assert.match(md, /wall-clock time per call/);
    // p50 and p99 are marked on the histogram.
    const svg = Buffer.from(/base64,([A-Za-z0-9+/=]+)\)/.exec(md)![1]!, 'base64').toString('utf8');
    assert.match(svg, />p50<\/text>/);
    assert.match(svg, />p99<\/text>/);
    assert.match(latencyHoverMarkdown(lat, '12.4% CPU (self 3.1%)'), /CPU \(sampled, on-CPU time only\): 12\.4% CPU \(self 3\.1%\)/);
  });

  it('the line hover gives samples, share, time and the inline chain', () => {
    const p = profile('cpu-clock');
    const md = lineHoverMarkdown(p, {
      selfSamples: 420,
      cumSamples: 500,
      stats: [
        {
          file: '/w/s.go',
          line1: 20,
          selfSamples: 420,
          cumSamples: 500,
          function: 'main.mix',
          inlinedInto: ['main.checksum', 'main.handleChecksum'],
        },
      ],
    });
    assert.match(md, /self: 420 samples ≈ 420 ms \(4\.2%\)/);
    assert.match(md, /with callees: 500 samples ≈ 501 ms \(5\.0%\)/);
    assert.match(md, /inlined into `checksum` → `handleChecksum`/);
  });

  it('copy as text names the function, its place and its shares', () => {
    const p = profile('cpu-clock');
    assert.equal(
      functionAsText(p, p.functions[0]!),
      'example.com/svc.(*Server).handle (/w/s.go:12)\tself 3.1% · cum 12.4%\t310/1240 of 10000 samples',
    );
  });
});
