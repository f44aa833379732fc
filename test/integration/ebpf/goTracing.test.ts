/**
 * The eBPF tracers against real Go processes, through the real CLI, helper and BCC: exact call
 * counts and where the histogram mass sits (fixture work of known cost), recursion while
 * stacks grow, the helper killed mid-trace, goroutine run-queue latency, syscall counts, and
 * the errors people get for bad names and PIDs. Every toolchain on the machine is covered for
 * the function tracer.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { traceFunctions } from '../../../src/commands/goTracing';
import { parseElf } from '../../../src/formats/elf';
import { GoBinaryIndex } from '../../../src/symbolize/goTracePlan';
import { buildGoFixture, GO_FIXTURES, goToolchains, newestGo } from '../../support/goToolchains';
import { killAll, runCli, startCli, startTracee } from './goProcess';

interface JsonFunction {
  name: string;
  calls: number;
  unmatched: number;
  sum_ns: number;
  p50_ns: number;
  p90_ns: number;
  p99_ns: number;
  buckets: { lo_ns: number; hi_ns: number; count: number }[];
}

const MS = 1e6;
const US = 1e3;

/** Calls whose bucket lies entirely inside [lo, hi). */
function massIn(f: JsonFunction, lo: number, hi: number): number {
  return f.buckets.filter((b) => b.lo_ns >= lo && b.hi_ns <= hi).reduce((s, b) => s + b.count, 0);
}

/** Runs `trace` on the tracee until it prints done, then stops the CLI with Ctrl-C (graceful). */
async function traceUntilDone(binary: string, traceeArgs: string[], funcs: string[]) {
  const t = await startTracee(binary, traceeArgs);
  const cli = startCli(['trace', '--pid', String(t.pid), ...funcs.flatMap((f) => ['--func', f]), '--duration', '120', '--json']);
  await cli.stderr.wait(/^attached/, 60000, 'the attached line');
  t.start();
  const done = await t.done();
  cli.proc.kill('SIGINT');
  const code = await cli.exit;
  assert.equal(code, 0, `trace failed: ${cli.stderr.lines.join('\n')}`);
  const out = JSON.parse(cli.stdout.lines.join('\n')) as { functions: JsonFunction[]; ended_by: string };
  assert.equal(out.ended_by, 'stop');
  const alive = t.proc.exitCode === null && t.proc.signalCode === null;
  t.proc.kill('SIGTERM');
  await t.exited;
  return { out, done, alive };
}

