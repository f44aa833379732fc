/**
 * ChainGroups against a plain reference (one Map keyed by pid, cpu mode, event, chain length and
 * chain or ip, over every sample), on generated samples fed in several updates as a stream is:
 * the same groups (ids, samples, counts, sums and time ranges), the same changed lists, the
 * same totals.
 */
import * as assert from 'node:assert/strict';
import type { PerfData, PerfSamples } from '../../../src/formats/perfData';
import { ChainGroups } from '../../../src/ingest/chainGroups';
import { rng } from '../../support/rng';

/** n samples over `chains` distinct chains (and chainless ones: ips, kernel ips, NaN), a few pids, modes and events. */
function samples(n: number, chains: number, seed: number): PerfSamples {
  const r = rng(seed);
  const s: PerfSamples = {
    count: n,
    pid: new Int32Array(n),
    tid: new Int32Array(n),
    time: new Float64Array(n),
    ip: new Float64Array(n),
    period: new Float64Array(n),
    cpu: new Int32Array(n),
    attrIndex: new Uint16Array(n),
    cpumode: new Uint8Array(n),
    chainOffset: new Uint32Array(n),
    chainLength: new Uint32Array(n),
    chain: new Float64Array(0),
    chainWide: new Map(),
    ipWide: new Map(),
  };
  const ips = [0x401000, 0x402000, -0x7effff00, NaN];
  for (let i = 0; i < n; i++) {
    s.pid[i] = [100, 100, 100, 200, -1][Math.floor(r() * 5)]!;
    s.cpumode[i] = r() < 0.9 ? 2 : 1;
    s.attrIndex[i] = r() < 0.95 ? 0 : 1;
    s.time[i] = r() < 0.01 ? NaN : 1e9 + Math.floor(r() * 1e9);
    s.period[i] = 1_000_000 + Math.floor(r() * 1000);
    if (r() < 0.05) {
      s.chainLength[i] = 0;
      s.chainOffset[i] = Math.floor(r() * 10);
      s.ip[i] = ips[Math.floor(r() * ips.length)]!;
    } else {
      const c = Math.floor(r() * r() * chains); // skewed: a few hot chains, a long tail
      s.chainOffset[i] = c * 8;
      s.chainLength[i] = 3 + (c % 5); // the parser gives one chain one offset, whatever its length
      s.ip[i] = 0x400000 + c;
    }
  }
  return s;
}

/** What ChainGroups answers after each of `parts` updates (a stream's snapshots). */
function groupsOf(all: PerfSamples, parts: number[]): unknown[] {
  const attrs = [{}, {}];
  const g = new ChainGroups();
  const seen: unknown[] = [];
  for (const upTo of parts) {
    const d = { attrs, samples: { ...all, count: upTo } } as unknown as PerfData;
    g.update(d);
    const groups = Array.from({ length: g.size }, (_, k) => [g.sampleOf(k), g.countOf(k), g.isOf(k, 0, undefined), g.isOf(k, 0, 100)]);
    seen.push(groups, g.takeChanged(), g.totals(0, undefined), g.totals(1, 200), g.samplesPerAttr(2));
  }
  return seen;
}

/** The same answers from a plain Map over the samples (the reference). */
function referenceOf(all: PerfSamples, parts: number[]): unknown[] {
  const byKey = new Map<string, number>();
  const rep: number[] = [],
    count: number[] = [],
    periodSum: number[] = [],
    tMin: number[] = [],
    tMax: number[] = [];
  const seen: unknown[] = [];
  let from = 0;
  for (const upTo of parts) {
    const changed: number[] = [];
    const inRound = new Set<number>();
    for (let i = from; i < upTo; i++) {
      const n = all.chainLength[i]!;
      const key = [all.pid[i], all.cpumode[i], all.attrIndex[i], n, n === 0 ? `ip ${all.ip[i]}` : `chain ${all.chainOffset[i]}`].join('|');
      let g = byKey.get(key);
      if (g === undefined) {
        g = rep.length;
        byKey.set(key, g);
        rep.push(i);
        count.push(0);
        periodSum.push(0);
        tMin.push(Infinity);
        tMax.push(-Infinity);
      }
      if (!inRound.has(g)) {
        inRound.add(g);
        changed.push(g);
      }
      count[g]!++;
      periodSum[g]! += all.period[i]!;
      const t = all.time[i]!;
      if (t < tMin[g]!) tMin[g] = t;
      if (t > tMax[g]!) tMax[g] = t;
    }
    from = upTo;
    const isOf = (g: number, attr: number, pid?: number): boolean =>
      all.attrIndex[rep[g]!] === attr && (pid === undefined || all.pid[rep[g]!] === pid);
    const totals = (attr: number, pid?: number) => {
      const out = { total: 0, periodSum: 0, tMin: Infinity, tMax: -Infinity };
      rep.forEach((_, g) => {
        if (!isOf(g, attr, pid)) return;
        out.total += count[g]!;
        out.periodSum += periodSum[g]!;
        out.tMin = Math.min(out.tMin, tMin[g]!);
        out.tMax = Math.max(out.tMax, tMax[g]!);
      });
      return out;
    };
    const perAttr = [0, 0];
    rep.forEach((r, g) => (perAttr[all.attrIndex[r]!]! += count[g]!));
    seen.push(
      rep.map((r, g) => [r, count[g], isOf(g, 0), isOf(g, 0, 100)]),
      changed,
      totals(0),
      totals(1, 200),
      perAttr,
    );
  }
  return seen;
}

describe('ChainGroups', function () {
  it('groups as the reference does, update by update', function () {
    const all = samples(20_000, 3_000, 1);
    const parts = [0, 1, 7, 1000, 1000, 12_345, 20_000];
    assert.deepStrictEqual(groupsOf(all, parts), referenceOf(all, parts));
  });

  it('many groups: its chain table grows (150,000 samples, ~45,000 groups)', function () {
    const all = samples(150_000, 200_000, 2);
    const parts = [70_000, 150_000];
    const got = groupsOf(all, parts);
    assert.deepStrictEqual(got, referenceOf(all, parts));
    assert.ok((got[got.length - 5] as unknown[]).length > 40_000, 'enough groups to grow');
  });

  it('a time range and period sums per group, NaN times left out', function () {
    const all = samples(5_000, 50, 3);
    const g = new ChainGroups().update({ attrs: [{}, {}], samples: all } as unknown as PerfData);
    const t = g.totals(0, undefined);
    let total = 0,
      periodSum = 0,
      tMin = Infinity,
      tMax = -Infinity;
    for (let i = 0; i < all.count; i++) {
      if (all.attrIndex[i] !== 0) continue;
      total++;
      periodSum += all.period[i]!;
      if (all.time[i]! < tMin) tMin = all.time[i]!;
      if (all.time[i]! > tMax) tMax = all.time[i]!;
    }
    assert.deepEqual([t.total, t.tMin, t.tMax], [total, tMin, tMax]);
    assert.ok(Math.abs(t.periodSum - periodSum) < 1e-6 * periodSum);
  });
});
