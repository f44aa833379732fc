/** Profiles with several metrics: ingest keeps every pprof sample type, the switch, values from stacks, sessions. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PprofProfile } from '../../../src/formats/pprof';
import { aggregate, StackTrie } from '../../../src/ingest/aggregate';
import { ingestPprof } from '../../../src/ingest/fromPprof';
import {
  attachMetrics,
  metricsOf,
  metricValuesFromStacks,
  noiseSamples,
  shownMetric,
  valuesOf,
  withMetric,
} from '../../../src/model/metrics';
import { PROFILE_MODEL_VERSION, type Profile } from '../../../src/model/profile';
import { loadSession, makeSession, parseSession, saveSessionInSlices, serializeSession } from '../../../src/model/session';
import { goFunction, heapSampleTypes, lineLocation, pprofProfile, pprofSample } from '../../support/pprofBuilder';
import { rng } from '../../support/rng';

/** A Go heap profile by hand: main.main → main.build (line 12) → main.grow (line 20, allocating) and main.main line 31 allocating itself. */
function heapProfile(): PprofProfile {
  return pprofProfile({
    sampleTypes: heapSampleTypes(),
    samples: [
      // grow ← build ← main: 100 objects, 6400 B, all still in use
      pprofSample([1, 2, 3], [100, 6400, 100, 6400]),
      // main itself at line 31: 1000 objects, 1 MB, none in use any more
      pprofSample([4], [1000, 1_000_000, 0, 0]),
    ],
    locations: [lineLocation(1, 1, 20), lineLocation(2, 2, 12), lineLocation(3, 3, 30), lineLocation(4, 3, 31)],
    functions: [
      goFunction(1, 'main.grow', '/src/main.go', 19),
      goFunction(2, 'main.build', '/src/main.go', 10),
      goFunction(3, 'main.main', '/src/main.go', 28),
    ],
    periodType: { type: 'space', unit: 'bytes' },
    period: 524288,
    defaultSampleType: 'inuse_space',
  });
}

const fn = (p: Profile, name: string) => p.functions.find((f) => f.name === name)!;
const line = (p: Profile, l: number) => p.lines.find((x) => x.line1 === l)!;

