/**
 * A map from numbers to numbers over typed arrays (open addressing), for the per-frame lookups
 * of ingest (address → mapped address, address → trie key id). A Map<number, number> boxes
 * every key and value that is not a small integer, as user addresses of PIE binaries and the
 * NaN "not in the binary" mark are not: an allocation per lookup, and the garbage collector's
 * work after it.
 *
 * Keys are compared exactly (===), so NaN cannot be a key; -0 and 0 are the same key.
 */
export class NumberMap {
  private keys: Float64Array;
  private vals: Float64Array;
  private used: Uint8Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1024) {
    let n = 16;
    while (n < capacity * 2) n *= 2;
    this.keys = new Float64Array(n);
    this.vals = new Float64Array(n);
    this.used = new Uint8Array(n);
    this.mask = n - 1;
  }

  /** The value of key k, or `absent` when k has none. */
  get(k: number, absent: number): number {
    const mask = this.mask,
      keys = this.keys,
      used = this.used;
    for (let slot = slotOf(k, mask); used[slot] !== 0; slot = (slot + 1) & mask) {
      if (keys[slot] === k) return this.vals[slot]!;
    }
    return absent;
  }

  set(k: number, v: number): void {
    if (k !== k) throw new RangeError('NumberMap: NaN is not a key');
    const mask = this.mask,
      keys = this.keys,
      used = this.used;
    let slot = slotOf(k, mask);
    for (; used[slot] !== 0; slot = (slot + 1) & mask) {
      if (keys[slot] === k) {
        this.vals[slot] = v;
        return;
      }
    }
    keys[slot] = k;
    this.vals[slot] = v;
    used[slot] = 1;
    if (++this.size * 2 > mask) this.grow();
  }

  private grow(): void {
    const keys = this.keys,
      vals = this.vals,
      used = this.used;
    const n = keys.length * 2;
    this.keys = new Float64Array(n);
    this.vals = new Float64Array(n);
    this.used = new Uint8Array(n);
    this.mask = n - 1;
    for (let s = 0; s < used.length; s++) {
      if (used[s] === 0) continue;
      let slot = slotOf(keys[s]!, this.mask);
      while (this.used[slot] !== 0) slot = (slot + 1) & this.mask;
      this.keys[slot] = keys[s]!;
      this.vals[slot] = vals[s]!;
      this.used[slot] = 1;
    }
  }
}

/** Mixes both 32-bit halves of an integral double (addresses up to 2^53); any other double still hashes, less well. */
function slotOf(k: number, mask: number): number {
  const lo = k >>> 0;
  const hi = (k / 4294967296) | 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  return h & mask;
}
