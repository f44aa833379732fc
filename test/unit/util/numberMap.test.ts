/** NumberMap against a Map<number, number> given the same operations. */
import * as assert from 'node:assert/strict';
import { NumberMap } from '../../../src/util/numberMap';

describe('NumberMap', function () {
  it('answers as a Map does for addresses of every size (non-PIE, PIE, kernel-like, 2^53) across growth', function () {
    const ref = new Map<number, number>();
    const m = new NumberMap(4);
    let seed = 12345;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const bases = [0x400000, 0x55d4c8a00000, 0x7fff00000000, 2 ** 53 - 2 ** 20, 0];
    for (let k = 0; k < 20_000; k++) {
      const key = bases[k % bases.length]! + Math.floor(rnd() * 65536) * 16;
      const val = rnd() < 0.1 ? NaN : key - 1;
      ref.set(key, val);
      m.set(key, val);
      const probe = bases[(k * 7) % bases.length]! + Math.floor(rnd() * 65536) * 16;
      assert.deepEqual(m.get(probe, -Infinity), ref.has(probe) ? ref.get(probe) : -Infinity);
    }
    assert.equal(m.size, ref.size);
    for (const [k, v] of ref) assert.deepEqual(m.get(k, -Infinity), v);
  });

  it('overwrites, treats -0 as 0, and refuses NaN as a key', function () {
    const m = new NumberMap();
    m.set(7, 1);
    m.set(7, 2);
    assert.equal(m.get(7, -1), 2);
    assert.equal(m.size, 1);
    m.set(-0, 5);
    assert.equal(m.get(0, -1), 5);
    assert.throws(() => m.set(NaN, 1), RangeError);
    assert.equal(m.get(NaN, -1), -1);
  });
});
