import * as assert from 'node:assert/strict';
import { significantlyMore, stableRanking } from '../../../src/ui/stableRanking';

type Item = { name: string; n: number };
const count = (i: Item): number => i.n;
const byName = (a: Item, b: Item): number => a.name.localeCompare(b.name);
const names = (items: Item[]): string[] => items.map((i) => i.name);
const items = (o: Record<string, number>): Item[] => Object.entries(o).map(([name, n]) => ({ name, n }));
/** previousRank from a list of names, top first. */
const ranksOf = (order: string[]) => {
  const m = new Map(order.map((name, rank) => [name, rank]));
  return (i: Item): number | undefined => m.get(i.name);
};

/** A seeded generator (a test that fails must fail again the same way). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff) / 0x80000000;
}

/** Poisson(λ) draw (Knuth for small λ, normal approximation above). */
function poisson(rand: () => number, lambda: number): number {
  if (lambda > 50) {
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    return Math.max(0, Math.round(lambda + z * Math.sqrt(lambda)));
  }
  const l = Math.exp(-lambda);
  let k = 0;
  for (let p = rand(); p > l; p *= rand()) k++;
  return k;
}

describe('ui: stable ranking of live refreshes (order kept where counts differ by noise)', () => {
  it('significance: a difference of more than 3 √(a+b) samples', () => {
    assert.equal(significantlyMore(130, 100), false); // 30 < 3·√230 ≈ 45.5
    assert.equal(significantlyMore(150, 100), true); // 50 > 3·√250 ≈ 47.4
    assert.equal(significantlyMore(100, 150), false);
    assert.equal(significantlyMore(5, 0), false); // 5 < 3·√5 ≈ 6.7
    assert.equal(significantlyMore(10, 0), true);
    assert.equal(significantlyMore(7, 7), false);
  });

  it('without a previous ranking it is a plain sort: count, then the tie-break', () => {
    const got = stableRanking(items({ c: 5, a: 9, b: 5, d: 0 }), count, byName);
    assert.deepEqual(names(got), ['a', 'b', 'c', 'd']);
  });

  it('keeps the previous order of items whose counts differ by noise', () => {
    const got = stableRanking(items({ a: 120, b: 100, c: 110 }), count, byName, ranksOf(['b', 'c', 'a']));
    assert.deepEqual(names(got), ['b', 'c', 'a']);
  });

  it('reorders where a rank really changed, and only there', () => {
    // a is now significantly hotter than b and c; b and c are still within noise of each other.
    const got = stableRanking(items({ a: 400, b: 100, c: 110, d: 5 }), count, byName, ranksOf(['d', 'b', 'c', 'a']));
    assert.deepEqual(names(got), ['a', 'b', 'c', 'd']);
  });

  it('places a new item by its count among the ranked ones', () => {
    const got = stableRanking(items({ a: 1000, b: 10, new: 500 }), count, byName, ranksOf(['a', 'b']));
    assert.deepEqual(names(got), ['a', 'new', 'b']);
    // A new item within noise of a ranked one comes after it.
    const close = stableRanking(items({ a: 100, new: 105 }), count, byName, ranksOf(['a']));
    assert.deepEqual(names(close), ['a', 'new']);
  });

  it('never ranks an item above one significantly hotter, and keeps an order the counts allow (random cases)', () => {
    const rand = lcg(7);
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(rand() * 40);
      const list: Item[] = Array.from({ length: n }, (_, i) => ({ name: `f${i}`, n: Math.floor(rand() ** 3 * 2000) }));
      const previous = [...list].sort(() => rand() - 0.5).map((i) => i.name);
      const dropped = new Set(previous.filter(() => rand() < 0.2));
      const got = stableRanking(list, count, byName, ranksOf(previous.filter((p) => !dropped.has(p))));
      assert.deepEqual([...names(got)].sort(), [...names(list)].sort(), 'a permutation');
      for (let i = 0; i < got.length; i++)
        for (let j = i + 1; j < got.length; j++)
          if (significantlyMore(got[j]!.n, got[i]!.n)) assert.fail(`${got[j]!.name} (${got[j]!.n}) below ${got[i]!.name} (${got[i]!.n})`);
      // Ranked again with its own result as the previous ranking, nothing moves.
      assert.deepEqual(names(stableRanking(list, count, byName, ranksOf(names(got)))), names(got));
    }
  });

  it('a simulated live recording: equal rates stop swapping, different rates end in the right order', () => {
    // Functions sampled at fixed rates, counts growing by Poisson draws each second for 30 s.
    const rates: Record<string, number> = { a1: 200, a2: 200, b1: 60, b2: 60, b3: 60, c: 400, d: 20, e1: 5, e2: 5 };
    const rand = lcg(42);
    const totals = Object.fromEntries(Object.keys(rates).map((k) => [k, 0]));
    let stable: string[] | undefined;
    let plain: string[] | undefined;
    let stableMoves = 0;
    let plainMoves = 0;
    const moved = (before: string[] | undefined, after: string[]): number =>
      before ? after.filter((name, i) => before[i] !== name).length : 0;
    for (let second = 1; second <= 30; second++) {
      for (const k of Object.keys(rates)) totals[k]! += poisson(rand, rates[k]!);
      const list = items(totals);
      const s = names(stableRanking(list, count, byName, stable && ranksOf(stable)));
      const p = names(stableRanking(list, count, byName));
      stableMoves += moved(stable, s);
      plainMoves += moved(plain, p);
      stable = s;
      plain = p;
    }
    // Rates that differ (2x and more) end in their order; equal ones in some order, together.
    const at = (name: string): number => stable!.indexOf(name);
    assert.ok(at('c') < Math.min(at('a1'), at('a2')), stable!.join(' '));
    assert.ok(Math.max(at('a1'), at('a2')) < Math.min(at('b1'), at('b2'), at('b3')), stable!.join(' '));
    assert.ok(Math.max(at('b1'), at('b2'), at('b3')) < at('d') && at('d') < Math.min(at('e1'), at('e2')), stable!.join(' '));
    // Rows moved between refreshes: only while early counts could not tell the rates apart.
    console.log(`      rows moved over 30 refreshes: stable ${stableMoves}, plain sort ${plainMoves}`);
    assert.ok(stableMoves < plainMoves, `stable ${stableMoves} rows moved, plain sort ${plainMoves}`);
  });
});
