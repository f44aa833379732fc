/** The editor's words for metrics other than CPU: lens, hover, heat figure, status, tree, diff noise. */
import * as assert from 'node:assert/strict';
import type { PprofProfile } from '../../../src/formats/pprof';
import { ingestPprof } from '../../../src/ingest/fromPprof';
import { withMetric } from '../../../src/model/metrics';
import type { Profile } from '../../../src/model/profile';
import { HeatIndex } from '../../../src/ui/heatIndex';
import { formatBytes, formatMetricAmount } from '../../../src/ui/metricText';
import { diffProfiles } from '../../../src/ui/profileDiff';
import { codeLensTitle, eventLabel, functionDescription, lineHoverMarkdown, statusText } from '../../../src/ui/summaryText';
import { contentionSampleTypes, goFunction, heapSampleTypes, lineLocation, pprofProfile, pprofSample } from '../../support/pprofBuilder';

/** main.main (line 30) → main.grow (line 20), with the sample types and values of `fields`. */
const growProfile = (fields: Partial<PprofProfile>): PprofProfile =>
  pprofProfile({
    locations: [lineLocation(1, 1, 20), lineLocation(2, 2, 30)],
    functions: [goFunction(1, 'main.grow', '/src/main.go', 19), goFunction(2, 'main.main', '/src/main.go', 28)],
    ...fields,
  });

/** An allocs delta profile over 10 s (as /debug/pprof/allocs?seconds=10 gives): grow allocates 12 GB in 34M objects, main as much. */
function allocs(bytes = 12e9, objects = 34e6, mainBytes = bytes): Profile {
  return ingestPprof(
    growProfile({
      sampleTypes: heapSampleTypes(),
      samples: [pprofSample([1, 2], [objects, bytes, 10, 640]), pprofSample([2], [objects, mainBytes, 0, 0])],
      durationNanos: 10e9,
      periodType: { type: 'space', unit: 'bytes' },
      period: 524288,
      defaultSampleType: 'alloc_space',
    }),
  );
}

/** A block profile: grow waits 3.2 s in 41,000 waits, main 3.2 s more. */
function block(): Profile {
  return ingestPprof(
    growProfile({
      sampleTypes: contentionSampleTypes(),
      samples: [pprofSample([1, 2], [41000, 3.2e9]), pprofSample([2], [1000, 3.2e9])],
      periodType: { type: 'contentions', unit: 'count' },
      period: 1,
    }),
  );
}

const grow = (p: Profile) => p.functions.find((f) => f.name === 'main.grow')!;

describe('ui: the words for metrics other than CPU', () => {
  it('formats bytes and amounts in the metric’s unit', () => {
    assert.equal(formatBytes(950), '950 B');
    assert.equal(formatBytes(1.34e6), '1.3 MB');
    assert.equal(formatBytes(12e9), '12 GB');
    const p = allocs();
    assert.equal(formatMetricAmount(3.4e6, p.metrics![0]!), '3.4M obj');
    assert.equal(formatMetricAmount(1.2e9, p.metrics![1]!), '1.2 GB');
    assert.equal(formatMetricAmount(3.2e9, block().metrics![1]!), '3.2 s');
    assert.equal(formatMetricAmount(41000, block().metrics![0]!), '41k contentions');
  });

  it('the code lens: "1.2 GB/s alloc · 3.4M obj/s" for allocations, "blocked 3.2 s · 41k contentions" for a block profile', () => {
    const p = allocs();
    assert.equal(codeLensTitle(p, grow(p), undefined), '1.2 GB/s alloc · 3.4M obj/s · 50.0% (self 50.0%)');
    const o = withMetric(p, 'alloc_objects')!;
    assert.equal(codeLensTitle(o, grow(o), undefined), '3.4M obj/s alloc · 1.2 GB/s · 50.0% (self 50.0%)');
    const u = withMetric(p, 'inuse_space')!;
    assert.equal(codeLensTitle(u, grow(u), undefined), 'in use 640 B · 10 obj · 100% (self 100%)');
    const b = block();
    assert.equal(eventLabel(b), 'Blocking: delay');
    assert.equal(codeLensTitle(b, grow(b), undefined), 'blocked 3.2 s · 41k contentions · 50.0% (self 50.0%)');
  });

  it('the line figure, hover, status bar and tree speak the metric’s unit', () => {
    const p = allocs();
    const idx = new HeatIndex(p, (f) => f);
    const line20 = idx
      .heatFor('/src/main.go', { basis: 'self', showFigure: true, amount: 'samples', threshold: 0 })
      .find((h) => h.line1 === 20)!;
    assert.equal(line20.figure, '50.0% · 12 GB');
    const md = lineHoverMarkdown(p, line20.counts);
    assert.match(md, /allocated bytes/);
    assert.match(md, /self: 12 GB \(50\.0%\)/);
    assert.match(md, /allocated objects: self 34M obj, with callees 34M obj/);
    assert.match(md, /1\.2 GB\/s alloc here/);
    assert.equal(statusText(p), '$(flame) allocated bytes · 24 GB · 10 s');
    assert.equal(statusText(block()), '$(flame) Blocking: delay · 6.4 s');
    assert.equal(functionDescription(p, grow(p)), 'self 50.0% · cum 50.0% · 12 GB');
  });

  it('the baseline diff on bytes counts sampled allocations for its noise, not bytes', () => {
    // grow at 50% → 50.4% of 24 GB: from ~46k sampled allocations (24 GB / 512 KiB) each, noise;
    // counted as if every byte were a sample it would be "significant".
    const cur = allocs(12.1e9, 34e6, 11.9e9);
    const baseline = allocs();
    const d = diffProfiles(cur, baseline).functions.get('main.grow')!;
    assert.ok(Math.abs(d.self.delta - 0.0042) < 0.0005, String(d.self.delta));
    assert.equal(d.self.significant, false);
    // The same change on CPU samples-sized totals of a billion would be significant: the basis matters.
    const asSamples = (p: Profile): Profile => ({ ...p, metrics: p.metrics!.map((m) => ({ ...m, samples: 24e9 })) });
    assert.equal(diffProfiles(asSamples(cur), asSamples(baseline)).functions.get('main.grow')!.self.significant, true);
    assert.match(
      codeLensTitle(cur, grow(cur), undefined, diffProfiles(cur, baseline).functions.get('main.grow')),
      /50\.0% → 50\.4% alloc \(within noise\)/,
    );
  });
});
