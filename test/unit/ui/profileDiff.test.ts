import * as assert from 'node:assert/strict';
import { PROFILE_MODEL_VERSION, type Profile } from '../../../src/model/profile';
import { diffProfiles } from '../../../src/ui/profileDiff';

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
    const base = profile(1000, [['main.a', 100, 500], ['main.gone', 50, 50]], [['/m.go', 10, 100], ['/m.go', 11, 50]]);
    const cur = profile(4000, [['main.a', 800, 2000], ['main.new', 40, 40]], [['/m.go', 10, 800], ['/m.go', 12, 40]]);
    const d = diffProfiles(cur, base);
    const a = d.functions.get('main.a')!;
    assert.ok(Math.abs(a.self.delta - (0.2 - 0.1)) < 1e-12);
    assert.ok(Math.abs(a.cum.delta - (0.5 - 0.5)) < 1e-12);
    assert.ok(Math.abs(d.functions.get('main.gone')!.self.delta + 0.05) < 1e-12);
    assert.ok(Math.abs(d.functions.get('main.new')!.self.delta - 0.01) < 1e-12);
    const m = d.lines.get('/m.go')!;
    assert.ok(Math.abs(m.get(10)!.delta - 0.1) < 1e-12);
    assert.ok(Math.abs(m.get(11)!.delta + 0.05) < 1e-12);
    assert.ok(Math.abs(m.get(12)!.delta - 0.01) < 1e-12);
  });

  it('a profile against itself has no difference anywhere', () => {
    const p = profile(321, [['main.a', 21, 300]], [['/m.go', 3, 21]]);
    const d = diffProfiles(p, structuredClone(p));
    for (const e of d.functions.values()) assert.equal(e.self.delta, 0);
    for (const m of d.lines.values()) for (const x of m.values()) assert.equal(x.delta, 0);
  });
});
