/**
 * "What to record" beyond CPU, below the editor: recordHeat runs the allocation and/or blocking
 * recordings (and CPU sampling in the same window) on real Go processes with the real helper and
 * BCC, and makes one profile with a metric each. Checked against the programs' own truth: the
 * blocking fixture's own timing of its waits, the allocs fixture's known allocations, and the
 * profile's own per-line wait histograms against the waits counted.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { recordHeat } from '../../../src/commands/recordHeat';
import type { HelperProcess } from '../../../src/capture';
import { metricsOf, withMetric } from '../../../src/model/metrics';
import type { Profile } from '../../../src/model/profile';
import { buildGoFixture, GO_FIXTURES, goToolchains } from '../../support/goToolchains';
import { killAll, startTracee } from './goProcess';

function lineOf(fixture: string, text: string): number {
  const i = fs
    .readFileSync(path.join(GO_FIXTURES, fixture, 'main.go'), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text));
  assert.ok(i >= 0, `no line with ${text}`);
  return i + 1;
}

function lineSelf(p: Profile, fixture: string, text: string): number {
  const line1 = lineOf(fixture, text);
  const l = p.lines.find((x) => x.file.endsWith(`${fixture}/main.go`) && x.line1 === line1);
  assert.ok(l, `no line ${line1} (${text}) in ${p.lines.map((x) => `${path.basename(x.file)}:${x.line1}`).join(' ')}`);
  return l.selfSamples;
}

function near(actual: number, expected: number, tolerance: number, what: string): void {
  const dev = Math.abs(actual - expected) / expected;
  assert.ok(dev <= tolerance, `${what}: ${actual} vs ${expected} (${(dev * 100).toFixed(2)}% off, allowed ${tolerance * 100}%)`);
}

describe('Profile Go process beyond CPU: allocations and blocking as metrics of one profile [root, bcc, go]', function () {
  this.timeout(600000);
  after(killAll);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-heat-c14-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const tc = goToolchains().at(-1)!;

  it("blocking alone: blocked time and waits per line as the program timed them, with each line's histogram and reasons", async () => {
    const t = await startTracee(buildGoFixture('blocking', tc), [tmp]);
    const clients: HelperProcess[] = [];
    let attached = false;
    const run = recordHeat(
      { kind: 'local' },
      t.pid,
      120,
      { allocs: false, blocking: true },
      {
        onStart: (c) => clients.push(c),
        onAttached: () => {
          attached = true;
          t.start();
        },
      },
    );
    const done = await t.done();
    assert.ok(attached);
    for (const c of clients) c.stop();
    const p = await run;
    t.proc.kill('SIGTERM');
    await t.exited;

    assert.deepEqual(
      metricsOf(p).map((m) => m.id),
      ['blocked_time', 'waits'],
    );
    assert.equal(p.metric, 'blocked_time');
    assert.equal(p.event.unit, 'nanoseconds');
    const own = Object.fromEntries([...done.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
    near(lineSelf(p, 'blocking', '<-ch // blocks'), own.chan!, 0.1, "<-ch vs the program's own timing");
    near(lineSelf(p, 'blocking', 'mu.Lock() // blocks'), own.mutex!, 0.1, "mu.Lock() vs the program's own timing");
    near(lineSelf(p, 'blocking', 'time.Sleep(10 * time.Millisecond)'), own.sleep!, 0.1, "time.Sleep vs the program's own timing");
    const waits = withMetric(p, 'waits')!;
    assert.equal(lineSelf(waits, 'blocking', '<-ch // blocks'), 50);
    assert.equal(lineSelf(waits, 'blocking', 'time.Sleep(10 * time.Millisecond)'), 100);
    // Cumulative: main.recvChan's wait is its caller's too (the goroutine's func literal).
    const recv = p.functions.find((f) => f.name === 'main.recvChan')!;
    assert.equal(recv.selfSamples, lineSelf(p, 'blocking', '<-ch // blocks'));
    assert.ok(
      p.functions.some((f) => f.name === 'main.main.func4' && f.cumSamples >= recv.cumSamples),
      'the goroutine that calls recvChan',
    );

    const chanLine = p.waitLines!.find((l) => l.file.endsWith('blocking/main.go') && l.line1 === lineOf('blocking', '<-ch // blocks'))!;
    assert.equal(
      chanLine.buckets.reduce((n, b) => n + b.count, 0),
      50,
    );
    assert.equal(chanLine.blockedNanos, lineSelf(p, 'blocking', '<-ch // blocks'));
    assert.ok(chanLine.reasons['chan receive']! >= 0.99 * chanLine.blockedNanos, JSON.stringify(chanLine.reasons));
  });

  it('allocations with CPU sampling in the same window: allocated bytes and objects, and CPU, over one set of stacks', async () => {
    // The loop calls main.small (new([64]byte)) forever: all its CPU and nearly all its allocations are there.
    const t = await startTracee(buildGoFixture('allocs', tc), ['65536', 'loop']);
    const clients: HelperProcess[] = [];
    const p = await recordHeat(
      { kind: 'local' },
      t.pid,
      3,
      { allocs: true, blocking: false, cpu: { freqHz: 499, sampler: 'perf' } },
      {
        onStart: (c) => clients.push(c),
      },
    );
    assert.ok(t.proc.exitCode === null && t.proc.signalCode === null, 'the program died');
    t.proc.kill('SIGTERM');
    await t.exited;

    assert.deepEqual(
      metricsOf(p).map((m) => m.id),
      ['alloc_space', 'alloc_objects', 'cpu'],
    );
    assert.equal(clients.length, 2, 'one helper for the allocations, one for perf');
    const small = lineSelf(p, 'allocs', 'sinkSmall = new([64]byte)');
    assert.ok(small > 0.9 * p.totalSamples, `the allocating line holds ${small} of ${p.totalSamples} bytes`);
    const objects = withMetric(p, 'alloc_objects')!;
    near(lineSelf(objects, 'allocs', 'sinkSmall = new([64]byte)') * 64, small, 1e-9, 'bytes = 64 × objects at that line');
    const cpu = withMetric(p, 'cpu')!;
    assert.ok(cpu.totalSamples > 100, `CPU samples ${cpu.totalSamples}`);
    const loop = cpu.functions.find((f) => f.name === 'main.loop')!;
    assert.ok(loop.cumSamples > 0.5 * cpu.totalSamples, `main.loop has ${loop.cumSamples} of ${cpu.totalSamples} CPU samples`);
    // Back to bytes: the switch round-trips.
    assert.equal(lineSelf(withMetric(cpu, 'alloc_space')!, 'allocs', 'sinkSmall = new([64]byte)'), small);
  });
});
