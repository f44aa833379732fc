/** pprof import rules on hand-built profiles: which value counts, inline lines, unattributed samples. */
import * as assert from 'node:assert/strict';
import { decodePprof, encodePprof, type PprofProfile } from '../../../src/formats/pprof';
import { ingestPprof } from '../../../src/ingest/fromPprof';
import { toPprof, UNATTRIBUTED_FUNCTION } from '../../../src/ingest/toPprof';
import { UserError } from '../../../src/util/userError';
import { goFunction, pprofProfile, pprofSample, symbolizedMapping } from '../../support/pprofBuilder';

function profile(sampleTypes: { type: string; unit: string }[], values: number[][], period = 10_000_000): PprofProfile {
  return pprofProfile({
    sampleTypes,
    samples: values.map((v, i) => pprofSample(i === 0 ? [1, 2] : [2], v)),
    mappings: [symbolizedMapping('/srv/app', 'bid')],
    locations: [
      // innermost first: mix (inlined) at line 5, inside sum at line 12
      {
        id: 1,
        mappingId: 1,
        address: 0x401000,
        isFolded: false,
        lines: [
          { functionId: 1, line: 5, column: 0 },
          { functionId: 2, line: 12, column: 0 },
        ],
      },
      { id: 2, mappingId: 1, address: 0x402000, isFolded: false, lines: [{ functionId: 3, line: 30, column: 0 }] },
    ],
    functions: [
      goFunction(1, 'main.mix', '/src/main.go', 4),
      goFunction(2, 'main.sum', '/src/main.go', 10),
      goFunction(3, 'main.main', '/src/main.go', 28),
    ],
    durationNanos: 2e9,
    periodType: { type: 'cpu', unit: 'nanoseconds' },
    period,
  });
}

describe('pprof import', () => {
  it('counts the "samples" value of a Go CPU profile and expands inline lines', () => {
    const p = ingestPprof(
      decodePprof(
        encodePprof(
          profile(
            [
              { type: 'samples', unit: 'count' },
              { type: 'cpu', unit: 'nanoseconds' },
            ],
            [
              [3, 30_000_000],
              [2, 20_000_000],
            ],
          ),
        ),
      ),
    );
    assert.equal(p.totalSamples, 5);
    const f = new Map(p.functions.map((x) => [x.name, x]));
    assert.deepEqual(
      [f.get('main.mix')!.selfSamples, f.get('main.mix')!.cumSamples, f.get('main.mix')!.inlinedOnly, f.get('main.mix')!.line1],
      [3, 3, true, 4],
    );
    assert.deepEqual([f.get('main.sum')!.selfSamples, f.get('main.sum')!.cumSamples], [0, 3]);
    assert.deepEqual([f.get('main.main')!.selfSamples, f.get('main.main')!.cumSamples], [2, 5]);
    assert.equal(p.event.unit, 'nanoseconds');
    assert.equal(p.event.periodPerSample, 10_000_000);
    assert.equal(p.event.frequencyHz, 100);
    assert.deepEqual(p.binary, { path: '/srv/app', buildId: 'bid' });
    assert.equal(p.lines.find((l) => l.line1 === 5)!.inlinedInto?.[0], 'main.sum');
  });

  it('shows a weight-only profile (Pyroscope/Parca style, cpu nanoseconds) as CPU time, resting on weight/period samples', () => {
    const p = ingestPprof(profile([{ type: 'cpu', unit: 'nanoseconds' }], [[30_000_000], [20_000_000]]));
    assert.equal(p.totalSamples, 50_000_000);
    assert.deepEqual(p.event, { name: 'cpu', unit: 'nanoseconds', periodPerSample: 1 });
    assert.equal(p.functions.find((x) => x.name === 'main.main')!.cumSamples, 50_000_000);
    assert.equal(p.metrics?.[0]?.samples, 5);
  });

  it('reads back our own export: event, lost samples and samples outside the binary', () => {
    const first = ingestPprof(
      profile(
        [
          { type: 'samples', unit: 'count' },
          { type: 'cpu', unit: 'nanoseconds' },
        ],
        [
          [3, 1],
          [2, 1],
        ],
      ),
    );
    first.event = { name: 'cpu-clock', unit: 'nanoseconds', periodPerSample: 1001001, fallbackReason: 'no PMU' };
    first.lostSamples = 7;
    first.unattributedSamples = 4;
    first.totalSamples += 4;
    const pp = toPprof(first);
    assert.ok(pp.functions.some((f) => f.name === UNATTRIBUTED_FUNCTION));
    const back = ingestPprof(decodePprof(encodePprof(pp)));
    assert.equal(back.event.name, 'cpu-clock');
    assert.equal(back.event.fallbackReason, 'no PMU');
    assert.equal(back.lostSamples, 7);
    assert.equal(back.unattributedSamples, 4);
    assert.equal(back.totalSamples, 9);
    assert.ok(!back.functions.some((f) => f.name === UNATTRIBUTED_FUNCTION));
  });

  it('rejects profiles without sample types or with dangling location ids', () => {
    const empty = profile([], []);
    assert.throws(() => ingestPprof(empty), UserError);
    const dangling = profile([{ type: 'samples', unit: 'count' }], [[1]]);
    dangling.samples[0]!.locationIds = [9];
    assert.throws(
      () => ingestPprof(dangling),
      (e: unknown) => e instanceof UserError && /location 9/.test(e.message),
    );
    assert.throws(
      () => ingestPprof(profile([{ type: 'samples', unit: 'count' }], [[1]]), { sampleType: 'alloc_space' }),
      /no sample type "alloc_space"/,
    );
  });
});
