import * as assert from 'node:assert/strict';
import { PROFILE_MODEL_VERSION, type Profile } from '../../../src/model/profile';
import { diffLevel, diffProfiles, isSignificant, MIN_SHOWN_DELTA } from '../../../src/ui/profileDiff';

function profile(total: number, fns: [string, number, number][], lines: [string, number, number][]): Profile {
  return {
    version: PROFILE_MODEL_VERSION,
    source: 'test',
    event: { name: 'cpu-clock', unit: 'nanoseconds', periodPerSample: 1e6 },
    durationNanos: 1e9,
    totalSamples: total,
    lostSamples: 0,
    unattributedSamples: 0,
    functions: fns.map(([name, selfSamples, cumSamples]) => ({ name, selfSamples, cumSamples })),
    lines: lines.map(([file, line1, selfSamples]) => ({ file, line1, selfSamples, cumSamples: selfSamples, function: 'main.f' })),
    callTree: { parents: [], functions: [], callLines: [], totalSamples: [], selfSamples: [] },
  };
}

describe('ui: profile diff against a baseline (shares, not raw counts)', () => {
  it('compares each profile’s share of its own total', () => {
    const base = profile(
      1000,
      [
        ['main.a', 100, 500],
        ['main.gone', 50, 50],
      ],
      [
        ['/m.go', 10, 100],
        ['/m.go', 11, 50],
      ],
    );
    const cur = profile(
      4000,
      [
        ['main.a', 800, 2000],
        ['main.new', 40, 40],
      ],
      [
        ['/m.go', 10, 800],
        ['/m.go', 12, 40],
      ],
    );
    const d = diffProfiles(cur, base);
    const a = d.functions.get('main.a')!;
    assert.ok(Math.abs(a.self.delta - (0.2 - 0.1)) < 1e-12);
    assert.ok(Math.abs(a.cum.delta - (0.5 - 0.5)) < 1e-12);
    assert.ok(Math.abs(d.functions.get('main.gone')!.self.delta + 0.05) < 1e-12);
    assert.ok(Math.abs(d.functions.get('main.new')!.self.delta - 0.01) < 1e-12);
    const m = d.lines.get('/m.go')!;
    assert.ok(Math.abs(m.get(10)!.self.delta - 0.1) < 1e-12);
    assert.ok(Math.abs(m.get(11)!.self.delta + 0.05) < 1e-12);
    assert.ok(Math.abs(m.get(12)!.self.delta - 0.01) < 1e-12);
  });

  it('a profile against itself has no difference anywhere', () => {
    const p = profile(321, [['main.a', 21, 300]], [['/m.go', 3, 21]]);
    const d = diffProfiles(p, structuredClone(p));
    for (const e of d.functions.values()) assert.equal(e.self.delta, 0);
    for (const m of d.lines.values()) for (const x of m.values()) assert.equal(x.cum.delta, 0);
    for (const e of d.functions.values()) assert.equal(e.cum.significant, false);
  });

  it('lines are compared by what they cost with callees too (the call line of a slower callee)', () => {
    const base = profile(1000, [], [['/m.go', 10, 5]]);
    const cur = profile(1000, [], [['/m.go', 10, 5]]);
    base.lines[0]!.cumSamples = 37;
    cur.lines[0]!.cumSamples = 91;
    const d = diffProfiles(cur, base).lines.get('/m.go')!.get(10)!;
    assert.equal(d.self.delta, 0);
    assert.ok(Math.abs(d.cum.delta - 0.054) < 1e-12);
    assert.equal(d.cum.significant, true);
    assert.equal(d.self.significant, false);
  });

  it('a change within sampling noise is not significant; the same change on more samples is', () => {
    // 2.0% → 2.6% of 1,000 samples each: SE ≈ 0.67 pp, 3 SE ≈ 2 pp: noise. Of 100,000 samples each: SE ≈ 0.067 pp: real.
    assert.equal(isSignificant(0.026, 0.02, 1000, 1000), false);
    assert.equal(isSignificant(0.026, 0.02, 100_000, 100_000), true);
    // What would print as "±0.0 pp" is never shown, however many samples.
    assert.equal(isSignificant(0.0204, 0.02, 1e9, 1e9), false);
    // Against an independent figure: the two-proportion z statistic, computed here from counts.
    const [c1, n1, c0, n0] = [300, 10_000, 240, 10_000];
    const p = (c1 + c0) / (n1 + n0);
    const z = (c1 / n1 - c0 / n0) / Math.sqrt(p * (1 - p) * (2 / 10_000));
    assert.equal(isSignificant(c1 / n1, c0 / n0, n1, n0), z > 3);
  });

  it('tint levels grow with the size of the change, 1 to 3', () => {
    assert.equal(diffLevel(MIN_SHOWN_DELTA, 0.2), 1);
    assert.equal(diffLevel(0.2, 0.2), 3);
    assert.ok(diffLevel(0.003, 0.2) <= diffLevel(0.03, 0.2));
    assert.ok(diffLevel(0.03, 0.2) >= 2);
  });
});