describe('model: profiles with several metrics', () => {
  it('a heap profile keeps all four sample types; the default (inuse_space) is shown first, in bytes', () => {
    const p = ingestPprof(heapProfile());
    assert.deepEqual(
      metricsOf(p).map((m) => [m.id, m.measures, m.event.unit, m.total, !!m.snapshot, m.companion]),
      [
        ['alloc_objects', 'alloc-objects', 'count', 1100, false, 'alloc_space'],
        ['alloc_space', 'alloc-bytes', 'bytes', 1_006_400, false, 'alloc_objects'],
        ['inuse_objects', 'inuse-objects', 'count', 100, true, 'inuse_space'],
        ['inuse_space', 'inuse-bytes', 'bytes', 6400, true, 'inuse_objects'],
      ],
    );
    assert.equal(shownMetric(p).id, 'inuse_space');
    assert.equal(p.totalSamples, 6400);
    assert.deepEqual(p.event, { name: 'inuse_space', unit: 'bytes', periodPerSample: 1 });
    // main line 31 allocated only garbage: in the profile (another metric counts it), with 0 in use.
    assert.equal(fn(p, 'main.main').cumSamples, 6400);
    assert.equal(line(p, 31).selfSamples, 0);
    // Noise basis: ~ one sampled allocation per 512 KiB.
    assert.equal(noiseSamples(p), 1);
  });

  it('withMetric shows another metric in every figure: functions, lines, tree, stacks, total', () => {
    const p = ingestPprof(heapProfile());
    const a = withMetric(p, 'alloc_space')!;
    assert.equal(a.totalSamples, 1_006_400);
    assert.equal(a.event.unit, 'bytes');
    assert.equal(shownMetric(a).id, 'alloc_space');
    assert.deepEqual([fn(a, 'main.main').selfSamples, fn(a, 'main.main').cumSamples], [1_000_000, 1_006_400]);
    assert.deepEqual([fn(a, 'main.grow').selfSamples, fn(a, 'main.build').cumSamples], [6400, 6400]);
    assert.equal(line(a, 31).selfSamples, 1_000_000);
    assert.equal(line(a, 12).cumSamples, 6400);
    // The tree: main (root, 1,006,400) with build → grow under it.
    const t = a.callTree;
    assert.deepEqual(
      t.functions.map((f, i) => [a.functions[f]!.name, t.parents[i], t.totalSamples[i], t.selfSamples[i]]),
      [
        ['main.main', -1, 1_006_400, 1_000_000],
        ['main.build', 0, 6400, 0],
        ['main.grow', 1, 6400, 6400],
      ],
    );
    assert.deepEqual(
      [...a.stacks!.counts].sort((x, y) => x - y),
      [6400, 1_000_000],
    );
    assert.equal(withMetric(a, 'alloc_objects')!.totalSamples, 1100);
    // The given profile is not changed; an unknown metric is undefined.
    assert.equal(p.totalSamples, 6400);
    assert.equal(withMetric(p, 'delay'), undefined);
    assert.equal(withMetric(p, 'inuse_space'), p);
  });

  it('switching away and back gives the same profile', () => {
    const p = ingestPprof(heapProfile());
    const back = withMetric(withMetric(withMetric(p, 'alloc_objects')!, 'inuse_objects')!, 'inuse_space')!;
    assert.deepStrictEqual(back, p);
  });

  it('the call tree is ordered by the metric shown: the heaviest child first', () => {
    // main calls a (many objects, few bytes) and b (one big object).
    const pp: PprofProfile = {
      ...heapProfile(),
      samples: [pprofSample([1, 3], [1000, 16000, 0, 0]), pprofSample([2, 3], [1, 1_000_000, 0, 0])],
      locations: [lineLocation(1, 1, 1), lineLocation(2, 2, 2), lineLocation(3, 3, 3)],
    };
    const objs = ingestPprof(pp, { sampleType: 'alloc_objects' });
    const bytes = withMetric(objs, 'alloc_space')!;
    const childNames = (p: Profile) => p.callTree.functions.slice(1).map((f) => p.functions[f]!.name);
    assert.deepEqual(childNames(objs), ['main.grow', 'main.build']);
    assert.deepEqual(childNames(bytes), ['main.build', 'main.grow']);
    assert.deepEqual(childNames(ingestPprof(pp, { sampleType: 'alloc_space' })), ['main.build', 'main.grow']);
  });

  it('metricValuesFromStacks counts exactly as the aggregation does (random stacks with inlining, against aggregate())', () => {
    const r = rng(7);
    const frames = new Map<number, { function: string; file: string; line: number }[]>();
    for (let k = 1; k <= 30; k++) {
      const depth = 1 + Math.floor(r() * 3);
      frames.set(
        k,
        Array.from({ length: depth }, (_, j) => ({
          function: `p.f${Math.floor(r() * 8)}`,
          file: `/s/${j % 2}.go`,
          line: 1 + Math.floor(r() * 6),
        })),
      );
    }
    frames.set(31, []); // an address that maps to nothing
    const source = { frames: (k: number) => frames.get(k) ?? [], address: (k: number) => `0x${k.toString(16)}` };
    const stacks: number[][] = Array.from({ length: 200 }, () =>
      Array.from({ length: 1 + Math.floor(r() * 6) }, () => 1 + Math.floor(r() * 31)),
    );
    const weights = stacks.map(() => Math.floor(r() * 1000));
    // Union: every stack once; reference: the same stacks with the weights as counts.
    const union = new StackTrie();
    const weighted = new StackTrie();
    const nodeWeight = new Map<number, number>();
    stacks.forEach((s, i) => {
      const node = union.insert(s, s.length);
      union.addCount(node, 1);
      nodeWeight.set(node, (nodeWeight.get(node) ?? 0) + weights[i]!);
      weighted.add(s, s.length, weights[i]!);
    });
    const base = aggregate(union, source);
    const nodes: number[] = [];
    for (let i = 1; i < union.size; i++) if (union.counts[i] !== 0) nodes.push(i);
    const got = metricValuesFromStacks(
      base,
      nodes.map((n) => nodeWeight.get(n)!),
    );
    const ref = aggregate(weighted, source);
    const byName = (names: string[], vals: number[]): Map<string, number> =>
      new Map(names.map((n, i): [string, number] => [n, vals[i]!]).filter(([, v]) => v !== 0));
    const fnNames = base.functions.map((f) => f.name);
    assert.deepEqual(
      byName(fnNames, got.functionSelf),
      byName(
        ref.functions.map((f) => f.name),
        ref.functions.map((f) => f.selfSamples),
      ),
    );
    assert.deepEqual(
      byName(fnNames, got.functionCum),
      byName(
        ref.functions.map((f) => f.name),
        ref.functions.map((f) => f.cumSamples),
      ),
    );
    const lineNames = (ls: { file: string; line1: number }[]) => ls.map((l) => `${l.file}:${l.line1}`);
    assert.deepEqual(
      byName(lineNames(base.lines), got.lineSelf),
      byName(
        lineNames(ref.lines),
        ref.lines.map((l) => l.selfSamples),
      ),
    );
    assert.deepEqual(
      byName(lineNames(base.lines), got.lineCum),
      byName(
        lineNames(ref.lines),
        ref.lines.map((l) => l.cumSamples),
      ),
    );
    // Tree: by the path of function names from the root.
    const paths = (t: Profile['callTree'], names: string[], vals: number[]) => {
      const path: string[] = [];
      t.parents.forEach((q, i) => (path[i] = (q >= 0 ? path[q] + '/' : '') + names[t.functions[i]!]));
      return byName(path, vals);
    };
    assert.deepEqual(
      paths(base.callTree, fnNames, got.treeTotal),
      paths(
        ref.callTree,
        ref.functions.map((f) => f.name),
        ref.callTree.totalSamples,
      ),
    );
    assert.deepEqual(
      paths(base.callTree, fnNames, got.treeSelf),
      paths(
        ref.callTree,
        ref.functions.map((f) => f.name),
        ref.callTree.selfSamples,
      ),
    );
  });

  it('attachMetrics refuses mismatched counts and duplicate ids', () => {
    const p = ingestPprof(heapProfile());
    const info = metricsOf(p)[0]!;
    assert.throws(() => attachMetrics(p, [{ info, stackCounts: [1] }]), /1 counts for 2 stacks/);
    assert.throws(
      () =>
        attachMetrics(p, [
          { info, stackCounts: [1, 2] },
          { info, stackCounts: [1, 2] },
        ]),
      /two metrics with one id/,
    );
  });

  it('a profile with one metric (every CPU recording) implies it: "cpu", from its event', () => {
    const p = ingestPprof({
      ...heapProfile(),
      sampleTypes: [{ type: 'samples', unit: 'count' }],
      samples: [{ locationIds: [1, 2, 3], values: [3], labels: [] }],
      periodType: { type: 'cpu', unit: 'nanoseconds' },
      period: 1e7,
    });
    assert.deepEqual(
      metricsOf(p).map((m) => m.id),
      ['cpu'],
    );
    const old: Profile = { ...p };
    delete old.metrics;
    delete old.metric;
    delete old.metricValues;
    assert.equal(shownMetric(old).id, 'cpu');
    assert.equal(shownMetric(old).total, 3);
    assert.deepEqual(
      valuesOf(old, 'cpu')!.functionCum,
      old.functions.map((f) => f.cumSamples),
    );
    assert.equal(withMetric(old, 'alloc_space'), undefined);
  });
});

