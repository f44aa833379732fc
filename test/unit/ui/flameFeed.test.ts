import * as assert from 'node:assert/strict';
import type { CallTree } from '../../../src/model/profile';
import { FlameFeed, type FlameInitFields } from '../../../src/ui/flameFeed';
import { FLAME_PAGE_SIZE, type FlameNodesPage, type ToFlameGraph } from '../../../src/webview/messages';

/** A chain of n nodes (each the child of the one before) whose function index is `fnBase + i`. */
function chain(n: number, fnBase: number): CallTree {
  const idx = Array.from({ length: n }, (_, i) => i);
  return {
    parents: idx.map((i) => i - 1),
    functions: idx.map((i) => fnBase + i),
    callLines: idx.map(() => 0),
    totalSamples: idx.map((i) => n - i),
    selfSamples: idx.map(() => 1),
  };
}

const init: FlameInitFields = { profileKey: 'k', names: [], kinds: [], totalSamples: 1, eventLabel: 'CPU time' };

/** What a page that stores each page and asks for the next (flameGraphMain.ts) ends up with, asking with `gen`. */
function drain(feed: FlameFeed, first: ToFlameGraph, gen: number): { functions: number[]; done: boolean } {
  const functions: number[] = [];
  let m: ToFlameGraph | undefined = first;
  while (m?.type === 'nodes') {
    assert.equal(m.start, functions.length, 'pages arrive in order, none missing or repeated');
    functions.push(...m.functions);
    m = feed.more({ type: 'more', gen, from: m.start + m.parents.length });
  }
  return { functions, done: m?.type === 'done' };
}

describe('flame graph paging: a request from before a profile switch is dropped, never answered with the new tree', () => {
  it('a tree goes over in pages of FLAME_PAGE_SIZE, then done, all under one generation', () => {
    const feed = new FlameFeed();
    const tree = chain(2 * FLAME_PAGE_SIZE + 5, 0);
    const [first, page0] = feed.start(tree, init);
    assert.equal(first!.type, 'init');
    assert.equal(first!.type === 'init' && first.nodeCount, tree.parents.length);
    assert.equal((page0 as FlameNodesPage).parents.length, FLAME_PAGE_SIZE);
    const got = drain(feed, page0!, first!.gen);
    assert.deepEqual(got.functions, tree.functions);
    assert.ok(got.done);
    assert.equal(feed.acked, tree.parents.length);
  });

  it("an old 'more' after a switch gets nothing, and the new tree's pages still arrive whole and once", () => {
    const feed = new FlameFeed();
    const [oldInit] = feed.start(chain(3 * FLAME_PAGE_SIZE, 0), init);
    // The page stored the old tree's first page and asked for the second; the profile switched meanwhile.
    const smaller = chain(FLAME_PAGE_SIZE + 10, 1_000_000);
    const [newInit, newPage0] = feed.start(smaller, init);
    assert.notEqual(newInit!.gen, oldInit!.gen);
    // Unguarded, this was answered with the new tree's second page (or 'done' for a small tree) before the page asked.
    assert.equal(feed.more({ type: 'more', gen: oldInit!.gen, from: FLAME_PAGE_SIZE }), undefined);
    assert.equal(feed.more({ type: 'more', gen: oldInit!.gen, from: 2 * FLAME_PAGE_SIZE }), undefined);
    assert.equal(feed.acked, 0, 'a stale request does not count as an acknowledgement of the new tree');
    const got = drain(feed, newPage0!, newInit!.gen);
    assert.deepEqual(got.functions, smaller.functions);
    assert.ok(got.done);
  });

  it("an old 'open' after a switch opens nothing; a current one names its node", () => {
    const feed = new FlameFeed();
    const [oldInit] = feed.start(chain(10, 0), init);
    assert.equal(feed.node({ type: 'open', gen: oldInit!.gen, node: 3 }), 3);
    const [newInit] = feed.start(chain(10, 50), init);
    assert.equal(feed.node({ type: 'open', gen: oldInit!.gen, node: 3 }), undefined);
    assert.equal(feed.node({ type: 'open', gen: newInit!.gen, node: 3 }), 3);
    assert.equal(feed.node({ type: 'open', gen: newInit!.gen, node: 10 }), undefined, 'a node past the tree');
  });

  it('a zoom ("Show in flame graph") names a node of the tree on show, under its generation; none without a tree', () => {
    const feed = new FlameFeed();
    assert.equal(feed.zoom(0), undefined, 'no tree yet');
    const [first] = feed.start(chain(10, 0), init);
    assert.deepEqual(feed.zoom(4), { type: 'zoom', gen: first!.gen, node: 4 });
    assert.equal(feed.zoom(10), undefined, 'a node past the tree');
    feed.clear('No profile loaded.');
    assert.equal(feed.zoom(4), undefined, 'after a clear');
  });

  it('after a clear, no request of the tree shown before is answered', () => {
    const feed = new FlameFeed();
    const [oldInit] = feed.start(chain(2 * FLAME_PAGE_SIZE, 0), init);
    const clear = feed.clear('No profile loaded.');
    assert.equal(clear.type, 'clear');
    assert.notEqual(clear.gen, oldInit!.gen);
    assert.equal(feed.more({ type: 'more', gen: oldInit!.gen, from: FLAME_PAGE_SIZE }), undefined);
    assert.equal(feed.more({ type: 'more', gen: clear.gen, from: 0 }), undefined, 'nothing to page after a clear');
    assert.equal(feed.node({ type: 'open', gen: clear.gen, node: 0 }), undefined);
  });

  it('an empty tree is init then done; pages of a baseline diff carry their slice of it', () => {
    const feed = new FlameFeed();
    const [i0, d0] = feed.start(chain(0, 0), init);
    assert.equal(d0!.type, 'done');
    assert.equal(d0!.gen, i0!.gen);
    const tree = chain(FLAME_PAGE_SIZE + 3, 0);
    const diff = tree.parents.map((_, i) => i / 1e6);
    const [i1, p0] = feed.start(tree, init, diff);
    const p1 = feed.more({ type: 'more', gen: i1!.gen, from: FLAME_PAGE_SIZE }) as FlameNodesPage;
    assert.deepEqual([...(p0 as FlameNodesPage).diff!, ...p1.diff!], diff);
  });
});
