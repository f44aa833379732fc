import * as assert from 'node:assert/strict';
import { PROFILE_MODEL_VERSION, type Profile } from '../../../src/model/profile';
import { CodeKinds } from '../../../src/ui/codeKind';
import { flameDiff } from '../../../src/ui/flameDiff';
import { hottestOwnLine } from '../../../src/ui/hottestLine';

// Functions: 0 main.handleTop (main.go), 1 sort.Slice, 2 main.less (main.go), 3 runtime.mallocgc, 4 main.handleList.
// Stacks (leaf first, as locations): the sort.Slice call line 20 leads to sort and to the comparator.
function profile(): Profile {
  const names: [string, string][] = [
    ['main.handleTop', '/w/main.go'],
    ['sort.Slice', '/go/src/sort/slice.go'],
    ['main.less', '/w/main.go'],
    ['runtime.mallocgc', '/go/src/runtime/malloc.go'],
    ['main.handleList', '/w/main.go'],
  ];
  const loc = (fn: number, line1: number): { frames: { function: number; line1: number }[] } => ({ frames: [{ function: fn, line1 }] });
  return {
    version: PROFILE_MODEL_VERSION,
    source: 'test',
    event: { name: 'cpu-clock', unit: 'nanoseconds', periodPerSample: 1e6 },
    durationNanos: 1e9,
    totalSamples: 100,
    lostSamples: 0,
    unattributedSamples: 0,
    functions: names.map(([name, file]) => ({ name, file, selfSamples: 0, cumSamples: 0 })),
    lines: [
      { file: '/w/main.go', line1: 20, selfSamples: 1, cumSamples: 60, function: 'main.handleTop' },
      { file: '/w/main.go', line1: 31, selfSamples: 25, cumSamples: 25, function: 'main.less' },
      { file: '/w/main.go', line1: 40, selfSamples: 10, cumSamples: 30, function: 'main.handleList' },
    ],
    callTree: { parents: [], functions: [], callLines: [], totalSamples: [], selfSamples: [] },
    stacks: {
      // 0: handleTop:20, 1: sort.Slice, 2: less:31, 3: mallocgc, 4: handleList:40, 5: handleList:41
      locations: [loc(0, 20), loc(1, 100), loc(2, 31), loc(3, 900), loc(4, 40), loc(4, 41)],
      stacks: [[1, 0], [2, 1, 0], [0], [3, 4], [4], [3, 5]],
      counts: [34, 25, 1, 20, 10, 10],
    },
  };
}

describe('ui: the hottest line of my code', () => {
  const kinds = new CodeKinds(['example.com/svc']);

  it('charges each sample to the innermost frame of my code: the comparator and the call line apart', () => {
    // sort.Slice's own time (34) goes to the call line 20 (+1 of its own); the comparator's 25 stay on line 31;
    // handleList:40 gets its 10 plus mallocgc's 20 under it.
    const hot = hottestOwnLine(profile(), kinds)!;
    assert.deepEqual(
      { file: hot.file, line1: hot.line1, samples: hot.samples, basis: hot.basis },
      { file: '/w/main.go', line1: 20, samples: 35, basis: 'first-own-frame' },
    );
  });

  it('without stacks, the line of my code with the most samples of its own', () => {
    const p = profile();
    delete p.stacks;
    const hot = hottestOwnLine(p, kinds)!;
    assert.deepEqual([hot.line1, hot.samples, hot.basis], [31, 25, 'self']);
  });

  it('the diff flame graph: each call path’s change of share, 0 within noise', () => {
    const cur = {
      ...profile(),
      totalSamples: 10_000,
      callTree: {
        parents: [-1, 0, 0],
        functions: [0, 1, 4],
        callLines: [0, 0, 0],
        totalSamples: [10_000, 6_000, 4_000],
        selfSamples: [0, 6_000, 4_000],
      },
    };
    const base = {
      ...profile(),
      totalSamples: 10_000,
      callTree: {
        parents: [-1, 0, 0],
        functions: [0, 4, 1],
        callLines: [0, 0, 0],
        totalSamples: [10_000, 5_000, 5_000],
        selfSamples: [0, 5_000, 5_000],
      },
    };
    const d = flameDiff(cur, base);
    assert.equal(d[0], 0);
    assert.ok(Math.abs(d[1]! - 0.1) < 1e-12, String(d[1]));
    assert.ok(Math.abs(d[2]! + 0.1) < 1e-12, String(d[2]));
    // The same shift on 100 samples is noise.
    const small = (p: typeof cur): typeof cur => ({
      ...p,
      totalSamples: 100,
      callTree: { ...p.callTree, totalSamples: p.callTree.totalSamples.map((n) => n / 100) },
    });
    assert.deepEqual(flameDiff(small(cur), small(base)), [0, 0, 0]);
  });
});