describe('model: sessions of profiles with several metrics', () => {
  it('round trip: written as version 2, read back deep-equal, and switchable after reading', () => {
    const p = withMetric(ingestPprof(heapProfile()), 'alloc_space')!;
    const s = makeSession(p, 'test', 1);
    assert.equal(s.version, 2);
    const back = parseSession(serializeSession(s));
    assert.deepStrictEqual(back, s);
    assert.equal(shownMetric(back.profile).id, 'alloc_space');
    assert.equal(withMetric(back.profile, 'inuse_space')!.totalSamples, 6400);
  });

  it("written a slice at a time (the extension host's way): the same text as serializeSession, renamed into place", async () => {
    const p = withMetric(ingestPprof(heapProfile()), 'alloc_space')!;
    const s = makeSession(p, 'test', 1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-session-slices-'));
    try {
      const file = path.join(dir, 'current.session.json');
      await saveSessionInSlices(file, s);
      assert.equal(fs.readFileSync(file, 'utf8'), serializeSession(s));
      assert.deepStrictEqual(loadSession(file), s);
      assert.deepEqual(fs.readdirSync(dir), ['current.session.json'], 'a temporary file was left');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a profile with one metric is still written as version 1', () => {
    const p = ingestPprof({
      ...heapProfile(),
      sampleTypes: [{ type: 'inuse_space', unit: 'bytes' }],
      samples: [{ locationIds: [1, 2, 3], values: [64], labels: [] }],
    });
    assert.equal(makeSession(p).version, 1);
  });

  it('an old version-1 session (written before metrics existed) still loads, as one CPU metric', () => {
    // Written by the previous release's makeSession (format and fields unchanged since).
    const text = JSON.stringify({
      format: 'go-perf-lens-session',
      version: 1,
      createdMs: 1700000000000,
      createdBy: 'go-perf-lens 0.1.0 record',
      profile: {
        version: PROFILE_MODEL_VERSION,
        source: 'perf',
        event: { name: 'cpu-clock', unit: 'nanoseconds', periodPerSample: 1001001, frequencyHz: 999 },
        durationNanos: 3e9,
        totalSamples: 4,
        lostSamples: 0,
        unattributedSamples: 0,
        functions: [
          { name: 'main.main', file: '/a/main.go', line1: 3, selfSamples: 1, cumSamples: 4 },
          { name: 'main.sum', file: '/a/main.go', line1: 9, selfSamples: 3, cumSamples: 3 },
        ],
        lines: [
          { file: '/a/main.go', line1: 5, selfSamples: 1, cumSamples: 4, function: 'main.main' },
          { file: '/a/main.go', line1: 10, selfSamples: 3, cumSamples: 3, function: 'main.sum' },
        ],
        callTree: { parents: [-1, 0], functions: [0, 1], callLines: [0, 5], totalSamples: [4, 3], selfSamples: [1, 3] },
      },
    });
    const s = parseSession(text, 'old.json');
    assert.equal(s.version, 1);
    assert.deepEqual(
      metricsOf(s.profile).map((m) => [m.id, m.label, m.total]),
      [['cpu', 'CPU', 4]],
    );
  });

  it('corrupt metric values are a clear error', () => {
    /** The parts of a saved profile the cases below damage. */
    type Saved = { metrics: { id: string }[] | string; metric?: string; metricValues: Record<string, { functionCum?: number[] }> };
    const mutate = (fn: (p: Saved) => void): string => {
      const s = JSON.parse(serializeSession(makeSession(ingestPprof(heapProfile())))) as { profile: Saved };
      fn(s.profile);
      return JSON.stringify(s);
    };
    const bad: [(p: Saved) => void, RegExp][] = [
      [(p) => (p.metricValues.alloc_space!.functionCum = [1]), /metricValues\["alloc_space"\]\.functionCum is malformed/],
      [(p) => delete p.metricValues.alloc_objects, /no values for "alloc_objects"/],
      [(p) => (p.metric = 'nope'), /profile\.metric "nope" is not one of its metrics/],
      [(p) => ((p.metrics as { id: string }[])[1]!.id = 'alloc_objects'), /names one metric twice/],
      [(p) => (p.metrics = 'x'), /profile\.metrics is malformed/],
    ];
    for (const [fn, re] of bad) assert.throws(() => parseSession(mutate(fn)), re);
  });
});
