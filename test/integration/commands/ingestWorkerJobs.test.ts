/**
 * The eBPF sampler's partials and result, and a pprof endpoint's answer, are ingested on the ingest worker (the
 * extension host only sends bytes and gets a profile back): what comes back is the profile the
 * same ingest gives on this thread, the executable's facts the sampler's arguments need are the
 * ones `go tool nm` and the ELF headers give, and a UserError keeps its code and hint across.
 * The eBPF tracers' executable is opened there too: the probes planned there are at the
 * addresses `go tool nm` gives, and the call sites named there are the ones `go tool addr2line` names.
 * So is the allocation and blocking recordings': their probes at go tool nm's addresses, their
 * figures charged to the lines go tool addr2line names, and their profile the one made here.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BpfIngestInWorker, HeatTargetInWorker, ingestEndpointInWorker, TraceTargetInWorker } from '../../../src/commands/ingestWorker';
import { ingestAllocs, unsampleScale, type WireAllocsResult } from '../../../src/ingest/allocHeat';
import { ingestBlocking, type WireBlockingResult } from '../../../src/ingest/blockHeat';
import { heatProfile } from '../../../src/ingest/heatProfile';
import { waitReasonName, waitReasonNames } from '../../../src/symbolize/goWaitReasons';
import { parseElf } from '../../../src/formats/elf';
import type { WireSchedResult, WireSyscallsResult } from '../../../src/ingest/ebpfResults';
import { goidOffset } from '../../../src/symbolize/goRuntimeLayout';
import { GoBinaryIndex } from '../../../src/symbolize/goTracePlan';
import { goAddr2line } from '../../support/goAddr2line';
import { encodePprof } from '../../../src/formats/pprof';
import { mergeStacks, wireProfileResult } from '../../support/bpfWire';
import { bpfTextRange, ingestBpfProfile, type WireProfileResult } from '../../../src/ingest/fromBpfProfile';
import { ingestEndpointProfile } from '../../../src/ingest/fromEndpoint';
import { loadBinaryBytes } from '../../../src/ingest/loadBinary';
import { toPprof } from '../../../src/ingest/toPprof';
import type { Profile } from '../../../src/model/profile';
import { UserError } from '../../../src/util/userError';
import { buildGoFixture, newestGo } from '../../support/goToolchains';
import { PRELUDE, runFake } from '../../support/fakeHelper';

/** Addresses of symbols of these kinds (text by default) by name, as `go tool nm` lists them (the reference). */
function nmAddresses(goBin: string, bin: string, kinds = ['T', 't']): Map<string, number> {
  const out = execFileSync(goBin, ['tool', 'nm', bin], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const m = new Map<string, number>();
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 3 && kinds.includes(f[1]!)) m.set(f[2]!, parseInt(f[0]!, 16));
  }
  return m;
}

function wireResult(stacks: WireProfileResult['stacks'], textLo: number, textHi: number): WireProfileResult {
  const samples = stacks.reduce((n, s) => n + s.count, 0);
  return wireProfileResult(stacks, { pid: 4242, textLo, textHi, attachMs: 1 }, { periodSum: samples * 1_001_001 });
}

