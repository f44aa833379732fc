/** FloorIndex against a plain linear scan, on dense, sparse, duplicated and far-apart keys. */
import * as assert from 'node:assert/strict';
import { FloorIndex } from '../../../src/formats/dwarf/floorIndex';

function linearFloor(keys: Float64Array, x: number): number {
  let r = -1;
  for (let i = 0; i < keys.length; i++) if (keys[i]! <= x) r = i;
  return r;
}

describe('FloorIndex', () => {
  let seed = 42;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 0x1_0000_0000;
  };
  const cases: [string, number[]][] = [
    ['empty', []],
    ['one key', [0x401000]],
    ['dense with duplicates', Array.from({ length: 500 }, (_, i) => 0x401000 + Math.floor(i / 3) * 4)],
    [
      'two far-apart clusters',
      [...Array.from({ length: 300 }, (_, i) => 0x401000 + i * 5), ...Array.from({ length: 300 }, (_, i) => 0x7f00_0000_0000 + i * 7)],
    ],
    [
      'random gaps',
      (() => {
        let a = 0x1000;
        return Array.from({ length: 2000 }, () => (a += Math.floor(rnd() * rnd() * 5000)));
      })(),
    ],
  ];
  for (const [name, list] of cases) {
    it(name, () => {
      const keys = Float64Array.from(list);
      const ix = new FloorIndex(keys);
      const probes = [0, -1, 0x400fff, ...list, ...list.map((k) => k - 1), ...list.map((k) => k + 1), 2 ** 53];
      for (let i = 0; i < 2000 && list.length; i++) probes.push(list[0]! + Math.floor(rnd() * (list[list.length - 1]! - list[0]! + 10)));
      for (const x of probes) {
        const got = ix.floor(x);
        const want = linearFloor(keys, x);
        // Among equal keys it must be the last one (llvm takes the last row at an address).
        assert.equal(got, want, `floor(${x})`);
      }
    });
  }
});
