/**
 * The extension's side of the flame-graph paging protocol, without the webview: which messages
 * go out for a tree, and which of the page's requests still concern the tree on show. Every tree
 * (and every clear) starts a new generation; the page echoes it in 'more' and 'open', and a
 * request of an older generation (the page asked before the profile was switched) is dropped —
 * never answered with a page or a function of the new tree.
 */
import type { CallTree } from '../model/profile';
import { FLAME_PAGE_SIZE, type FlameInit, type FromFlameGraph, type ToFlameGraph } from '../webview/messages';

export type FlameInitFields = Omit<FlameInit, 'type' | 'gen' | 'nodeCount'>;

export class FlameFeed {
  private gen = 0;
  private tree: CallTree | undefined;
  private diff: number[] | undefined;
  /** Nodes the page has acknowledged in this generation (it asks for the next page after storing one). */
  acked = 0;

  /** The messages that start showing `tree`: its init and its first page (or 'done' when empty). */
  start(tree: CallTree, init: FlameInitFields, diff?: number[]): ToFlameGraph[] {
    this.gen++;
    this.tree = tree;
    this.diff = diff;
    this.acked = 0;
    return [{ type: 'init', gen: this.gen, nodeCount: tree.parents.length, ...init }, this.page(0)];
  }

  /** The message that empties the page; requests of the tree shown before are stale from now on. */
  clear(message: string): ToFlameGraph {
    this.gen++;
    this.tree = undefined;
    this.diff = undefined;
    this.acked = 0;
    return { type: 'clear', gen: this.gen, message };
  }

  /** Whether a request from the page concerns the tree on show now. */
  current(m: Extract<FromFlameGraph, { gen: number }>): boolean {
    return m.gen === this.gen && this.tree !== undefined;
  }

  /** The answer to the page's 'more': the next page or 'done'; undefined for a stale request. */
  more(m: Extract<FromFlameGraph, { type: 'more' }>): ToFlameGraph | undefined {
    if (!this.current(m)) return undefined;
    this.acked = m.from;
    return this.page(m.from);
  }

  /** The call-tree node a current 'open' names; undefined for a stale one or a node out of range. */
  node(m: Extract<FromFlameGraph, { type: 'open' }>): number | undefined {
    return this.current(m) && m.node >= 0 && m.node < this.tree!.parents.length ? m.node : undefined;
  }

  /** The message that zooms the page into `node` of the tree on show; undefined without a tree or for a node out of range. */
  zoom(node: number): ToFlameGraph | undefined {
    return this.tree && node >= 0 && node < this.tree.parents.length ? { type: 'zoom', gen: this.gen, node } : undefined;
  }

  private page(from: number): ToFlameGraph {
    const t = this.tree!;
    if (from >= t.parents.length) return { type: 'done', gen: this.gen };
    const to = Math.min(from + FLAME_PAGE_SIZE, t.parents.length);
    return {
      type: 'nodes',
      gen: this.gen,
      start: from,
      parents: t.parents.slice(from, to),
      functions: t.functions.slice(from, to),
      totalSamples: t.totalSamples.slice(from, to),
      selfSamples: t.selfSamples.slice(from, to),
      ...(this.diff ? { diff: this.diff.slice(from, to) } : {}),
    };
  }
}
