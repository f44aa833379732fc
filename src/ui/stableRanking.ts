/**
 * A ranking that does not jump while a recording streams in. Items are ranked by a sample count,
 * hottest first, except that two items whose counts differ by no more than sampling noise keep
 * the order they had in the previous ranking: a refresh with a second more of samples reorders
 * only where a rank really changed.
 *
 * Noise: sample counts are Poisson-like, so the difference of two counts a and b has a standard
 * deviation of about √(a + b); an item must be above another when its count is larger by more
 * than NOISE_SIGMAS of those (3, as the baseline diff's threshold: many pairs are looked at
 * at once). That relation is transitive and monotone in both counts, so the items that nothing
 * left is significantly hotter than are always a run at the top of the count order; of those,
 * the one ranked highest before comes next (new items by count). The result is thus the
 * previous order, changed only where the counts now say otherwise. Pure: no vscode import.
 */

export const NOISE_SIGMAS = 3;

/** True when `a` samples are more than `b` by more than sampling noise. */
export function significantlyMore(a: number, b: number): boolean {
  return a - b > NOISE_SIGMAS * Math.sqrt(a + b);
}

/**
 * `items` ranked by `count` (highest first; `tieBreak` orders equal counts and new items among
 * themselves). `previousRank`: an item's place in the last ranking (undefined: new, or no
 * previous ranking: then this is a plain sort).
 */
export function stableRanking<T>(
  items: readonly T[],
  count: (item: T) => number,
  tieBreak: (a: T, b: T) => number,
  previousRank?: (item: T) => number | undefined,
): T[] {
  const sorted = [...items].sort((a, b) => count(b) - count(a) || tieBreak(a, b));
  if (!previousRank) return sorted;
  const n = sorted.length;
  const counts = sorted.map(count);
  // Key of each candidate: its previous rank (new items after every ranked one), then its place by count.
  const prev = sorted.map((it) => previousRank(it) ?? Number.POSITIVE_INFINITY);
  const before = (i: number, j: number): boolean => prev[i]! < prev[j]! || (prev[i] === prev[j] && i < j);
  const heap = new MinHeap(before);
  const taken = new Uint8Array(n);
  const out: T[] = [];
  let head = 0; // the hottest item not yet taken
  let end = 0; // items [0, end) have been candidates
  while (out.length < n) {
    while (taken[head]) head++;
    // Every item the hottest one left is not significantly hotter than may come next.
    while (end < n && !significantlyMore(counts[head]!, counts[end]!)) heap.push(end++);
    const next = heap.pop()!;
    taken[next] = 1;
    out.push(sorted[next]!);
  }
  return out;
}

/** A binary heap of indexes under an order (small and local: only stableRanking needs one). */
class MinHeap {
  private readonly a: number[] = [];

  constructor(private readonly less: (i: number, j: number) => boolean) {}

  push(v: number): void {
    const a = this.a;
    a.push(v);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): number | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length && last !== undefined) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
