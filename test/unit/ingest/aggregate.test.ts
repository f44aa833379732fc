/** The aggregation rules on hand-written stacks: once-per-sample cum, inline chains, call lines, the tree. */
import * as assert from 'node:assert/strict';
import { aggregate, Aggregator, type FrameSource, StackTrie } from '../../../src/ingest/aggregate';
import type { SourceFrame } from '../../../src/symbolize/symbolizer';

const F = (fn: string, line: number, file = '/src/a.go'): SourceFrame => ({ function: fn, file, line });

function source(table: Record<number, SourceFrame[]>): FrameSource {
  return { frames: (k) => table[k] ?? [], address: (k) => `0x${k.toString(16)}` };
}

describe('aggregate', () => {
  it('counts a recursive function once per sample in cum, and self at the leaf only', () => {
    const t = new StackTrie();
    // leaf first: f (line 3) called from f (line 4) called from main.main (line 9)
    t.add([1, 2, 2, 3], 4, 2);
    const a = aggregate(t, source({ 1: [F('f', 3)], 2: [F('f', 4)], 3: [F('main.main', 9)] }));
    const f = a.functions.find((x) => x.name === 'f')!;
    assert.equal(f.selfSamples, 2);
    assert.equal(f.cumSamples, 2);
    const l4 = a.lines.find((l) => l.line1 === 4)!;
    assert.equal(l4.cumSamples, 2);
    assert.equal(l4.selfSamples, 0);
    // The tree keeps the recursion as nested nodes: main.main > f > f > f.
    assert.deepEqual(a.callTree.parents, [-1, 0, 1, 2]);
    assert.deepEqual(a.callTree.totalSamples, [2, 2, 2, 2]);
    assert.deepEqual(a.callTree.selfSamples, [0, 0, 0, 2]);
    assert.deepEqual(a.callTree.callLines, [0, 9, 4, 4]);
  });

  it('expands inline chains: inlined functions are their own entries, call lines come from the outer frame', () => {
    const t = new StackTrie();
    // address 10: mix (line 5) inlined into checksum (line 20) inlined into handler (line 40)
    t.add([10, 11], 2, 3);
    t.add([12, 11], 2, 1);
    const a = aggregate(
      t,
      source({
        10: [F('mix', 5), F('checksum', 20), F('handler', 40)],
        12: [F('handler', 41)],
        11: [F('serve', 7)],
      }),
    );
    const byName = new Map(a.functions.map((f) => [f.name, f]));
    assert.deepEqual([byName.get('mix')!.selfSamples, byName.get('mix')!.cumSamples, byName.get('mix')!.inlinedOnly], [3, 3, true]);
    assert.deepEqual(
      [byName.get('checksum')!.selfSamples, byName.get('checksum')!.cumSamples, byName.get('checksum')!.inlinedOnly],
      [0, 3, true],
    );
    assert.deepEqual(
      [byName.get('handler')!.selfSamples, byName.get('handler')!.cumSamples, byName.get('handler')!.inlinedOnly],
      [1, 4, undefined],
    );
    assert.deepEqual([byName.get('serve')!.selfSamples, byName.get('serve')!.cumSamples], [0, 4]);
    const l5 = a.lines.find((l) => l.line1 === 5)!;
    assert.deepEqual(l5.inlinedInto, ['checksum', 'handler']);
    const l40 = a.lines.find((l) => l.line1 === 40)!;
    assert.equal(l40.cumSamples, 3);
    // Tree (pre-order, heaviest child first): serve > handler > checksum > mix.
    const names = a.callTree.functions.map((i) => a.functions[i]!.name);
    assert.deepEqual(names, ['serve', 'handler', 'checksum', 'mix']);
    assert.deepEqual(a.callTree.callLines, [0, 7, 40, 20]);
    assert.deepEqual(a.callTree.totalSamples, [4, 4, 3, 3]);
    assert.deepEqual(a.callTree.selfSamples, [0, 1, 0, 3]);
    // The stack table keeps inline frames innermost first.
    const loc10 = a.stacks.locations.find((l) => l.address === '0xa')!;
    assert.deepEqual(
      loc10.frames.map((f) => a.functions[f.function]!.name),
      ['mix', 'checksum', 'handler'],
    );
    assert.deepEqual(a.stacks.counts.slice().sort(), [1, 3]);
  });

  it('gives self to the innermost frame that symbolizes, and counts stacks that map to nothing', () => {
    const t = new StackTrie();
    t.add([99, 1], 2, 5); // leaf at an address nothing covers
    t.add([98], 1, 2); // nothing at all
    const a = aggregate(t, source({ 1: [F('f', 3)] }));
    assert.equal(a.functions.find((f) => f.name === 'f')!.selfSamples, 5);
    assert.equal(a.unsymbolizedSamples, 2);
    assert.deepEqual(a.callTree.selfSamples, [5]);
  });

  it('lays the tree out in pre-order with children heaviest first', () => {
    const t = new StackTrie();
    t.add([2, 1], 2, 1);
    t.add([3, 1], 2, 4);
    t.add([4, 3, 1], 3, 2);
    const a = aggregate(t, source({ 1: [F('root', 1)], 2: [F('light', 2)], 3: [F('heavy', 3)], 4: [F('leaf', 4)] }));
    const names = a.callTree.functions.map((i) => a.functions[i]!.name);
    assert.deepEqual(names, ['root', 'heavy', 'leaf', 'light']);
    assert.deepEqual(a.callTree.parents, [-1, 0, 1, 0]);
    assert.deepEqual(a.callTree.totalSamples, [7, 6, 2, 1]);
  });

  it('Aggregator: updated after each batch of a growing trie, it ends where aggregate() of the whole trie is', () => {
    // Keys 1..40: some unsymbolizable, some with inline chains, functions spread over files.
    const table: Record<number, SourceFrame[]> = {};
    for (let k = 1; k <= 40; k++) {
      if (k % 11 === 0) continue;
      const outer = F(`pkg.f${k % 9}`, 10 + k, `/src/${k % 3}.go`);
      table[k] = k % 4 === 0 ? [F(`pkg.inl${k % 5}`, 100 + k, '/src/inl.go'), outer] : [outer];
    }
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const stacks: { keys: number[]; count: number }[] = [];
    for (let k = 0; k < 600; k++) {
      const depth = 1 + rnd(7);
      // Repeats of earlier stacks too, so counts of existing nodes change between updates.
      stacks.push(k > 50 && rnd(3) === 0 ? stacks[rnd(k)]! : { keys: Array.from({ length: depth }, () => 1 + rnd(40)), count: 1 + rnd(5) });
    }
    const whole = new StackTrie();
    for (const st of stacks) whole.add(st.keys, st.keys.length, st.count);
    const expected = aggregate(whole, source(table));

    const growing = new StackTrie();
    const agg = new Aggregator(source(table));
    let updates = 0;
    for (let k = 0; k < stacks.length; k++) {
      growing.add(stacks[k]!.keys, stacks[k]!.keys.length, stacks[k]!.count);
      if (rnd(25) === 0) {
        const mid = agg.update(growing);
        updates++;
        // Each update is a whole, consistent model of what the trie holds by then.
        assert.equal(
          mid.stacks.counts.reduce((a, b) => a + b, 0),
          growing.total,
        );
      }
      if (rnd(40) === 0) agg.advance(growing);
    }
    assert.ok(updates > 5);
    assert.deepEqual(agg.update(growing), expected);
  });

  it('Aggregator: results are new objects, never changed by later updates', () => {
    const t = new StackTrie();
    const agg = new Aggregator(source({ 1: [F('f', 3)], 2: [F('main.main', 9)] }));
    t.add([1, 2], 2, 1);
    const first = agg.update(t);
    const copy = JSON.parse(JSON.stringify(first)) as unknown;
    t.add([1, 2], 2, 5);
    t.add([2], 1, 2);
    const second = agg.update(t);
    assert.deepEqual(first, copy);
    assert.equal(second.functions.find((x) => x.name === 'main.main')!.cumSamples, 8);
  });
});
