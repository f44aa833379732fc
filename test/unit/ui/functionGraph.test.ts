import * as assert from 'node:assert/strict';
import { PROFILE_MODEL_VERSION, type Profile } from '../../../src/model/profile';
import { FunctionGraph } from '../../../src/ui/functionGraph';

// main (100) ─┬─ handle (70) ─┬─ encode (50, self 50)
//             │               └─ hash (15, self 15)     [handle self 5]
//             └─ hash (30, self 30)
// plus a recursive walk: walk (20) → walk (12, self 12) [walk self 8]
function profile(): Profile {
  const names = ['main.main', 'main.handle', 'main.encode', 'main.hash', 'main.walk'];
  const parents = [-1, 0, 1, 1, 0, -1, 5];
  const functions = [0, 1, 2, 3, 3, 4, 4];
  const totalSamples = [100, 70, 50, 15, 30, 20, 12];
  const selfSamples = [0, 5, 50, 15, 30, 8, 12];
  return {
    version: PROFILE_MODEL_VERSION,
    source: 'test',
    event: { name: 'cpu-clock', unit: 'nanoseconds', periodPerSample: 1e6 },
    durationNanos: 1e9,
    totalSamples: 120,
    lostSamples: 0,
    unattributedSamples: 0,
    functions: names.map((name, i) => ({
      name,
      selfSamples: [0, 5, 50, 45, 20][i]!,
      cumSamples: [100, 70, 50, 45, 20][i]!,
    })),
    lines: [],
    callTree: { parents, functions, callLines: parents.map(() => 0), totalSamples, selfSamples },
  };
}

describe('ui: function graph (hot functions, callers, callees)', () => {
  const g = new FunctionGraph(profile());
  const name = (i: number): string => profile().functions[i]!.name;

  it('orders functions by self samples, then cumulative', () => {
    assert.deepEqual(g.hottest().map(name), ['main.encode', 'main.hash', 'main.walk', 'main.handle', 'main.main']);
  });

  it('callees aggregate every call edge of a function, hottest first', () => {
    assert.deepEqual(
      g.callees(0).map((e) => [name(e.fn), e.samples]),
      [
        ['main.handle', 70],
        ['main.hash', 30],
      ],
    );
    assert.deepEqual(
      g.callees(1).map((e) => [name(e.fn), e.samples]),
      [
        ['main.encode', 50],
        ['main.hash', 15],
      ],
    );
    assert.deepEqual(g.callees(2), []);
  });

  it('callers of a function called from two places', () => {
    assert.deepEqual(
      g.callers(3).map((e) => [name(e.fn), e.samples]),
      [
        ['main.main', 30],
        ['main.handle', 15],
      ],
    );
    assert.deepEqual(g.callers(0), []);
  });

  it('recursion is not an edge of a function to itself', () => {
    assert.deepEqual(g.callees(4), []);
    assert.deepEqual(g.callers(4), []);
  });
});