async function userError(p: Promise<unknown>, code: string): Promise<UserError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${(e as Error)?.stack ?? e}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected the UserError ${code}`);
}

describe('commands: eBPF sampler results, pprof endpoint answers and tracers’ executables go to the ingest worker [go]', function () {
  this.timeout(180_000);
  const tc = newestGo();
  let binPath: string;
  let bytes: Uint8Array;
  let nm: Map<string, number>;

  before(() => {
    binPath = buildGoFixture('hotline', tc);
    bytes = fs.readFileSync(binPath);
    nm = nmAddresses(tc.goBin, binPath);
  });

  it('the sampler’s result: the executable’s code range and build ids, then the same profile as ingested here', async () => {
    const live = await BpfIngestInWorker.open({ bytes, path: binPath }, 4242);
    try {
      const here = loadBinaryBytes(bytes, binPath);
      const { lo, hi } = bpfTextRange(here);
      assert.deepEqual(live.facts, {
        textLo: lo,
        textHi: hi,
        ...(here.elf.goBuildId ? { goBuildId: here.elf.goBuildId } : {}),
        ...(here.elf.gnuBuildId ? { gnuBuildId: here.elf.gnuBuildId } : {}),
      });
      const spin = nm.get('main.spin');
      const main = nm.get('main.main');
      assert.ok(spin !== undefined && main !== undefined, 'go tool nm lists no main.spin / main.main');
      assert.ok(
        spin >= lo && spin < hi,
        `main.spin at 0x${spin.toString(16)} is outside the code range [0x${lo.toString(16)}, 0x${hi.toString(16)})`,
      );
      const wire = wireResult(
        [
          { count: 30, user: [spin + 1, main + 1] },
          { count: 12, user: [main + 1] },
        ],
        lo,
        hi,
      );
      const opts = { target: { pid: 4242, cmdline: binPath, recordedAs: 'root' as const }, startTimeMs: 1, warnings: ['w'] };
      const got = await live.finish(wire, opts);
      assert.equal(got.functions.find((f) => f.name === 'main.spin')?.selfSamples, 30);
      assert.equal(got.totalSamples, 42);
      assert.deepEqual(got, ingestBpfProfile(wire, here, opts));
    } finally {
      live.dispose();
    }
  });

  it('the worker’s thread runs at nice +10 (it yields to this thread and to the target on busy CPUs); this thread keeps its priority', async () => {
    // Each thread's nice value, as the kernel reports it (/proc/self/task/TID/stat, field 19).
    const niceByThread = (): Map<number, number> =>
      new Map(
        fs.readdirSync('/proc/self/task').map((tid) => {
          const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
          return [Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
        }),
      );
    const before = niceByThread();
    const mine = os.getPriority();
    const live = await BpfIngestInWorker.open({ bytes, path: binPath }, 4242);
    try {
      const started = [...niceByThread()].filter(([tid]) => !before.has(tid));
      assert.deepEqual(
        started.filter(([, nice]) => nice === 10).length,
        1,
        `threads started with the worker, [tid, nice]: ${JSON.stringify(started)}`,
      );
      assert.equal(os.getPriority(), mine);
      assert.equal(niceByThread().get(process.pid), mine);
    } finally {
      live.dispose();
    }
  });

  it('the sampler’s partials are taken in as they come, each followed by the profile so far; a malformed one fails the recording as helper-protocol', async () => {
    const spin = nm.get('main.spin')!;
    const main = nm.get('main.main')!;
    const batches = [
      [{ count: 30, user: [spin + 1, main + 1] }],
      [
        { count: 12, user: [main + 1] },
        { count: 5, user: [spin + 1, main + 1] },
      ],
      [{ count: 3, user: [spin + 1, main + 1] }],
    ];
    // Every message says the counters so far; here those of the whole recording. A stand-in helper
    // started on the worker (as the sampler's is) sends the batches as its partials.
    const partials = (stacks: WireProfileResult['stacks'][]): string =>
      PRELUDE +
      stacks.map((b) => `W(type='partial', data=json.loads(${JSON.stringify(JSON.stringify({ ...whole, stacks: b }))}))\n`).join('') +
      "W(type='result', data={})\n";
    const sofar: Profile[] = [];
    const live = await BpfIngestInWorker.open({ bytes, path: binPath }, 4242, (p) => sofar.push(p));
    const whole = wireResult(mergeStacks(batches.flat()), live.facts.textLo, live.facts.textHi);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-bpf-partials-'));
    try {
      const run = await runFake(partials([batches[0]!, batches[1]!]), dir, live.runHelper);
      assert.equal(run.error, undefined);
      // The partials reach the caller with their counts, not their stacks (taken in on the worker).
      assert.deepEqual(
        run.messages.filter((m) => m.type === 'partial').map((m) => 'stacks' in (m.data as object)),
        [false, false],
      );
      for (let waited = 0; sofar.length < 2 && waited < 60_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        sofar.map((p) => [p.totalSamples, p.functions.find((f) => f.name === 'main.spin')?.selfSamples]),
        [
          [30, 30],
          [47, 35],
        ],
      );
      const got = await live.finish({ ...whole, stacks: batches[2]! }, {});
      assert.equal(sofar.length, 2, 'a profile so far after finish');
      assert.deepEqual(got, ingestBpfProfile(whole, loadBinaryBytes(bytes, binPath)));
    } finally {
      live.dispose();
    }
    const bad = await BpfIngestInWorker.open({ bytes, path: binPath }, 4242, (p) => sofar.push(p));
    try {
      await runFake(partials([[{ count: 1, user: 'x' as unknown as number[] }], batches[1]!]), dir, bad.runHelper);
      const e = await userError(bad.finish({ ...whole, stacks: batches[2]! }, {}), 'helper-protocol');
      assert.match(e.message, /the eBPF sampler sent a stack that is not/);
    } finally {
      bad.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a non-Go executable is refused by the worker as not-go, before anything would be recorded', async () => {
    const e = await userError(BpfIngestInWorker.open({ bytes: fs.readFileSync('/bin/true'), path: '/bin/true' }, 4242), 'not-go');
    assert.match(e.message, /PID 4242 \(\/bin\/true\) is not a Go program/);
    assert.ok(e.hint, 'the hint crossed the thread boundary');
  });

  it('an endpoint’s answer: the same profile as ingested here; bytes that are not a profile are a clear error', async () => {
    const live = await BpfIngestInWorker.open({ bytes, path: binPath }, 4242);
    let pprofBytes: Uint8Array;
    try {
      const main = nm.get('main.main')!;
      pprofBytes = encodePprof(
        toPprof(await live.finish(wireResult([{ count: 7, user: [main + 1] }], live.facts.textLo, live.facts.textHi), {})),
      );
    } finally {
      live.dispose();
    }
    const source = 'http://127.0.0.1:1/debug/pprof/profile';
    const got = await ingestEndpointInWorker(pprofBytes, source);
    assert.equal(got.totalSamples, 7);
    assert.deepEqual(got, ingestEndpointProfile(pprofBytes, source));
    const e = await userError(
      ingestEndpointInWorker(new TextEncoder().encode('<html>not a profile</html>'), source),
      'endpoint-not-profile',
    );
    assert.match(e.message, /is not a valid pprof profile/);
  });

  it('a tracer’s executable: the probes are planned at go tool nm’s addresses, its build ids come back', async () => {
    const traced = await TraceTargetInWorker.open({ bytes, path: binPath }, 4242);
    try {
      const elf = parseElf(bytes);
      assert.deepEqual(traced.buildIds, {
        ...(elf.goBuildId ? { goBuildId: elf.goBuildId } : {}),
        ...(elf.gnuBuildId ? { gnuBuildId: elf.gnuBuildId } : {}),
      });
      assert.ok(elf.goBuildId, 'a Go build id');
      const plan = await traced.plan(['main.spin']);
      const spin = plan.functions[0]!;
      assert.equal(plan.functions.length, 1);
      assert.equal(spin.lowPc, BigInt(nm.get('main.spin')!), 'main.spin where go tool nm puts it');
      assert.ok(spin.entry >= spin.lowPc && spin.entry < spin.highPc, 'the entry probe inside the function');
      assert.equal(spin.entry > spin.lowPc, spin.stackCheck, 'past the stack check where there is one');
      assert.ok(spin.rets.length > 0 && spin.rets.every((r) => r > spin.entry && r < spin.highPc), spin.rets.join(' '));
      assert.deepEqual(plan, new GoBinaryIndex(elf).plan(['main.spin']), 'the plan made on this thread');
      const probes = await traced.schedProbes();
      const cas = BigInt(probes.casgstatus);
      const casFn = new GoBinaryIndex(elf).resolve('runtime.casgstatus');
      assert.deepEqual(
        casFn.map((f) => [f.lowPc, cas >= f.lowPc && cas < f.highPc]),
        [[BigInt(nm.get('runtime.casgstatus')!), true]],
        'in runtime.casgstatus, where go tool nm puts it',
      );
      assert.deepEqual(goidOffset(elf, plan.goVersion), { offset: probes.goidOffset, source: 'dwarf' });
      assert.equal(probes.goidOffsetSource, 'dwarf');
      assert.ok(probes.gopcOffset !== undefined && probes.startpcOffset !== undefined, 'gopc and startpc from DWARF');
      const e = await userError(traced.plan(['main.nosuch']), 'no-such-function');
      assert.ok(e.hint, 'the hint crossed the thread boundary');
    } finally {
      traced.dispose();
    }
  });

  it('a tracer’s results are named on the worker as go tool addr2line names the addresses', async () => {
    const traced = await TraceTargetInWorker.open({ bytes, path: binPath }, 4242);
    try {
      // A return address just past main.main's first instruction: the call site is its first byte.
      const ret = nm.get('main.main')! + 1;
      const [ref] = goAddr2line(tc, binPath, [ret - 1]);
      const site = `${ref!.function} (${ref!.file}:${ref!.line})`;
      const syscalls: WireSyscallsResult = {
        elapsedSec: 2,
        syscalls: [{ nr: 1, name: 'write', count: 5, total_ns: 5000, buckets: [], topSites: [{ addrs: [ret], count: 5 }] }],
      };
      const stats = await traced.syscallStats(syscalls);
      assert.deepEqual(stats[0]!.topSites, [{ frames: [site], count: 5 }]);
      assert.equal(stats[0]!.count, 5);
      const sched: WireSchedResult = {
        count: 1,
        sum_ns: 1000,
        buckets: [],
        worst: [{ goid: 7, wait_ns: 1000, gopc: ret, creation_stack: [nm.get('runtime.newproc')! + 1, ret] }],
        elapsedSec: 2,
      };
      const worst = (await traced.schedLatency(sched)).worst;
      assert.deepEqual(worst, [{ goid: 7, waitNanos: 1000, createdAt: site, creationStack: [site] }]);
    } finally {
      traced.dispose();
    }
  });

  it('a tracer’s executable that is not ELF, or not Go, is refused as not-go', async () => {
    const e = await userError(TraceTargetInWorker.open({ bytes: new TextEncoder().encode('#!/bin/sh\n'), path: '/x.sh' }, 4242), 'not-go');
    assert.match(e.message, /PID 4242 is not a Go program: its executable is not a 64-bit ELF file/);
    const notGo = await TraceTargetInWorker.open({ bytes: fs.readFileSync('/bin/true'), path: '/bin/true' }, 4242);
    try {
      await userError(notGo.plan(['main.main']), 'not-go');
    } finally {
      notGo.dispose();
    }
  });
  it('the allocation and blocking recordings’ executable: their probes, asked together, in the functions go tool nm places, MemProfileRate where it lists it', async () => {
    const heat = await HeatTargetInWorker.open({ bytes, path: binPath }, 4242);
    try {
      const elf = parseElf(bytes);
      assert.deepEqual(heat.buildIds, {
        ...(elf.goBuildId ? { goBuildId: elf.goBuildId } : {}),
        ...(elf.gnuBuildId ? { gnuBuildId: elf.gnuBuildId } : {}),
      });
      const [allocs, blocking] = await Promise.all([heat.allocProbes(), heat.blockingProbes()]);
      const idx = new GoBinaryIndex(elf);
      const inFunction = (name: string, at: number): void => {
        const fns = idx.resolve(name);
        assert.deepEqual(
          fns.map((f) => [f.lowPc, BigInt(at) >= f.lowPc && BigInt(at) < f.highPc]),
          [[BigInt(nm.get(name)!), true]],
          `the probe 0x${at.toString(16)} in ${name}, where go tool nm puts it`,
        );
      };
      inFunction('runtime.mProf_Malloc', allocs.mprofMalloc);
      inFunction('runtime.gopark', blocking.gopark);
      inFunction('runtime.execute', blocking.execute);
      const data = nmAddresses(tc.goBin, binPath, ['D', 'd', 'B', 'b']);
      assert.equal(allocs.rateAddr, data.get('runtime.MemProfileRate'), 'runtime.MemProfileRate where go tool nm lists it');
      assert.equal(allocs.rateAddrFrom, 'symtab');
      assert.equal(allocs.sizeReg, Number(tc.version.split('.')[1]) >= 23 ? 'cx' : 'bx');
    } finally {
      heat.dispose();
    }
  });

  it('allocation and blocking results are ingested on the worker, charged to the line go tool addr2line names, and made into the profile made here', async () => {
    const heat = await HeatTargetInWorker.open({ bytes, path: binPath }, 4242);
    try {
      const here = loadBinaryBytes(bytes, binPath);
      // Stacks as the helper sends them: the probe's ip, a return address in the runtime (skipped), main.main's call site.
      const ret = nm.get('main.main')! + 1;
      const [ref] = goAddr2line(tc, binPath, [ret - 1]);
      const rate = 512 * 1024;
      const allocWire: WireAllocsResult = {
        pid: 4242,
        memProfileRate: rate,
        memProfileRateEnd: rate,
        stacks: [{ size: 4096, count: 10, user: [nm.get('runtime.mProf_Malloc')!, nm.get('runtime.mallocgc')! + 1, ret] }],
        stats: { samples: 10, stackErrors: 0, stackCollisions: 0, hashFull: 0 },
        elapsedSec: 2,
        endedBy: 'duration',
        loadBias: 0,
        probes: 1,
        attachMs: 1,
      };
      const off = await userError(heat.allocHeat({ ...allocWire, memProfileRate: 0 }, []), 'memprofile-off');
      assert.match(off.message, /PID 4242 has turned its memory profiling off/);
      assert.ok(off.hint, 'the hint crossed the thread boundary');

      const allocs = await heat.allocHeat(allocWire, ['the helper’s warning']);
      const objects = 10 * unsampleScale(4096, rate);
      assert.deepEqual(allocs.lines, [
        { file: ref!.file, line: ref!.line, bytes: Math.round(objects * 4096), objects: Math.round(objects) },
      ]);
      assert.equal(allocs.functions[0]!.name, ref!.function);
      assert.equal(allocs.warnings[0], 'the helper’s warning');
      const allocsHere = ingestAllocs(allocWire, here);
      allocsHere.warnings.unshift('the helper’s warning');
      assert.deepEqual(allocs, allocsHere, 'the figures ingested on this thread');

      const reason = 13;
      const blockWire: WireBlockingResult = {
        pid: 4242,
        stacks: [{ reason, slot: 20, ns: 700_000, waits: 2, user: [nm.get('runtime.gopark')!, nm.get('runtime.chanrecv')! + 1, ret] }],
        stats: { parks: 2, executes: 2, paired: 2, parkedFull: 0, hashFull: 0, stackErrors: 0, stackCollisions: 0 },
        stackWalkFailed: 0,
        stillParked: 0,
        stillParkedNs: 0,
        hitsPerSecond: [4],
        maxHitsPerSec: 20000,
        loadBias: 0,
        elapsedSec: 2,
        endedBy: 'stop',
        probes: 2,
        attachMs: 1,
      };
      const blocking = await heat.blockHeat(blockWire, []);
      const names = waitReasonNames(new GoBinaryIndex(here.elf).goVersion);
      assert.ok(names, `the wait reasons of Go ${tc.version} are known`);
      const reasonName = waitReasonName(names, reason);
      assert.deepEqual(
        blocking.lines.map((l) => [l.file, l.line, l.blockedNs, l.waits, l.reasons]),
        [[ref!.file, ref!.line, 700_000, 2, { [reasonName]: 700_000 }]],
      );
      assert.deepEqual(blocking, ingestBlocking(blockWire, here, names), 'the figures ingested on this thread');

      const opts = { requestedSec: 2, target: { pid: 4242 }, startTimeMs: 1 };
      const profile = await heat.profile(opts);
      assert.deepEqual(
        profile,
        heatProfile({ bin: here, allocs: { wire: allocWire, heat: allocsHere }, blocking: { wire: blockWire, heat: blocking }, ...opts }),
        'the profile made on this thread',
      );
      assert.deepEqual(
        profile.metrics?.map((m) => m.id),
        ['alloc_space', 'alloc_objects', 'blocked_time', 'waits'],
      );
    } finally {
      heat.dispose();
    }
  });

  it('the allocation and blocking recordings’ executable that is not Go is refused as not-go', async () => {
    const e = await userError(HeatTargetInWorker.open({ bytes: fs.readFileSync('/bin/true'), path: '/bin/true' }, 4242), 'not-go');
    assert.match(e.message, /PID 4242 \(\/bin\/true\) is not a Go program/);
    assert.ok(e.hint, 'the hint crossed the thread boundary');
    await userError(HeatTargetInWorker.open({ bytes: new TextEncoder().encode('#!/bin/sh\n'), path: '/x.sh' }, 4242), 'not-go');
  });
});
