/**
 * "Last key ≤ x" over a sorted Float64Array in O(1): a bucket table over the key range gives
 * the answer for each bucket's start, then a short forward scan over adjacent keys. Random
 * lookups in big tables cost a couple of cache misses instead of a binary search's twenty.
 */
export class FloorIndex {
  private readonly base: number;
  private readonly scale: number;
  private readonly buckets: Int32Array;

  constructor(
    readonly keys: Float64Array,
    bucketsPerKey = 8,
  ) {
    const n = keys.length;
    if (n === 0) {
      this.base = 0;
      this.scale = 1;
      this.buckets = new Int32Array(0);
      return;
    }
    this.base = keys[0]!;
    const span = keys[n - 1]! - this.base + 1;
    // The narrowest power-of-two bucket width (from 4 bytes, about one instruction) that keeps
    // the table within bucketsPerKey buckets per key: keys are dense in some places and sparse
    // in others (a unit's code split across the text), so a width fitted to the average
    // spacing would leave long scans where they are dense.
    let width = 4;
    while (span / width > n * bucketsPerKey + 16) width *= 2;
    this.scale = 1 / width;
    const count = Math.floor((span - 1) * this.scale) + 1;
    const buckets = new Int32Array(count);
    let i = 0;
    for (let b = 0; b < count; b++) {
      const start = this.base + b * width;
      while (i + 1 < n && keys[i + 1]! <= start) i++;
      buckets[b] = i;
    }
    this.buckets = buckets;
  }

  /** Index of the last key ≤ x, or -1. */
  floor(x: number): number {
    const keys = this.keys;
    if (keys.length === 0 || !(x >= this.base)) return -1;
    const b = Math.floor((x - this.base) * this.scale);
    const n = keys.length;
    let i = b < this.buckets.length ? this.buckets[b]! : n - 1;
    while (i + 1 < n && keys[i + 1]! <= x) i++;
    return i;
  }
}
