/** profile.proto: hand-written wire bytes, encode/decode round trips, and bad input. */
import * as assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { decodePprof, encodePprof, gzipPprof, type PprofProfile } from '../../../src/formats/pprof';
import { FormatError } from '../../../src/util/byteReader';
import { goFunction, pprofSample, symbolizedMapping } from '../../support/pprofBuilder';

/** A length-delimited field. */
const ld = (field: number, body: number[]): number[] => [(field << 3) | 2, body.length, ...body];
const str = (s: string): number[] => [...Buffer.from(s, 'latin1')];
const varint = (field: number, v: number): number[] => [(field << 3) | 0, v];

describe('pprof profile.proto', () => {
  it("decodes hand-written bytes with profile.proto's field numbers", () => {
    const bytes = new Uint8Array([
      ...ld(1, [...varint(1, 1), ...varint(2, 2)]), // sample_type {type: "samples", unit: "count"}
      ...ld(2, [...ld(1, [1, 2]), ...ld(2, [7])]), // sample {location_id: [1, 2] (packed), value: [7] (packed)}
      ...ld(3, [...varint(1, 1), ...varint(2, 0x40), ...varint(5, 5), ...varint(7, 1)]), // mapping {id 1, start 0x40, filename "/bin/x", has_functions}
      ...ld(4, [
        ...varint(1, 1),
        ...varint(2, 1),
        ...varint(3, 0x41),
        ...ld(4, [...varint(1, 1), ...varint(2, 12)]),
        ...ld(4, [...varint(1, 2), ...varint(2, 30)]),
      ]),
      ...ld(4, [...varint(1, 2), ...ld(4, [...varint(1, 2), ...varint(2, 31)])]),
      ...ld(5, [...varint(1, 1), ...varint(2, 3), ...varint(4, 6), ...varint(5, 10)]), // function {id 1, name "main.f", filename "/a.go", start_line 10}
      ...ld(5, [...varint(1, 2), ...varint(2, 4), ...varint(4, 6)]),
      ...ld(6, []),
      ...ld(6, str('samples')),
      ...ld(6, str('count')),
      ...ld(6, str('main.f')),
      ...ld(6, str('main.main')),
      ...ld(6, str('/bin/x')),
      ...ld(6, str('/a.go')),
      ...varint(10, 100), // duration_nanos
      ...varint(12, 99), // period
    ]);
    const p = decodePprof(bytes);
    assert.deepEqual(p.sampleTypes, [{ type: 'samples', unit: 'count' }]);
    assert.deepEqual(p.samples, [{ locationIds: [1, 2], values: [7], labels: [] }]);
    assert.equal(p.mappings[0]!.filename, '/bin/x');
    assert.equal(p.mappings[0]!.memoryStart, 0x40);
    assert.equal(p.mappings[0]!.hasFunctions, true);
    assert.deepEqual(
      p.locations[0]!.lines.map((l) => [l.functionId, l.line]),
      [
        [1, 12],
        [2, 30],
      ],
    );
    assert.equal(p.locations[0]!.address, 0x41);
    assert.deepEqual(
      p.functions.map((f) => [f.name, f.filename, f.startLine]),
      [
        ['main.f', '/a.go', 10],
        ['main.main', '/a.go', 0],
      ],
    );
    assert.equal(p.durationNanos, 100);
    assert.equal(p.period, 99);
    // gzip is detected
    assert.deepEqual(decodePprof(zlib.gzipSync(bytes)), p);
  });

  it('encodes and decodes back to the same profile', () => {
    const p: PprofProfile = {
      sampleTypes: [
        { type: 'samples', unit: 'count' },
        { type: 'cpu', unit: 'nanoseconds' },
      ],
      samples: [
        {
          locationIds: [1, 2],
          values: [3, 3_003_003],
          labels: [
            { key: 'thread', str: 'main' },
            { key: 'bytes', num: 5, numUnit: 'bytes' },
          ],
        },
        pprofSample([2], [1, 1_001_001]),
      ],
      mappings: [symbolizedMapping('/bin/x', 'abc/def')],
      locations: [
        {
          id: 1,
          mappingId: 1,
          address: 0x401234,
          isFolded: false,
          lines: [
            { functionId: 1, line: 5, column: 0 },
            { functionId: 2, line: 20, column: 0 },
          ],
        },
        { id: 2, mappingId: 1, address: 0x402000, isFolded: false, lines: [{ functionId: 2, line: 22, column: 3 }] },
      ],
      functions: [goFunction(1, 'main.mix', '/a/main.go', 4), goFunction(2, 'main.(*T).run', '/a/main.go', 18)],
      dropFrames: '',
      keepFrames: '',
      timeNanos: 1_700_000_000_000_000_000,
      durationNanos: 3_000_000_000,
      periodType: { type: 'cpu', unit: 'nanoseconds' },
      period: 1_001_001,
      comments: ['hello'],
      defaultSampleType: 'samples',
    };
    assert.deepEqual(decodePprof(encodePprof(p)), p);
    assert.deepEqual(decodePprof(gzipPprof(p)), p);
  });

  it('rejects bad input with a FormatError', () => {
    const bad = [
      new Uint8Array([0x0a, 0x05, 0x08]), // truncated length-delimited field
      new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3]), // corrupt gzip
      new Uint8Array([...ld(6, str('x'))]), // string_table[0] not empty
      new Uint8Array([...ld(1, [...varint(1, 9)]), ...ld(6, [])]), // string index outside the table
      new Uint8Array([0x0f, 0x01]), // wire type 7
    ];
    for (const b of bad)
      assert.throws(
        () => decodePprof(b),
        (e: unknown) => e instanceof FormatError,
        Buffer.from(b).toString('hex'),
      );
  });
});
