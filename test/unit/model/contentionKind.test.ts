/**
 * Block and mutex profiles (same pprof sample types) get metrics of their own kind: told apart by
 * where their delay is charged (an unlock or not), else by their name; sessions written with the
 * generic ids still open, with their kind's ids; an export keeps the kind for go tool pprof's
 * sample type names. (The same on real runtime/pprof profiles: test/integration/ingest/pprofKinds.)
 */
import * as assert from 'node:assert/strict';
import type { PprofProfile } from '../../../src/formats/pprof';
import { ingestPprof } from '../../../src/ingest/fromPprof';
import { toPprof } from '../../../src/ingest/toPprof';
import { contentionKindOfName, distinguishContention, isUnlockFunction } from '../../../src/model/contentionKind';
import { metricsOf, shownMetric, withMetric } from '../../../src/model/metrics';
import type { Profile } from '../../../src/model/profile';
import { makeSession, parseSession, serializeSession } from '../../../src/model/session';
import { codeLensTitle } from '../../../src/ui/summaryText';
import { contentionSampleTypes, goFunction, lineLocation, pprofProfile, pprofSample } from '../../support/pprofBuilder';

/** A contention profile as Go writes block and mutex profiles: `leaf` (a Lock or an Unlock) called from main.work line 12. */
function contention(leaf: string | undefined, samples = true): PprofProfile {
  return pprofProfile({
    sampleTypes: contentionSampleTypes(),
    samples: samples && leaf ? [pprofSample([1, 2], [20, 68_000_000])] : [],
    locations: [lineLocation(1, 1, 50), lineLocation(2, 2, 12)],
    functions: [
      { id: 1, name: leaf ?? 'sync.(*Mutex).Lock', systemName: leaf ?? '', filename: '/go/src/sync/mutex.go', startLine: 40 },
      goFunction(2, 'main.work', '/src/main.go', 10),
    ],
    periodType: { type: 'contentions', unit: 'count' },
    period: 1,
  });
}

const ids = (p: Profile): string[] => metricsOf(p).map((m) => m.id);

