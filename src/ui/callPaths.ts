/**
 * Rows of the hot-functions tree as call paths, so their numbers nest: a row stands for a path
 * (F, then who F calls — or who calls F — one level per row) and counts the samples whose stack
 * holds that path, each sample once. A child's path extends its parent's, so a child never
 * shows more than its parent (the per-function edge totals of FunctionGraph did, one level down).
 * Built on the model's call tree (pre-order: a subtree is a contiguous range). Pure: no vscode import.
 */
import type { CallTree } from '../model/profile';

export type PathDirection = 'callees' | 'callers';

export interface CallPath {
  /** Function indexes along the path: [F, next, next, …] in the direction's order. */
  fns: readonly number[];
  /**
   * Call-tree nodes where the path ends (callees: the last function's node; callers: F's node),
   * in pre-order.
   */
  nodes: readonly number[];
  /** Samples whose stack holds the path (each counted once). */
  samples: number;
}

export class CallPaths {
  private readonly subtreeEnd: Int32Array;
  private readonly nodesOfFn = new Map<number, number[]>();
  private readonly rootCache = new Map<number, CallPath>();
  private readonly extendCache = new WeakMap<CallPath, Partial<Record<PathDirection, CallPath[]>>>();

  constructor(private readonly tree: CallTree) {
    const n = tree.parents.length;
    this.subtreeEnd = new Int32Array(n);
    for (let i = n - 1; i >= 0; i--) {
      if (this.subtreeEnd[i] === 0) this.subtreeEnd[i] = i + 1;
      const p = tree.parents[i]!;
      if (p >= 0 && this.subtreeEnd[i]! > this.subtreeEnd[p]!) this.subtreeEnd[p] = this.subtreeEnd[i]!;
    }
    for (let i = 0; i < n; i++) {
      const f = tree.functions[i]!;
      let list = this.nodesOfFn.get(f);
      if (!list) this.nodesOfFn.set(f, (list = []));
      list.push(i);
    }
  }

  /** The one-function path [fn]: its samples are the function's cumulative samples. */
  root(fn: number): CallPath {
    let path = this.rootCache.get(fn);
    if (!path) {
      const nodes = this.nodesOfFn.get(fn) ?? [];
      this.rootCache.set(fn, (path = { fns: [fn], nodes, samples: this.samplesUnder(nodes) }));
    }
    return path;
  }

  /** The paths one function longer, hottest first (cached per path object). */
  extend(path: CallPath, direction: PathDirection): CallPath[] {
    let cached = this.extendCache.get(path);
    if (!cached) this.extendCache.set(path, (cached = {}));
    return (cached[direction] ??= this.computeExtend(path, direction));
  }

  /** Whether extend() would give any path, without making them (the tree asks it of every row it shows). */
  canExtend(path: CallPath, direction: PathDirection): boolean {
    if (direction === 'callees') return path.nodes.some((node) => this.subtreeEnd[node]! > node + 1);
    const { parents } = this.tree;
    const steps = path.fns.length;
    return path.nodes.some((node) => {
      let a = node;
      for (let k = 0; k < steps && a >= 0; k++) a = parents[a]!;
      return a >= 0;
    });
  }

  private computeExtend(path: CallPath, direction: PathDirection): CallPath[] {
    const { parents, functions } = this.tree;
    const byFn = new Map<number, number[]>();
    const push = (fn: number, node: number): void => {
      let list = byFn.get(fn);
      if (!list) byFn.set(fn, (list = []));
      list.push(node);
    };
    if (direction === 'callees') {
      for (const node of path.nodes) {
        // Children of `node` are the nodes in its subtree whose parent is `node`.
        for (let c = node + 1; c < this.subtreeEnd[node]!; c = this.subtreeEnd[c]!) push(functions[c]!, c);
      }
    } else {
      // Callers: walk up from F's node as many steps as the path is long.
      const steps = path.fns.length;
      for (const node of path.nodes) {
        let a = node;
        for (let k = 0; k < steps && a >= 0; k++) a = parents[a]!;
        if (a >= 0) push(functions[a]!, node);
      }
    }
    const out: CallPath[] = [];
    for (const [fn, nodes] of byFn) {
      nodes.sort((a, b) => a - b);
      out.push({ fns: [...path.fns, fn], nodes, samples: this.samplesUnder(nodes) });
    }
    return out.sort((a, b) => b.samples - a.samples || a.fns.at(-1)! - b.fns.at(-1)!);
  }

  /** Samples in the union of the nodes' subtrees: a node inside an earlier one's subtree (recursion) adds nothing. */
  private samplesUnder(nodes: readonly number[]): number {
    let sum = 0;
    let coveredUntil = -1;
    for (const i of nodes) {
      if (i < coveredUntil) continue;
      sum += this.tree.totalSamples[i]!;
      coveredUntil = this.subtreeEnd[i]!;
    }
    return sum;
  }
}