describe('eBPF go_func_cycles: trace [root, bcc]', function () {
  this.timeout(600000);
  after(killAll);

  const N = 1000;
  const M = 100;
  for (const tc of goToolchains()) {
    it(`counts every call exactly and puts the histogram mass in the right buckets (Go ${tc.version})`, async () => {
      const bin = buildGoFixture('tracee', tc);
      const names = ['main.busyWork', 'main.sleepy', 'main.(*Server).handle', 'tracee/internal/work.(*Counter).Add', 'main.Sum[...]'];
      const { out, done, alive } = await traceUntilDone(bin, ['calls', String(N), String(M)], names);
      assert.ok(alive, 'the tracee died under tracing');
      assert.match(done, new RegExp(`^done ${N} ${M} `));
      const by = new Map(out.functions.map((f) => [f.name, f]));
      const busy = by.get('main.busyWork')!;
      const sleepy = by.get('main.sleepy')!;
      assert.equal(busy.calls, N);
      assert.equal(busy.unmatched, 0);
      assert.equal(sleepy.calls, M);
      assert.equal(sleepy.unmatched, 0);
      assert.equal(by.get('main.(*Server).handle')!.calls, N);
      // The program calls Add N times in the loop and once more for its "done" line.
      assert.equal(by.get('tracee/internal/work.(*Counter).Add')!.calls, N + 1);
      const sum = out.functions.find((f) => f.name.startsWith('main.Sum['));
      assert.ok(sum, `no main.Sum instantiation in ${[...by.keys()].join(', ')}`);
      assert.equal(sum.calls, N);

      // busyWork spins until 100 µs have passed: no call can be shorter, so no mass below the
      // [64 µs, 128 µs) bucket; preemption on a shared 2-core machine stretches a few calls.
      assert.equal(
        busy.buckets.reduce((s, b) => s + b.count, 0),
        N,
      );
      assert.equal(
        busy.buckets.filter((b) => b.hi_ns <= 64 * US).reduce((s, b) => s + b.count, 0),
        0,
      );
      assert.ok(massIn(busy, 64 * US, 256 * US) >= 0.8 * N, `busyWork mass in [64µs,256µs): ${massIn(busy, 64 * US, 256 * US)} of ${N}`);
      assert.ok(busy.sum_ns >= N * 100 * US, `busyWork sum ${busy.sum_ns} < N × 100 µs`);
      // time.Sleep(2ms) sleeps at least 2 ms: nothing in buckets ending at or below 2 ms, the
      // bulk in the log2 buckets around it ([1.05 ms, 4.19 ms)).
      assert.equal(
        sleepy.buckets.filter((b) => b.hi_ns <= 2 * MS).reduce((s, b) => s + b.count, 0),
        0,
      );
      assert.ok(sleepy.sum_ns >= M * 2 * MS, `sleepy sum ${sleepy.sum_ns} < M × 2 ms`);
      assert.ok(massIn(sleepy, 1048576, 4194304) >= 0.8 * M, `sleepy mass in [1ms,4ms): ${massIn(sleepy, 1048576, 4194304)} of ${M}`);
      assert.ok(sleepy.p50_ns >= 1048576 && sleepy.p50_ns < 4194304);
    });
  }

  it('counts a recursive function exactly while 50 goroutines grow their stacks, and the target finishes', async () => {
    const bin = buildGoFixture('tracee', newestGo());
    const { out, done, alive } = await traceUntilDone(bin, ['recurse', '50', '2000'], ['main.recurse']);
    assert.ok(alive, 'the tracee died under tracing');
    const printed = Number(/^done (\d+)/.exec(done)![1]);
    assert.equal(printed, 50 * 2001);
    assert.equal(out.functions[0]!.calls, printed);
  });

  it('leaves no probe behind when the helper is killed with SIGKILL mid-trace, and the target keeps running', async () => {
    const bin = buildGoFixture('tracee', newestGo());
    const t = await startTracee(bin, ['calls', '20000', '0']);
    const plan = new GoBinaryIndex(parseElf(fs.readFileSync(bin))).plan(['main.busyWork']).functions[0]!;
    const addrs = [plan.entry, ...plan.rets];
    const fileBytes = fs.readFileSync(bin);
    const elf = parseElf(fileBytes);
    const original = addrs.map((a) => fileBytes[elf.fileOffsetOf(a)!]!);
    const memByte = (a: bigint): number => {
      const fd = fs.openSync(`/proc/${t.pid}/mem`, 'r');
      try {
        const b = Buffer.alloc(1);
        fs.readSync(fd, b, 0, 1, Number(a));
        return b[0]!;
      } finally {
        fs.closeSync(fd);
      }
    };
    let helperPid = 0;
    let attached!: () => void;
    const isAttached = new Promise<void>((r) => {
      attached = r;
    });
    const run = traceFunctions({
      target: { kind: 'local' },
      pid: t.pid,
      durationSec: 120,
      functions: ['main.busyWork'],
      onMessage: (m) => {
        if (m.type === 'hello') helperPid = m.pid;
      },
      onAttached: () => attached(),
    }).then(
      () => 'finished',
      (e: Error) => e.message,
    );
    await isAttached;
    t.start();
    // While attached, the kernel has written breakpoints (INT3, 0xcc) over our probe addresses.
    assert.deepEqual(
      addrs.map(memByte),
      addrs.map(() => 0xcc),
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(helperPid > 0);
    process.kill(helperPid, 'SIGKILL');
    const outcome = await run;
    assert.notEqual(outcome, 'finished');
    // The uprobes went with the helper's perf event fds: the original instructions are back.
    for (let i = 0; i < 50 && addrs.map(memByte).some((b, j) => b !== original[j]); i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(addrs.map(memByte), original);
    const events = fs.existsSync('/sys/kernel/tracing/uprobe_events') ? fs.readFileSync('/sys/kernel/tracing/uprobe_events', 'utf8') : '';
    assert.ok(!events.includes(`bcc_${helperPid}`), `uprobe_events still lists the helper's probes:\n${events}`);
    // The target finishes its 20000 calls and answers.
    assert.match(await t.done(), /^done 20000 0 /);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(t.proc.exitCode, null, 'the tracee exited');
    assert.equal(t.proc.signalCode, null, `the tracee died of ${t.proc.signalCode}`);
    t.proc.kill('SIGKILL');
    await t.exited;
  });

  it('traces names with dots, slashes, parentheses, stars and brackets, and explains names it cannot trace', async () => {
    const bin = buildGoFixture('tracee', newestGo());
    const t = await startTracee(bin, ['calls', '10', '0']);
    try {
      const missing = await runCli(['trace', '--pid', String(t.pid), '--func', 'main.busywork', '--duration', '1']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no function named main\.busywork/);
      assert.match(missing.stderr, /did you mean: main\.busyWork/);
      assert.doesNotMatch(missing.stderr, /at .*\.js:\d+/, 'a stack trace was printed');

      // waitEnd is small and called once: the compiler inlines it into main.main.
      const inlined = await runCli(['trace', '--pid', String(t.pid), '--func', 'main.waitEnd', '--duration', '1']);
      assert.equal(inlined.code, 1);
      assert.match(inlined.stderr, /main\.waitEnd has no code of its own: the compiler inlined it everywhere \(into main\.main\)/);
      assert.match(inlined.stderr, /-gcflags=-l/);

      const noFunc = await runCli(['trace', '--pid', String(t.pid), '--duration', '1']);
      assert.equal(noFunc.code, 1);
      assert.match(noFunc.stderr, /at least one --func/);
    } finally {
      t.proc.kill('SIGTERM');
      await t.exited;
    }
  });

  it('says clearly when the PID is not a Go program or does not exist', async () => {
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const r = await runCli(['trace', '--pid', String(sleeper.pid), '--func', 'main.main', '--duration', '1']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /not a Go program/);
      const s = await runCli(['sched', '--pid', String(sleeper.pid), '--duration', '1']);
      assert.equal(s.code, 1);
      assert.match(s.stderr, /not a Go program/);
    } finally {
      sleeper.kill('SIGKILL');
    }
    const gone = await runCli(['trace', '--pid', '4194000', '--func', 'main.main', '--duration', '1']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no process with PID 4194000/);
  });
});

describe('eBPF go_goroutine_latency: sched [root, bcc]', function () {
  this.timeout(300000);
  after(killAll);
  // The `go` statement of tracee's spin mode.
  const traceeLines = fs.readFileSync(path.join(GO_FIXTURES, 'tracee', 'main.go'), 'utf8').split('\n');
  const spinGoLine =
    traceeLines.findIndex((l, i) => i > traceeLines.findIndex((x) => x.includes('case "spin":')) && l.trim() === 'go func() {') + 1;

  for (const tc of goToolchains()) {
    it(`measures run-queue waits of K spinning goroutines on GOMAXPROCS=1 in the expected range (Go ${tc.version})`, async () => {
      const K = 4;
      const bin = buildGoFixture('tracee', tc);
      const t = await startTracee(bin, ['spin', String(K)]);
      t.start();
      await t.done();
      try {
        const r = await runCli(['sched', '--pid', String(t.pid), '--duration', '3', '--json']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /^attached/m);
        const s = JSON.parse(r.stdout) as {
          count: number;
          p50_ns: number;
          p90_ns: number;
          buckets: { lo_ns: number; count: number }[];
          worst: { goid: number; wait_ns: number; created_at?: string; start_function?: string }[];
        };
        // With one P and K goroutines that never block, sysmon preempts the running one once it
        // has run for forcePreemptNS (10 ms); a runnable spinner then waits for the other K-1 to
        // have their slices: at least one slice (≥ 10 ms) and about (K-1) × 10–20 ms (sysmon
        // polls every ≤ 10 ms). The upper bound leaves room for a loaded machine.
        assert.ok(s.count >= 10, `only ${s.count} waits in 3 s`);
        assert.ok(s.p50_ns >= 8 * MS, `p50 ${s.p50_ns} ns is below one 10 ms slice`);
        assert.ok(s.p50_ns <= 500 * MS, `p50 ${s.p50_ns} ns`);
        assert.equal(
          s.buckets.reduce((a, b) => a + b.count, 0),
          s.count,
        );
        assert.ok(s.worst.length >= K - 1 && s.worst.length <= 10);
        // The worst waits belong to the spinning goroutines (main is goroutine 1).
        // p50 is interpolated inside a 12.5%-wide bucket, so a wait in p50's own bucket may sit
        // below the estimate by up to that width.
        for (const w of s.worst.slice(0, K - 1)) {
          assert.ok(w.goid > 1, `worst wait of goroutine ${w.goid}: ${JSON.stringify(s.worst)}`);
          assert.ok(w.wait_ns * 1.125 >= s.p50_ns, `worst wait ${w.wait_ns} ns is below p50 ${s.p50_ns} ns: ${JSON.stringify(s.worst)}`);
          // Each names where it was created — the fixture's `go func() {` line in main.main, read
          // from the source — and the closure it runs.
          assert.match(w.created_at ?? '', new RegExp(`^main\\.main \\(.*/main\\.go:${spinGoLine}\\)$`), JSON.stringify(w));
          assert.match(w.start_function ?? '', /^main\.main\.func\d+$/, JSON.stringify(w));
        }
      } finally {
        t.proc.kill('SIGTERM');
        await t.exited;
      }
    });
  }

  // tracee spawn: main.main → spawnBurst → spawnOne's `go func() {`, each line read from the source.
  const lineIn = (from: number, code: string): number => {
    const i = traceeLines.findIndex((l, j) => j > from && l.trim().startsWith(code));
    assert.ok(from >= 0 && i > from, code);
    return i + 1;
  };
  const funcLine = (name: string): number => traceeLines.findIndex((l) => l.startsWith(`func ${name}(`));
  const spawnStack: [string, number][] = [
    ['main.spawnOne', lineIn(funcLine('spawnOne'), 'go func() {')],
    ['main.spawnBurst', lineIn(funcLine('spawnBurst'), 'spawnOne(&wg)')],
    [
      'main.main',
      lineIn(
        traceeLines.findIndex((l) => l.includes('case "spawn":')),
        'spawnBurst(20)',
      ),
    ],
  ];

  for (const tc of goToolchains()) {
    it(`gives the worst waits of goroutines created while tracing their creating call stack (Go ${tc.version})`, async () => {
      const bin = buildGoFixture('tracee', tc);
      const t = await startTracee(bin, ['spawn']);
      t.start();
      await t.done();
      try {
        const r = await runCli(['sched', '--pid', String(t.pid), '--duration', '2', '--json']);
        assert.equal(r.code, 0, r.stderr);
        const s = JSON.parse(r.stdout) as {
          worst: { goid: number; created_at?: string; start_function?: string; creation_stack?: string[] }[];
        };
        // Bursts of 20 goroutines on one P, each running ~300 µs: the later ones of a burst wait
        // for the earlier ones, longer than anything else in the program waits.
        const spawned = s.worst.filter((w) => w.start_function === 'main.spawnOne.func1');
        assert.ok(spawned.length >= 3, `worst waits: ${JSON.stringify(s.worst)}`);
        for (const w of spawned) {
          const st = w.creation_stack ?? [];
          const at = JSON.stringify(w);
          assert.equal(st[0], w.created_at, at);
          spawnStack.forEach(([fn, line], i) => assert.ok(st[i]?.startsWith(`${fn} (`) && st[i]?.endsWith(`/tracee/main.go:${line})`), at));
          assert.match(st[3] ?? '', /^runtime\.main \(/, at);
          // Below runtime.main only goexit, where every goroutine's stack ends.
          assert.ok(
            st.slice(4).every((f) => f.startsWith('runtime.goexit (')),
            at,
          );
        }
      } finally {
        t.proc.kill('SIGTERM');
        await t.exited;
      }
    });
  }
});

describe('eBPF go_syscall_breakdown: syscalls [root, bcc]', function () {
  this.timeout(300000);
  after(killAll);

  for (const tc of goToolchains()) {
    it(`counts exactly K write(2) calls (Go ${tc.version})`, async () => {
      const K = 1000;
      const bin = buildGoFixture('tracee', tc);
      const t = await startTracee(bin, ['writes', String(K)]);
      const cli = startCli(['syscalls', '--pid', String(t.pid), '--duration', '60', '--json', '--stacks']);
      await cli.stderr.wait(/^attached/, 60000, 'the attached line');
      t.start();
      assert.equal(await t.exited, 0);
      assert.equal(await cli.exit, 0, cli.stderr.lines.join('\n'));
      const out = JSON.parse(cli.stdout.lines.join('\n')) as {
        syscalls: { name: string; count: number; total_ns: number; top_sites?: { frames: string[]; count: number }[] }[];
        ended_by: string;
      };
      assert.equal(out.ended_by, 'target-exited');
      const write = out.syscalls.find((s) => s.name === 'write');
      assert.ok(write, `no write in ${out.syscalls.map((s) => s.name).join(', ')}`);
      assert.equal(write.count, K);
      assert.ok(write.total_ns > 0);
      // Its user stacks, symbolized here, lead back to main.main through syscall.Write.
      const top = write.top_sites![0]!;
      assert.equal(top.count, K);
      assert.ok(
        top.frames.some((f) => f.startsWith('syscall.Write')),
        top.frames.join('\n'),
      );
      assert.ok(
        top.frames.some((f) => f.startsWith('main.main')),
        top.frames.join('\n'),
      );
    });
  }
});
