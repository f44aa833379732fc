/**
 * Blocking heat against real Go processes, through the real CLI, helper and BCC, on binaries
 * built by every toolchain here, with DWARF and stripped: the `blocking` fixture waits on a
 * mutex held for a known time, on a channel fed at a known rate and in time.Sleep, times those
 * waits itself, and writes the runtime's own block and mutex profiles of the same run, which
 * `go tool pprof` reads as the reference. Also: the probe budget stops a recording early and
 * says why.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildIdArgs, runHelper } from '../../../src/capture';
import { recordBlocking } from '../../../src/commands/recordBlocking';
import { parseElf } from '../../../src/formats/elf';
import { GoBinaryIndex } from '../../../src/symbolize/goTracePlan';
import { UserError } from '../../../src/util/userError';
import { BUILD_VARIANTS, buildGoFixture, GO_FIXTURES, type GoToolchain, goToolchains } from '../../support/goToolchains';
import { killAll, runCli, startCli, startTracee } from './goProcess';

interface BlockingJson {
  duration_s: number;
  functions: { name: string; file: string; line: number; blocked_ns: number; waits: number; reasons: Record<string, number> }[];
  lines: {
    file: string;
    line: number;
    blocked_ns: number;
    waits: number;
    reasons: Record<string, number>;
    histogram: { lo_ns: number; hi_ns: number; waits: number }[];
  }[];
  still_parked: number;
  ended_by: string;
  warnings: string[];
}

const SOURCE = path.join(GO_FIXTURES, 'blocking', 'main.go');

function lineOf(text: string): number {
  const i = fs
    .readFileSync(SOURCE, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text));
  assert.ok(i >= 0, `no line with ${text}`);
  return i + 1;
}

/** Cumulative delay (ns) per function of a runtime block or mutex profile, by `go tool pprof -top -cum`. */
function pprofDelay(tc: GoToolchain, profile: string): Map<string, number> {
  const out = execFileSync(
    tc.goBin,
    [
      'tool',
      'pprof',
      '-top',
      '-cum',
      '-sample_index=delay',
      '-unit=ns',
      '-nodecount=100000',
      '-nodefraction=0',
      '-edgefraction=0',
      profile,
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, GOTOOLCHAIN: 'local', PPROF_TMPDIR: os.tmpdir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const m = new Map<string, number>();
  for (const line of out.split('\n')) {
    const f = /^\s*(\S+)\s+\S+%\s+\S+%\s+(\d+)(?:ns)?\s+\S+%\s+(.+?)(?: \(inline\))?\s*$/.exec(line);
    if (f) m.set(f[3]!, Number(f[2]));
  }
  return m;
}

const worst = { own: 0, profile: 0 };

function near(actual: number, expected: number, tolerance: number, what: string, kind: keyof typeof worst): void {
  const dev = Math.abs(actual - expected) / expected;
  worst[kind] = Math.max(worst[kind], dev);
  assert.ok(dev <= tolerance, `${what}: ${actual} vs ${expected} (${(dev * 100).toFixed(2)}% off, allowed ${tolerance * 100}%)`);
}

async function recordFixture(bin: string, dir: string, extra: string[] = []) {
  const t = await startTracee(bin, [dir]);
  const cli = startCli(['blocking', '--pid', String(t.pid), '--duration', '120', '--json', ...extra]);
  await Promise.race([
    cli.stderr.wait(/^attached/, 60000, 'the attached line'),
    cli.exit.then((c) => {
      throw new Error(`blocking ended (${c}) before attaching: ${cli.stderr.lines.join('\n')}`);
    }),
  ]);
  t.start();
  return { t, cli };
}

describe('eBPF go_block_heat: blocking [root, bcc, go]', function () {
  this.timeout(600000);
  after(killAll);
  after(() => {
    if (worst.own > 0)
      process.stdout.write(
        `      blocking accuracy: largest deviation from the program's own timing ${(worst.own * 100).toFixed(2)}%, from its block/mutex profiles ${(worst.profile * 100).toFixed(2)}%\n`,
      );
  });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-blocking-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const tc of goToolchains()) {
    for (const variant of BUILD_VARIANTS.filter((v) => v.name === 'default' || v.name === 'stripped')) {
      it(`times a mutex, a channel and a sleep as the program and its block/mutex profiles do (Go ${tc.version}, ${variant.name})`, async () => {
        const bin = buildGoFixture('blocking', tc, variant);
        const dir = fs.mkdtempSync(path.join(tmp, `${tc.version}-${variant.name}-`));
        const { t, cli } = await recordFixture(bin, dir);
        const done = await t.done();
        cli.proc.kill('SIGINT');
        const code = await cli.exit;
        assert.equal(code, 0, `blocking failed: ${cli.stderr.lines.join('\n')}`);
        const out = JSON.parse(cli.stdout.lines.join('\n')) as BlockingJson;
        assert.ok(t.proc.exitCode === null && t.proc.signalCode === null, 'the program died while traced');
        t.proc.kill('SIGTERM');
        await t.exited;

        assert.deepEqual(Object.keys(out).slice(0, 3), ['duration_s', 'functions', 'lines']);
        assert.deepEqual(Object.keys(out.functions[0]!), ['name', 'file', 'line', 'blocked_ns', 'waits', 'reasons']);
        assert.deepEqual(Object.keys(out.lines[0]!), ['file', 'line', 'blocked_ns', 'waits', 'reasons', 'histogram']);
        assert.equal(out.ended_by, 'stop');

        const own = Object.fromEntries([...done.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
        const lines = new Map(out.lines.filter((l) => l.file.endsWith('blocking/main.go')).map((l) => [l.line, l]));
        const mutexLine = lines.get(lineOf('mu.Lock() // blocks'))!;
        const chanLine = lines.get(lineOf('<-ch // blocks'))!;
        const sleepLine = lines.get(lineOf('time.Sleep(10 * time.Millisecond)'))!;
        assert.ok(mutexLine && chanLine && sleepLine, `lines: ${JSON.stringify([...lines.values()])}`);
        near(mutexLine.blocked_ns, own.mutex!, 0.1, "mu.Lock() vs the program's own timing", 'own');
        near(chanLine.blocked_ns, own.chan!, 0.1, "<-ch vs the program's own timing", 'own');
        near(sleepLine.blocked_ns, own.sleep!, 0.1, "time.Sleep vs the program's own timing", 'own');
        assert.ok(mutexLine.waits >= 20, `mutex waits ${mutexLine.waits}`);
        assert.equal(chanLine.waits, 50);
        assert.equal(sleepLine.waits, 100);

        // Each line's wait-time histogram: every wait in it once, spread over the log2 slots as
        // the program's own timing of each wait spreads them (its clock runs from just before
        // the call that parks to just after it returns: a wait near a slot's edge may land in
        // the next slot, so a few may differ).
        for (const [name, l] of [
          ['mutex', mutexLine],
          ['chan', chanLine],
          ['sleep', sleepLine],
        ] as const) {
          assert.equal(
            l.histogram.reduce((n, b) => n + b.waits, 0),
            l.waits,
            `${name}: the histogram holds every wait ${JSON.stringify(l.histogram)}`,
          );
          const mine = new Map(l.histogram.map((b) => [Math.log2(b.hi_ns), b.waits]));
          for (const b of l.histogram) assert.equal(b.lo_ns, b.hi_ns / 2, `${name}: log2 bucket ${JSON.stringify(b)}`);
          const theirs = new Map(
            Object.entries(own).flatMap(([k, v]) => (k.startsWith(`hist_${name}_`) ? [[Number(k.split('_')[2]), v]] : [])),
          );
          assert.ok(theirs.size > 0, `the program's histogram of ${name}: ${done}`);
          const differ = [...new Set([...mine.keys(), ...theirs.keys()])].reduce(
            (n, slot) => n + Math.abs((mine.get(slot) ?? 0) - (theirs.get(slot) ?? 0)),
            0,
          );
          assert.ok(
            differ <= Math.max(4, 0.1 * l.waits),
            `${name}: histogram ${JSON.stringify([...mine])} vs the program's ${JSON.stringify([...theirs])}`,
          );
          assert.equal(
            Object.values(l.reasons).reduce((a, b) => a + b, 0),
            l.blocked_ns,
            `${name}: the reasons add up to the line's time ${JSON.stringify(l.reasons)}`,
          );
        }

        const by = new Map(out.functions.map((f) => [f.name, f]));
        const minor = Number(tc.version.split('.')[1]);
        assert.ok(
          (by.get('main.waitMutex')!.reasons[minor >= 21 ? 'sync.Mutex.Lock' : 'semacquire'] ?? 0) > 0.9 * mutexLine.blocked_ns,
          JSON.stringify(by.get('main.waitMutex')),
        );
        assert.ok(by.get('main.recvChan')!.reasons['chan receive']! >= chanLine.blocked_ns);
        // (Nearly) all of it: a rare GC assist wait may park at the same line.
        assert.ok(chanLine.reasons['chan receive']! >= 0.99 * chanLine.blocked_ns, JSON.stringify(chanLine.reasons));
        assert.ok(sleepLine.reasons.sleep! >= 0.99 * sleepLine.blocked_ns, JSON.stringify(sleepLine.reasons));
        assert.ok(
          (mutexLine.reasons[minor >= 21 ? 'sync.Mutex.Lock' : 'semacquire'] ?? 0) > 0.9 * mutexLine.blocked_ns,
          JSON.stringify(mutexLine.reasons),
        );
        assert.ok(by.get('main.sleeper')!.reasons.sleep! >= sleepLine.blocked_ns);
        assert.equal(by.get('main.sleeper')!.line, lineOf('func sleeper()'));

        const block = pprofDelay(tc, path.join(dir, 'block.pb.gz'));
        near(by.get('main.recvChan')!.blocked_ns, block.get('main.recvChan')!, 0.1, 'main.recvChan vs the block profile', 'profile');
        near(by.get('main.waitMutex')!.blocked_ns, block.get('main.waitMutex')!, 0.1, 'main.waitMutex vs the block profile', 'profile');
        const mutex = pprofDelay(tc, path.join(dir, 'mutex.pb.gz'));
        near(
          mutexLine.blocked_ns,
          mutex.get('main.holdMutex')!,
          0.1,
          'the mu.Lock() line vs the mutex profile (charged to the holder)',
          'profile',
        );
      });
    }
  }

  it('stops early at the probe budget and says why, leaving the program running', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'budget-'));
    const { t, cli } = await recordFixture(buildGoFixture('blocking', goToolchains().at(-1)!), dir, ['--max-hits', '100']);
    const code = await cli.exit;
    assert.equal(code, 0, cli.stderr.lines.join('\n'));
    const out = JSON.parse(cli.stdout.lines.join('\n')) as BlockingJson;
    assert.equal(out.ended_by, 'budget');
    assert.match(out.warnings.join('\n'), /above the budget of 100\/s: stopped early so as not to slow the program/);
    assert.ok(out.duration_s < 10, `ran ${out.duration_s} s`);
    await t.done();
    assert.ok(t.proc.exitCode === null && t.proc.signalCode === null, 'the program died');
    t.proc.kill('SIGTERM');
    await t.exited;
  });

  it('the helper refuses probe addresses outside runtime.gopark / runtime.execute and an unknown argument', async () => {
    const bin = buildGoFixture('blocking', goToolchains().at(-1)!);
    const t = await startTracee(bin, [fs.mkdtempSync(path.join(tmp, 'args-'))]);
    try {
      const elf = parseElf(fs.readFileSync(bin));
      const idx = new GoBinaryIndex(elf);
      const entry = (n: string): number => Number(idx.probesOf(idx.resolve(n)[0]!).entry);
      const good = { pid: t.pid, duration: 1, gopark: entry('runtime.gopark'), execute: entry('runtime.execute'), ...buildIdArgs(elf) };
      const refused = async (args: Record<string, unknown>, code: string, re: RegExp): Promise<void> => {
        try {
          await runHelper({ kind: 'local' }, 'blocking', args);
        } catch (e) {
          assert.ok(e instanceof UserError, String(e));
          assert.equal(e.code, code);
          assert.match(e.message, re);
          return;
        }
        assert.fail(`the helper accepted ${JSON.stringify(args)}`);
      };
      await refused({ ...good, gopark: good.execute }, 'bad-probe', /is in runtime\.execute, not in runtime\.gopark/);
      await refused({ ...good, execute: 0x10 }, 'bad-argument', /not in an executable segment/);
      await refused({ ...good, maxHitsPerSec: 1 }, 'bad-argument', /--maxHitsPerSec must be between 100/);
      await refused({ ...good, extra: 1 }, 'bad-argument', /unknown argument/);
      assert.ok(t.proc.exitCode === null && t.proc.signalCode === null, 'the program died');
    } finally {
      t.proc.kill('SIGKILL');
      await t.exited;
    }
  });

  it("leaves the runtime's code as it was when the helper is killed with SIGKILL mid-recording, and the program finishes", async () => {
    const bin = buildGoFixture('blocking', goToolchains().at(-1)!);
    const t = await startTracee(bin, [fs.mkdtempSync(path.join(tmp, 'kill-'))]);
    const fileBytes = fs.readFileSync(bin);
    const elf = parseElf(fileBytes);
    const idx = new GoBinaryIndex(elf);
    const addrs = ['runtime.gopark', 'runtime.execute'].map((n) => idx.probesOf(idx.resolve(n)[0]!).entry);
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
    const run = recordBlocking({
      target: { kind: 'local' },
      pid: t.pid,
      durationSec: 120,
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
    assert.deepEqual(addrs.map(memByte), [0xcc, 0xcc], 'the probes are in place while attached');
    await new Promise((r) => setTimeout(r, 300));
    process.kill(helperPid, 'SIGKILL');
    assert.notEqual(await run, 'finished');
    for (let i = 0; i < 50 && addrs.map(memByte).some((b, j) => b !== original[j]); i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(addrs.map(memByte), original);
    assert.match(await t.done(), /^done mutex=\d+ chan=\d+ sleep=\d+/);
    assert.ok(t.proc.exitCode === null && t.proc.signalCode === null, 'the program died');
    t.proc.kill('SIGTERM');
    await t.exited;
  });

  it('refuses a budget out of range with a usage message', async () => {
    const r = await runCli(['blocking', '--pid', String(process.pid), '--max-hits', '5']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--max-hits must be a whole number from 100 to 10000000/);
  });
});