describe('model: block and mutex profiles have metrics of their own', () => {
  it('unlocks are told from everything else, including Go 1.24’s internal/sync and the runtime’s own locks', () => {
    for (const n of [
      'sync.(*Mutex).Unlock',
      'sync.(*RWMutex).Unlock',
      'sync.(*RWMutex).RUnlock',
      'sync.(*Mutex).unlockSlow',
      'internal/sync.(*Mutex).Unlock',
      'runtime.unlock',
      'runtime._LostContendedRuntimeLock',
    ])
      assert.ok(isUnlockFunction(n), n);
    for (const n of [
      'sync.(*Mutex).Lock',
      'sync.(*RWMutex).RLock',
      'runtime.chanrecv1',
      'runtime.selectgo',
      'sync.(*WaitGroup).Wait',
      'main.Unlock',
    ])
      assert.ok(!isUnlockFunction(n), n);
  });

  it('a block profile (delay charged to a Lock) has block_ metrics, a mutex profile (to an Unlock) mutex_ ones, with their labels and words', () => {
    const b = ingestPprof(contention('sync.(*Mutex).Lock'));
    const m = ingestPprof(contention('sync.(*Mutex).Unlock'));
    assert.deepEqual(ids(b), ['block_contentions', 'block_delay']);
    assert.deepEqual(ids(m), ['mutex_contentions', 'mutex_delay']);
    assert.deepEqual(
      metricsOf(m).map((x) => [x.label, x.measures, x.companion]),
      [
        ['Mutex contention: contentions', 'waits', 'mutex_delay'],
        ['Mutex contention: delay', 'lock-delay', 'mutex_contentions'],
      ],
    );
    assert.deepEqual(
      metricsOf(b).map((x) => x.label),
      ['Blocking: contentions', 'Blocking: delay'],
    );
    // Shown first: the delay, as before; switching works on the new ids.
    assert.equal(shownMetric(m).id, 'mutex_delay');
    assert.equal(withMetric(m, 'mutex_contentions')!.totalSamples, 20);
    assert.equal(withMetric(m, 'block_delay'), undefined);
    const work = (p: Profile) => p.functions.find((f) => f.name === 'main.work')!;
    assert.equal(codeLensTitle(b, work(b), undefined), 'blocked 68 ms · 20 contentions · 100% (self 0.0%)');
    assert.equal(codeLensTitle(m, work(m), undefined), 'lock delay 68 ms · 20 contentions · 100% (self 0.0%)');
    // Asking for a sample type by the kind's id (or pprof's name) picks the same one.
    assert.equal(shownMetric(ingestPprof(contention('sync.(*Mutex).Unlock'), { sampleType: 'mutex_contentions' })).id, 'mutex_contentions');
    assert.equal(shownMetric(ingestPprof(contention('sync.(*Mutex).Unlock'), { sampleType: 'contentions' })).id, 'mutex_contentions');
  });

  it('without samples the name tells (an endpoint’s path, a file’s name); with neither, the generic ids stay', () => {
    assert.equal(contentionKindOfName('http://127.0.0.1:6060/debug/pprof/mutex?seconds=5'), 'mutex');
    assert.equal(contentionKindOfName('/tmp/block.pb.gz'), 'block');
    assert.equal(contentionKindOfName('/home/blockchain/profile.pb.gz'), undefined);
    assert.deepEqual(ids(ingestPprof(contention(undefined), { name: '/tmp/x/mutex.pb.gz' })), ['mutex_contentions', 'mutex_delay']);
    assert.deepEqual(ids(ingestPprof(contention(undefined), { name: 'http://h:6060/debug/pprof/block' })), [
      'block_contentions',
      'block_delay',
    ]);
    const unknown = ingestPprof(contention(undefined), { name: '/tmp/profile.pb.gz' });
    assert.deepEqual(ids(unknown), ['contentions', 'delay']);
    // The stacks outweigh the name: a mutex profile saved as "block.pb.gz" is still one.
    assert.deepEqual(ids(ingestPprof(contention('sync.(*RWMutex).RUnlock'), { name: 'block.pb.gz' })), [
      'mutex_contentions',
      'mutex_delay',
    ]);
  });

  it('export keeps go tool pprof’s sample type names and our note of the kind: read back, the ids are the same, even without samples', () => {
    for (const [leaf, kind] of [
      ['sync.(*Mutex).Unlock', 'mutex'],
      ['runtime.chanrecv1', 'block'],
    ] as const) {
      const p = ingestPprof(contention(leaf));
      const pp = toPprof(p);
      assert.deepEqual(
        pp.sampleTypes.map((t) => t.type),
        ['contentions', 'delay'],
      );
      assert.deepEqual(ids(ingestPprof(pp)), [`${kind}_contentions`, `${kind}_delay`]);
    }
    const empty = ingestPprof(contention(undefined), { name: 'mutex.pb.gz' });
    assert.deepEqual(ids(ingestPprof(toPprof(empty))), ['mutex_contentions', 'mutex_delay']);
  });

  it('a version-2 session written with the generic ids still opens, with its kind’s ids, on whichever metric it showed', () => {
    for (const [leaf, kind] of [
      ['sync.(*Mutex).Unlock', 'mutex'],
      ['sync.(*Mutex).Lock', 'block'],
    ] as const) {
      const p = ingestPprof(contention(leaf));
      // As an older build wrote it: contentions shown, the ids and labels pprof's.
      const shown = withMetric(p, `${kind}_contentions`)!;
      const old = JSON.parse(serializeSession(makeSession(shown))) as { version: number; profile: Profile };
      const generic = (id: string) => id.replace(/^(block|mutex)_/, '');
      old.profile.metrics = old.profile.metrics!.map((m) => ({
        ...m,
        id: generic(m.id),
        label: generic(m.id),
        measures: m.measures === 'lock-delay' ? 'blocked-time' : m.measures,
        companion: generic(m.companion!),
      }));
      old.profile.metric = generic(old.profile.metric!);
      old.profile.metricValues = Object.fromEntries(Object.entries(old.profile.metricValues!).map(([k, v]) => [generic(k), v]));
      assert.equal(old.version, 2);
      const read = parseSession(JSON.stringify(old)).profile;
      assert.deepEqual(ids(read), [`${kind}_contentions`, `${kind}_delay`]);
      assert.equal(shownMetric(read).id, `${kind}_contentions`);
      assert.equal(withMetric(read, `${kind}_delay`)!.totalSamples, 68_000_000);
    }
    // One whose kind nothing tells keeps the generic ids and opens all the same.
    const unknown = ingestPprof(contention(undefined));
    assert.deepEqual(ids(parseSession(serializeSession(makeSession(unknown))).profile), ['contentions', 'delay']);
    assert.equal(distinguishContention(unknown), unknown);
  });
});
