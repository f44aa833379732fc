import * as assert from 'node:assert/strict';
import type { CallTree } from '../../../src/model/profile';
import { CallPaths, type CallPath } from '../../../src/ui/callPaths';
import { rng } from '../../support/rng';

/** A call tree (pre-order, as ingest builds it) from stacks given root first, with their counts. */
function treeOf(stacks: { fns: number[]; count: number }[]): CallTree {
  interface N {
    fn: number;
    total: number;
    self: number;
    kids: Map<number, N>;
  }
  const root: N = { fn: -1, total: 0, self: 0, kids: new Map() };
  for (const s of stacks) {
    let n = root;
    for (const fn of s.fns) {
      let k = n.kids.get(fn);
      if (!k) n.kids.set(fn, (k = { fn, total: 0, self: 0, kids: new Map() }));
      k.total += s.count;
      n = k;
    }
    n.self += s.count;
  }
  const t: CallTree = { parents: [], functions: [], callLines: [], totalSamples: [], selfSamples: [] };
  const walk = (n: N, parent: number): void => {
    const i = t.parents.length;
    t.parents.push(parent);
    t.functions.push(n.fn);
    t.callLines.push(0);
    t.totalSamples.push(n.total);
    t.selfSamples.push(n.self);
    for (const k of n.kids.values()) walk(k, i);
  };
  for (const k of root.kids.values()) walk(k, -1);
  return t;
}

/** The reference: samples whose root-first stack holds `seq` contiguously, each sample once. */
function holding(stacks: { fns: number[]; count: number }[], seq: number[]): number {
  let n = 0;
  for (const s of stacks) {
    const found = s.fns.some((_, i) => seq.every((f, k) => s.fns[i + k] === f));
    if (found) n += s.count;
  }
  return n;
}

describe('ui: call paths of the hot-functions tree (numbers that nest)', () => {
  it('every path counts exactly the samples whose stack holds it, and children never exceed their parent (random stacks with recursion)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = rng(seed);
      const stacks = Array.from({ length: 60 }, () => ({
        // Few functions and deep stacks: recursion (f → g → f) happens often.
        fns: Array.from({ length: 1 + Math.floor(r() * 7) }, () => Math.floor(r() * 5)),
        count: 1 + Math.floor(r() * 20),
      }));
      const paths = new CallPaths(treeOf(stacks));
      for (let fn = 0; fn < 5; fn++) {
        const root = paths.root(fn);
        assert.equal(root.samples, holding(stacks, [fn]), `seed ${seed}: root ${fn}`);
        const check = (p: CallPath, dir: 'callees' | 'callers', depth: number): void => {
          // canExtend (what the tree asks of each row it shows) says whether extend gives any.
          assert.equal(paths.canExtend(p, dir), paths.extend(p, dir).length > 0, `seed ${seed}: canExtend ${dir} ${p.fns.join('→')}`);
          for (const c of paths.extend(p, dir)) {
            // Callers extend upwards: the stack (root first) holds them before F.
            const seq = dir === 'callees' ? [...c.fns] : [...c.fns].reverse();
            assert.equal(c.samples, holding(stacks, seq), `seed ${seed}: ${dir} ${c.fns.join('→')}`);
            assert.ok(c.samples <= p.samples, `seed ${seed}: ${c.fns.join('→')} (${c.samples}) exceeds its parent (${p.samples})`);
            if (depth < 3) check(c, dir, depth + 1);
          }
        };
        check(root, 'callees', 1);
        check(root, 'callers', 1);
      }
    }
  });

  it('children are sorted hottest first, and a leaf-only path has no children', () => {
    const stacks = [
      { fns: [0, 1, 2], count: 5 },
      { fns: [0, 3], count: 9 },
    ];
    const paths = new CallPaths(treeOf(stacks));
    assert.deepEqual(
      paths.extend(paths.root(0), 'callees').map((p) => [p.fns, p.samples]),
      [
        [[0, 3], 9],
        [[0, 1], 5],
      ],
    );
    assert.deepEqual(paths.extend(paths.root(2), 'callees'), []);
    assert.deepEqual(
      paths.extend(paths.root(2), 'callers').map((p) => [p.fns, p.samples]),
      [[[2, 1], 5]],
    );
    assert.deepEqual(paths.extend(paths.root(0), 'callers'), []);
  });
});
