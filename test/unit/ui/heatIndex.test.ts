import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { PprofProfile } from '../../../src/formats/pprof';
import { ingestPprof } from '../../../src/ingest/fromPprof';
import { PROFILE_MODEL_VERSION, type Profile } from '../../../src/model/profile';
import { formatLineFigure } from '../../../src/ui/format';
import { computeLineHeat, HEAT_LEVELS, HeatIndex, type HeatOptions } from '../../../src/ui/heatIndex';
import { cpuProfileUntil } from '../../support/cpuProfileUntil';
import { buildGoFixture, GO_FIXTURES, newestGo } from '../../support/goToolchains';

const opts: HeatOptions = { basis: 'self', showFigure: true, amount: 'samples', threshold: 0.001 };

function synthetic(): Profile {
  const lines: Profile['lines'] = [];
  // Shares 40%, 10%, 1%, 0.5%, 0.05% of 10,000 samples; line 7 appears twice (two inlined copies).
  const add = (line1: number, self: number, fn = 'main.f', inlinedInto?: string[]): void => {
    lines.push({ file: '/w/main.go', line1, selfSamples: self, cumSamples: self, function: fn, ...(inlinedInto ? { inlinedInto } : {}) });
  };
  add(3, 4000);
  add(5, 1000);
  add(7, 60, 'main.mix', ['main.a']);
  add(7, 40, 'main.mix', ['main.b']);
  add(9, 50);
  add(11, 5);
  lines.push({ file: '/elsewhere/x.go', line1: 1, selfSamples: 100, cumSamples: 100, function: 'x.f' });
  return {
    version: PROFILE_MODEL_VERSION,
    source: 'test',
    event: { name: 'cpu-clock', unit: 'nanoseconds', periodPerSample: 1e6 },
    durationNanos: 1e10,
    totalSamples: 10000,
    lostSamples: 0,
    unattributedSamples: 0,
    functions: [],
    lines,
    callTree: { parents: [], functions: [], callLines: [], totalSamples: [], selfSamples: [] },
  };
}

describe('ui: line heat', () => {
  it('levels grow with the share, the hottest line is the top level, the threshold cuts', () => {
    const idx = new HeatIndex(synthetic(), (f) => (f.startsWith('/w/') ? f : undefined));
    assert.deepEqual(idx.files(), ['/w/main.go']);
    const heat = idx.heatFor('/w/main.go', opts);
    assert.deepEqual(
      heat.map((h) => h.line1),
      [3, 5, 7, 9],
    ); // line 11 (0.05%) is under the 0.1% threshold
    const level = new Map(heat.map((h) => [h.line1, h.level]));
    assert.equal(level.get(3), HEAT_LEVELS);
    assert.ok(level.get(3)! >= level.get(5)! && level.get(5)! >= level.get(7)! && level.get(7)! >= level.get(9)!);
    assert.ok(level.get(9)! >= 1);
    // Inlined copies of one line add up, and both entries stay for the hover's inline chain.
    const l7 = heat.find((h) => h.line1 === 7)!;
    assert.equal(l7.counts.selfSamples, 100);
    assert.deepEqual(
      l7.counts.stats.map((s) => s.inlinedInto),
      [['main.a'], ['main.b']],
    );
    assert.equal(l7.figure, formatLineFigure(100, 10000, 'samples'));
    assert.equal(l7.figure, '1.0% · 100');
  });

  it('figures follow the settings: cumulative, time, off', () => {
    const p = synthetic();
    p.lines[0]!.cumSamples = 6000;
    const idx = new HeatIndex(p, (f) => f);
    // Cumulative names the line's own share beside it where that differs (pprof's cum and flat).
    const cum = idx.heatFor('/w/main.go', { ...opts, basis: 'cumulative' });
    assert.equal(cum[0]!.figure, '60.0% (self 40.0%) · 6k');
    assert.equal(cum.find((h) => h.line1 === 5)!.figure, '10.0% · 1k');
    assert.equal(idx.heatFor('/w/main.go', { ...opts, amount: 'time' })[0]!.figure, '40.0% · 4 s');
    assert.equal(idx.heatFor('/w/main.go', { ...opts, showFigure: false })[0]!.figure, '');
  });

  it('no samples, no heat', () => {
    const p = synthetic();
    p.totalSamples = 0;
    assert.deepEqual(computeLineHeat(new Map(), p, opts, 0), []);
  });
});

describe('ui: line heat of a real Go CPU profile matches the raw pprof samples [go toolchain]', function () {
  let svc: ChildProcess | undefined;
  after(() => svc?.kill('SIGKILL'));

  it('each line’s self count is the sum of samples whose innermost frame is that line', async () => {
    const bin = buildGoFixture('exampleservice', newestGo());
    svc = spawn(bin, ['-addr', '127.0.0.1:0', '-pprof'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const addr = await new Promise<string>((resolve, reject) => {
      let buf = '';
      svc!.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /listening on (\S+)/.exec(buf);
        if (m) resolve(m[1]!);
      });
      svc!.once('exit', (c) => reject(new Error(`service exited with ${c}`)));
    });
    const mainGo = path.join(GO_FIXTURES, 'exampleservice', 'main.go');
    // The reference: straight from the pprof samples, independent of ingest and the index.
    const selfByLine = (pp: PprofProfile): Map<number, number> => {
      const vi = pp.sampleTypes.findIndex((t) => t.type === 'samples');
      const fnById = new Map(pp.functions.map((f) => [f.id, f]));
      const locById = new Map(pp.locations.map((l) => [l.id, l]));
      const want = new Map<number, number>();
      for (const s of pp.samples) {
        const leaf = locById.get(s.locationIds[0]!);
        const inner = leaf?.lines[0];
        if (!inner || fnById.get(inner.functionId)?.filename !== mainGo) continue;
        want.set(inner.line, (want.get(inner.line) ?? 0) + s.values[vi]!);
      }
      return want;
    };
    // Load from Node while Go's own profiler samples, 2 s at a time until a profile has samples
    // on at least 3 lines of main.go (a loaded machine may give the service little CPU).
    let stop = false;
    const drive = async (p: string): Promise<void> => {
      while (!stop) await (await fetch(`http://${addr}${p}?n=${Math.floor(Math.random() * 100)}`)).arrayBuffer();
    };
    const loads = ['/checksum', '/sort', '/orders'].map(drive);
    let pp: PprofProfile;
    try {
      ({ pp } = await cpuProfileUntil(`http://${addr}`, 2, (p) => selfByLine(p).size >= 3));
    } finally {
      stop = true;
      await Promise.all(loads);
    }

    const profile = ingestPprof(pp);
    const idx = new HeatIndex(profile, (f) => f);
    const got = new Map([...(idx.linesOf(mainGo) ?? new Map())].map(([l, c]) => [l, c.selfSamples]));
    const want = selfByLine(pp);
    const vi = pp.sampleTypes.findIndex((t) => t.type === 'samples');
    for (const [l, n] of [...got]) if (n === 0) got.delete(l);
    assert.ok(want.size >= 3, `only ${want.size} hot lines in main.go`);
    assert.deepEqual(new Map([...got].sort((a, b) => a[0] - b[0])), new Map([...want].sort((a, b) => a[0] - b[0])));
    const total = pp.samples.reduce((n, s) => n + s.values[vi]!, 0);
    const heat = idx.heatFor(mainGo, { ...opts, threshold: 0 });
    for (const h of heat) assert.equal(h.figure, formatLineFigure(want.get(h.line1)!, total, 'samples'));
  });
});
