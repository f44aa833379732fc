import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeJsonInSlices } from '../../../src/util/jsonInSlices';
import { rng } from '../../support/rng';

/** A profile-shaped value: long number columns, many small objects, nested arrays, odd strings. */
function bigValue(n: number): unknown {
  const rnd = rng(13);
  const ints = (k: number): number[] => Array.from({ length: k }, () => Math.floor(rnd() * 1e6));
  return {
    version: 1,
    source: 'perf',
    event: { name: 'cpu-clock', unit: 'nanoseconds', periodPerSample: 1e9 / 999, fallbackReason: undefined },
    functions: Array.from({ length: n / 10 }, (_, i) => ({
      name: `main.f${i} “ü” \n\u2028`,
      selfSamples: i,
      cumSamples: 2 * i,
      file: i % 3 ? undefined : '/src/a.go',
    })),
    callTree: { parents: ints(n), functions: ints(n), callLines: ints(n), totalSamples: ints(n), selfSamples: ints(n) },
    stacks: {
      locations: Array.from({ length: n / 20 }, (_, i) => ({ address: `0x${i.toString(16)}`, frames: [{ function: i, line1: 3 }] })),
      stacks: Array.from({ length: n / 5 }, () => ints(1 + Math.floor(rnd() * 30))),
      counts: ints(n / 5),
    },
    mixed: [
      1,
      'two',
      null,
      undefined,
      () => 0,
      Symbol('s'),
      NaN,
      -0,
      Infinity,
      true,
      { toJSON: () => 'via toJSON' },
      new Date(0),
      [],
      {},
      [[]],
    ],
    sparse: [1, , 3], // eslint-disable-line no-sparse-arrays
    boxed: [new Number(4), new String('s'), new Boolean(false)],
    skipped: undefined,
    fn: () => 1,
  };
}

describe('util/jsonInSlices', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-json-slices-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  /** The text writeJsonInSlices wrote for `v`. */
  async function written(v: unknown, sliceMs?: number): Promise<string> {
    const file = path.join(dir, `v${n++}.json`);
    await writeJsonInSlices(file, v, sliceMs);
    return fs.readFileSync(file, 'utf8');
  }

  it('writes exactly what JSON.stringify writes, for a large profile-shaped value and odd values', async () => {
    const v = bigValue(200_000);
    assert.equal(await written(v), JSON.stringify(v));
    for (const odd of [null, 0, -1.5, 'text', true, [], {}, [undefined], { a: undefined }, new Date(86_400_000), { toJSON: () => 'x' }])
      assert.equal(await written(odd), JSON.stringify(odd), JSON.stringify(odd));
    // What JSON has no text for is refused, not written as an empty file.
    await assert.rejects(writeJsonInSlices(path.join(dir, 'none.json'), undefined), TypeError);
    await assert.rejects(
      writeJsonInSlices(path.join(dir, 'none.json'), () => 1),
      TypeError,
    );
  });

  it('lets the event loop run between slices of a large value', async () => {
    const v = bigValue(200_000);
    let turns = 0;
    let stop = false;
    const tick = (): void => {
      turns++;
      if (!stop) setImmediate(tick);
    };
    setImmediate(tick);
    const text = await written(v, 0);
    stop = true;
    assert.equal(text, JSON.stringify(v));
    // With a zero budget it yields every few dozen pieces: the loop ran many times meanwhile.
    assert.ok(turns > 10, `the event loop ran ${turns} times while the value was written`);
  });

  it('throws TypeError as JSON.stringify does for a circular structure and a BigInt', async () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = { back: a };
    await assert.rejects(written(a), TypeError);
    await assert.rejects(written({ n: 10n }), TypeError);
    // A value seen twice but not inside itself is no circle.
    const shared = { k: [1, 2] };
    assert.equal(await written({ a: shared, b: [shared, shared] }), JSON.stringify({ a: shared, b: [shared, shared] }));
  });
});
