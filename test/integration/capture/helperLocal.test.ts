import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BinaryResult,
  HelloMessage,
  HelperProcess,
  ProgressMessage,
  RecordResult,
  fetchBinary,
  listGoProcesses,
  probeTarget,
  recordPerf,
  runHelper,
} from '../../../src/capture';
import { traceFunctions } from '../../../src/commands/goTracing';
import { localStartTicks } from '../../../src/commands/processIdentity';
import { UserError } from '../../../src/util/userError';
import { BUILD_VARIANTS, goToolchains, newestGo } from '../../support/goToolchains';
import {
  eventually,
  expectUserError,
  isAlive,
  killSpin,
  machineHasCycles,
  perfCmdline,
  perfEvents,
  perfHasControl,
  perfProcessesFor,
  perfScriptSampleCount,
  Spinner,
  startRecordWithSlowPerf,
  startSpin,
  usedCpu,
} from './captureSupport';

const local = { kind: 'local' as const };

/** How long a target may take to get its CPU time while recorded, on a loaded machine (under the tests' 120 s). */
const CPU_LIMIT_MS = 90000;

/**
 * For recordPerf's callbacks: stop() the recording once `pid` has used 300 ms of CPU after perf
 * attached. stopped() resolves when it did (and fails, saying so, when the target never ran).
 */
function stopOnceTargetRan(pid: number) {
  let client: HelperProcess | undefined;
  let ran: Promise<void> | undefined;
  return {
    onStart: (c: HelperProcess): void => {
      client = c;
    },
    stopAfterCpu: (m: ProgressMessage): void => {
      if (m.perfPid === undefined || ran) return;
      // Stopped also when the target never ran, so that stopped() fails saying so (not a timeout).
      ran = usedCpu(pid, 300, CPU_LIMIT_MS).finally(() => client!.stop());
      ran.catch(() => undefined); // awaited by stopped()
    },
    stopped: async (): Promise<void> => {
      assert.ok(ran, 'perf never said it was recording');
      await ran;
    },
  };
}

async function sha256File(p: string): Promise<string> {
  const h = createHash('sha256');
  for await (const b of fs.createReadStream(p)) h.update(b as Buffer);
  return h.digest('hex');
}

describe('capture: helper on this machine [root, perf, Go]', function () {
  this.timeout(120000);
  let spin: Spinner;
  /** One stopped spinner per toolchain and build variant (stopped: they use no CPU while listed). */
  const listed: Spinner[] = [];
  const dirs: string[] = [];

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'these tests run as root');
    spin = await startSpin(newestGo());
    for (const tc of goToolchains()) {
      for (const variant of [BUILD_VARIANTS[0]!, BUILD_VARIANTS.find((v) => v.name === 'stripped')!]) {
        const sp = await startSpin(tc, undefined, variant);
        sp.proc.kill('SIGSTOP');
        listed.push(sp);
      }
    }
  });
  after(() => {
    killSpin(spin);
    for (const sp of listed) killSpin(sp);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('probe: cpu-clock usable, cycles as perf stat says, root, perf version', async () => {
    const p = await probeTarget(local);
    assert.equal(p.root, true);
    assert.ok(p.perf.present);
    const perfVersion = execFileSync('perf', ['--version']).toString().trim();
    assert.equal(`perf version ${p.perf.version}`, perfVersion);
    assert.equal(p.events['cpu-clock'], 'supported');
    const cycles = machineHasCycles();
    assert.equal(p.events['cycles:u'], cycles ? 'supported' : 'unsupported');
    assert.equal(p.recommendedEvent, cycles ? 'cycles:u' : 'cpu-clock');
    assert.equal(p.perfEventParanoid, Number(fs.readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim()));
    assert.equal(p.uprobes, fs.existsSync('/sys/bus/event_source/devices/uprobe'));
    assert.equal(p.kernelHeaders.present, fs.existsSync(`/lib/modules/${os.release()}/build/include`));
    // BCC: the verdict matches whether /usr/bin/python3 can import it.
    let bccOk = true;
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import bcc'], { stdio: 'ignore' });
    } catch {
      bccOk = false;
    }
    assert.equal(p.bcc.importable, bccOk);
  });

  it('probe with a PID checks the events against that process', async () => {
    const p = await probeTarget(local, { pid: spin.pid });
    assert.equal(p.events['cpu-clock'], 'supported');
    assert.equal(p.process?.exe, spin.bin);
  });

  it('processes: lists the fixtures (every toolchain, stripped too) with the Go version `go version` reports', async () => {
    const ps = await listGoProcesses(local);
    assert.ok(listed.length >= 2);
    for (const s of [spin, ...listed]) {
      const p = ps.find((x) => x.pid === s.pid);
      assert.ok(p, `PID ${s.pid} listed`);
      const goVersion = execFileSync(newestGo().goBin, ['version', s.bin]).toString().trim().split(': ')[1];
      assert.equal(p.goVersion, goVersion);
      assert.equal(p.exe, s.bin);
      assert.deepEqual(p.cmdline, [s.bin, '-exit-after-ms', '300000']);
      assert.equal(p.user, 'root');
      assert.equal(p.modulePath, 'example.com/spin');
      const buildId = execFileSync(newestGo().goBin, ['tool', 'buildid', s.bin]).toString().trim();
      assert.equal(p.goBuildId, buildId);
      assert.ok(typeof p.uptimeSec === 'number' && p.uptimeSec >= 0);
    }
    assert.ok(!ps.some((p) => p.pid === process.pid), 'node is not a Go process');
  });

  it('binary: streams /proc/PID/exe byte for byte, then serves it from the cache by build id', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-bincache-'));
    dirs.push(cache);
    const a = await fetchBinary(local, spin.pid, cache);
    assert.equal(a.cached, false);
    assert.ok(fs.readFileSync(a.path).equals(fs.readFileSync(spin.bin)));
    assert.equal(a.info.sha256, createHash('sha256').update(fs.readFileSync(spin.bin)).digest('hex'));
    assert.equal(a.info.goBuildId, execFileSync(newestGo().goBin, ['tool', 'buildid', spin.bin]).toString().trim());
    const b = await fetchBinary(local, spin.pid, cache);
    assert.equal(b.cached, true);
    assert.equal(b.path, a.path);
  });

  it('binary: a large executable (node, ~100 MB) streams intact in chunks', async () => {
    const big = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-bincache-'));
    dirs.push(cache);
    try {
      await eventually(() => isAlive(big.pid!) && fs.readlinkSync(`/proc/${big.pid}/exe`) === fs.realpathSync(process.execPath));
      const r = await runHelper<BinaryResult>(local, 'binary', { pid: big.pid }, { tempDir: cache });
      const size = fs.statSync(process.execPath).size;
      assert.ok(size > 50e6, `node is ${size} bytes`);
      assert.equal(r.files.length, 1);
      assert.equal(fs.statSync(r.files[0]!.path).size, size);
      assert.equal(await sha256File(r.files[0]!.path), await sha256File(process.execPath));
      assert.equal(r.result.sha256, await sha256File(process.execPath));
    } finally {
      big.kill('SIGKILL');
    }
  });

  it('record auto: picks the event the machine has, perf script reads the samples', async () => {
    const progress: ProgressMessage[] = [];
    // Stopped once the spinner has used 300 ms of CPU while perf samples (a loaded machine gives it
    // little CPU in a fixed second): samples are then certain, whatever the load.
    const { stopped, onStart, stopAfterCpu } = stopOnceTargetRan(spin.pid);
    const r = await recordPerf(
      local,
      { pid: spin.pid, durationSec: 600, freqHz: 499 },
      {
        onStart,
        onProgress: (p) => {
          progress.push(p);
          stopAfterCpu(p);
        },
      },
    );
    dirs.push(r.tempDir);
    await stopped();
    assert.equal(r.result.endedBy, 'stop');
    const cycles = machineHasCycles();
    assert.equal(r.event, cycles ? 'cycles:u' : 'cpu-clock');
    if (!cycles) assert.match(r.fallbackReason ?? '', /cycles is not supported/);
    assert.ok(
      perfEvents(r.perfDataPath).some((e) => e.startsWith(r.event.split(':')[0]!)),
      perfEvents(r.perfDataPath).join(),
    );
    const n = perfScriptSampleCount(r.perfDataPath);
    assert.ok(n > 0, 'samples recorded');
    assert.equal(r.result.samples, n, "perf record's own count equals what perf script reads");
    assert.equal(r.result.exe, spin.bin);
    assert.ok(progress.length >= 1);
    assert.equal(fs.statSync(r.tempDir).mode & 0o777, 0o700);
    // This perf (6.1) has --control, so the clock started from perf's ack of `enable`, and the
    // perf.data's own header shows perf ran with its events off until then.
    assert.ok(perfHasControl(), 'perf record -h lists --control fifo:...');
    assert.equal(r.result.clock, 'perf-ack');
    assert.ok(r.result.startupSec >= 0);
    assert.match(perfCmdline(r.perfDataPath), / -D -1 --control fifo:\S+perf\.ctl,\S+perf\.ack /);
    assert.ok(progress.some((p) => p.perfPid !== undefined && p.clock === 'perf-ack'));
  });

  it("record without perf's control FIFO (the fallback clock): samples from when perf opened its events", async () => {
    const r = await runHelper<RecordResult>(local, 'record', { pid: spin.pid, duration: 1, freq: 499, sync: 'events-open' });
    dirs.push(r.tempDir!);
    assert.equal(r.result.clock, 'events-open');
    const f = r.files.find((x) => x.name === 'perf.data')!;
    assert.doesNotMatch(perfCmdline(f.path), /--control|-D -1/);
    const n = perfScriptSampleCount(f.path);
    assert.ok(n > 0, 'samples recorded');
    assert.equal(r.result.samples, n);
    await expectUserError(
      runHelper(local, 'record', { pid: spin.pid, duration: 1, sync: 'later' }),
      'bad-argument',
      /--sync must be one of/,
    );
  });

  for (const sync of ['auto', 'events-open'] as const) {
    it(`a perf that takes 3 s to attach (a loaded machine) still records the whole second (sync ${sync}) [unshare]`, async () => {
      // The duration must count from when perf samples, not from its spawn: counted from the
      // spawn, the second would be over before perf had attached.
      const run = startRecordWithSlowPerf({ pid: spin.pid, duration: 1, freq: 499, sync }, 3);
      dirs.push(run.dir);
      const reply = await run.reply;
      assert.ok(reply.ok, JSON.stringify(reply.error));
      // The helper's own perf (its fixed path) was the slow one: it waited, then attached.
      assert.deepEqual(
        run.log().map((l) => l.split(' ')[0]),
        ['waiting', 'attaching'],
      );
      assert.match(run.log()[0]!, new RegExp(` record .* -p ${spin.pid} `));
      const r = reply.result as unknown as RecordResult;
      assert.equal(r.clock, sync === 'auto' ? 'perf-ack' : 'events-open');
      assert.equal(r.endedBy, 'duration');
      const n = perfScriptSampleCount(reply.filePaths!['perf.data']!);
      assert.ok(n > 0, 'samples recorded');
      assert.equal(r.samples, n);
    });
  }

  it('record --event cycles: succeeds where the PMU has cycles, else "event-unsupported"', async () => {
    const p = recordPerf(local, { pid: spin.pid, durationSec: 1, event: 'cycles' });
    if (machineHasCycles()) {
      const r = await p;
      dirs.push(r.tempDir);
      assert.equal(r.event, 'cycles:u');
    } else {
      const e = await expectUserError(p, 'event-unsupported', /cycles is not supported on this machine .*use --event cpu-clock/);
      assert.match(e.hint ?? '', /cpu-clock/);
    }
  });

  it('bad arguments are rejected with clear codes', async () => {
    const rec = (args: Record<string, unknown>) => runHelper(local, 'record', { duration: 1, ...args });
    await expectUserError(rec({ pid: -1 }), 'bad-argument', /--pid/);
    await expectUserError(rec({ pid: '1; rm -rf /' }), 'bad-argument', /--pid must be a positive whole number/);
    await expectUserError(rec({ pid: 0 }), 'bad-argument', /--pid/);
    // A PID that does not exist: one past pid_max's range of live ones is not reliable; use an exited child.
    const gone = spawn('true');
    await new Promise((r) => gone.once('exit', r));
    await expectUserError(rec({ pid: gone.pid }), 'pid-gone', new RegExp(`no process with PID ${gone.pid}`));
    const sleeper = spawn('sleep', ['30']);
    try {
      await expectUserError(rec({ pid: sleeper.pid }), 'not-go', /is not a Go program/);
    } finally {
      sleeper.kill('SIGKILL');
    }
    await expectUserError(rec({ pid: spin.pid, duration: 0 }), 'bad-argument', /--duration must be between 1 and 3600/);
    await expectUserError(rec({ pid: spin.pid, duration: 1e9 }), 'bad-argument', /--duration/);
    await expectUserError(rec({ pid: spin.pid, freq: 0 }), 'bad-argument', /--freq/);
    await expectUserError(rec({ pid: spin.pid, freq: 20001 }), 'bad-argument', /--freq/);
    await expectUserError(rec({ pid: spin.pid, event: 'cycles; reboot' }), 'bad-argument', /--event must be one of/);
    await expectUserError(rec({ pid: spin.pid, duration: '1 --foo' }), 'bad-argument', /--duration/);
    await expectUserError(rec({ pid: spin.pid, output: '/etc/passwd' }), 'bad-argument', /unknown argument.*--output/);
    await expectUserError(runHelper(local, 'no-such-thing', {}), 'unknown-subcommand');
    await expectUserError(runHelper(local, 'binary', { pid: 'self' }), 'bad-argument');
  });

  it("a saved PID's identity here: another start time or build id is refused before attaching, by the tracer and by the helper", async () => {
    const ticks = localStartTicks(spin.pid)!;
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-local-identity-'));
    dirs.push(cacheDir);
    const trace = (expect: { startTicks?: number; buildId?: string }) =>
      traceFunctions({ target: local, pid: spin.pid, durationSec: 1, functions: ['main.main'], expect, binaryCacheDir: cacheDir });
    await assert.rejects(
      trace({ startTicks: ticks + 1 }),
      (e: unknown) =>
        e instanceof UserError &&
        e.code === 'pid-reused' &&
        e.message ===
          `PID ${spin.pid} is now another process than the loaded profile's (it started at clock tick ${ticks} after boot, the profile's at ${ticks + 1})`,
    );
    await assert.rejects(
      trace({ startTicks: ticks, buildId: 'another/build/id/x' }),
      (e: unknown) =>
        e instanceof UserError && e.code === 'binary-changed' && /now runs another program than the loaded profile's/.test(e.message),
    );
    // The helper's own check, at the moment it validates the PID (here: before perf starts).
    await assert.rejects(
      recordPerf(local, { pid: spin.pid, durationSec: 1, startTicks: ticks - 1 }),
      (e: unknown) => e instanceof UserError && e.code === 'pid-reused' && /pick the process again/.test(e.hint ?? ''),
    );
    assert.equal(perfProcessesFor(spin.pid).length, 0, 'no perf was started');
    assert.ok(isAlive(spin.pid));
  });

  it('a PID that exits mid-recording: what was recorded plus a warning', async () => {
    // It exits once it has used 300 ms of CPU while perf samples it: neither a fixed lifetime (a
    // race with a slow start) nor a fixed second after the attach (little CPU on a busy machine).
    const short = await startSpin(newestGo(), ['-exit-after-ms', '600000']);
    let ran: Promise<void> | undefined;
    try {
      const r = await recordPerf(
        local,
        { pid: short.pid, durationSec: 600 },
        {
          onProgress: (m) => {
            if (m.perfPid === undefined || ran) return;
            ran = usedCpu(short.pid, 300, CPU_LIMIT_MS).finally(() => short.proc.kill('SIGTERM'));
            ran.catch(() => undefined); // awaited below
          },
        },
      );
      dirs.push(r.tempDir);
      await ran;
      assert.ok(
        r.warnings.some((w) => new RegExp(`PID ${short.pid} exited`).test(w)),
        r.warnings.join('; '),
      );
      assert.equal(r.result.endedBy, 'perf-exited');
      assert.ok(perfScriptSampleCount(r.perfDataPath) > 0);
    } finally {
      killSpin(short);
    }
  });

  it('a PID that exits before any sample: "pid-gone"', async () => {
    const idle = await startSpin(newestGo());
    idle.proc.kill('SIGSTOP'); // stopped: it uses no CPU, so no sample lands before it dies
    try {
      const p = recordPerf(
        local,
        { pid: idle.pid, durationSec: 5 },
        {
          onProgress: (m) => {
            if (m.perfPid) setTimeout(() => idle.proc.kill('SIGKILL'), 300);
          },
        },
      );
      await expectUserError(p, 'pid-gone', /exited before/);
    } finally {
      killSpin(idle);
    }
  });

  /** Starts a 30 s recording of a fresh spinner and resolves once perf runs. */
  async function recordingInFlight(signal?: AbortSignal) {
    const target = await startSpin(newestGo());
    let client: HelperProcess | undefined;
    let hello: HelloMessage | undefined;
    let perfPid: number | undefined;
    let started!: () => void;
    const running = new Promise<void>((r) => {
      started = r;
    });
    const done = runHelper(
      local,
      'record',
      { pid: target.pid, duration: 30 },
      {
        signal,
        onStart: (c) => {
          client = c;
        },
        onMessage: (m) => {
          if (m.type === 'hello') hello = m;
          if (m.type === 'progress' && typeof m.perfPid === 'number') {
            perfPid = m.perfPid;
            started();
          }
        },
      },
    );
    done.catch(() => undefined);
    await running;
    assert.ok(client && hello && perfPid);
    assert.ok(isAlive(perfPid));
    assert.ok(fs.existsSync(hello.tempDir));
    return { target, client, hello, perfPid, done };
  }

  async function assertCleanedUp(f: { target: Spinner; hello: HelloMessage; perfPid: number }) {
    assert.ok(await eventually(() => !isAlive(f.perfPid) && perfProcessesFor(f.target.pid).length === 0), 'no perf left');
    assert.ok(await eventually(() => !fs.existsSync(f.hello.tempDir)), `temp dir ${f.hello.tempDir} removed`);
    assert.ok(await eventually(() => !isAlive(f.hello.pid)), 'helper gone');
    assert.ok(isAlive(f.target.pid), 'the target keeps running');
  }

  for (const how of ['SIGTERM', 'SIGKILL'] as const) {
    it(`the helper killed with ${how} mid-record leaves no perf and no temp dir; the target lives`, async () => {
      const f = await recordingInFlight();
      try {
        process.kill(f.hello.pid, how);
        await expectUserError(f.done, how === 'SIGTERM' ? 'cancelled' : 'helper-crashed');
        await assertCleanedUp(f);
      } finally {
        killSpin(f.target);
      }
    });
  }

  it('the whole process group killed with SIGKILL: the reaper still cleans up', async () => {
    const f = await recordingInFlight();
    try {
      process.kill(-f.client.pid!, 'SIGKILL');
      await expectUserError(f.done, 'helper-crashed');
      await assertCleanedUp(f);
    } finally {
      killSpin(f.target);
    }
  });

  it('cancel through an AbortSignal stops perf, cleans up, rejects with "cancelled"', async () => {
    const ac = new AbortController();
    const f = await recordingInFlight(ac.signal);
    try {
      ac.abort();
      await expectUserError(f.done, 'cancelled', /^cancelled$/);
      await assertCleanedUp(f);
    } finally {
      killSpin(f.target);
    }
  });

  it('stop() while perf is still starting: a short recording or "cancelled", never a perf failure', async () => {
    const target = await startSpin(newestGo());
    try {
      let client: HelperProcess | undefined;
      let stoppedEarly = false;
      const p = recordPerf(
        local,
        { pid: target.pid, durationSec: 30 },
        {
          onStart: (c) => {
            client = c;
          },
          onProgress: (m) => {
            // 'starting perf' comes before perf's ack; stop right then.
            if (/^starting perf/.test(m.message)) {
              stoppedEarly = true;
              client?.stop();
            }
          },
        },
      );
      try {
        const r = await p;
        dirs.push(r.tempDir);
        assert.equal(r.result.endedBy, 'stop');
        assert.ok(
          r.warnings.some((w) => /stopped early/.test(w)),
          r.warnings.join('; '),
        );
      } catch (e) {
        assert.ok(e instanceof UserError && e.code === 'cancelled', `expected a recording or "cancelled", got ${(e as Error).stack}`);
      }
      assert.ok(stoppedEarly);
      assert.ok(await eventually(() => perfProcessesFor(target.pid).length === 0), 'no perf left');
    } finally {
      killSpin(target);
    }
  });

  it('stop() while a slow perf starts (it dies of SIGINT, writing nothing): "cancelled" from the helper, not a perf failure [unshare]', async () => {
    const target = await startSpin(newestGo());
    try {
      // perf waits (in the wrapper) until a signal ends it: the stop surely comes while it starts.
      const run = startRecordWithSlowPerf({ pid: target.pid, duration: 30 }, 'until-signalled');
      dirs.push(run.dir);
      await run.waiting();
      run.stop();
      const reply = await run.reply;
      // stop() is not cancel(): the code comes from the helper itself.
      assert.equal(reply.ok, false, 'no recording');
      assert.equal(reply.error!.code, 'cancelled', reply.error!.message);
      assert.match(reply.error!.message, /^stopped before perf had written any data/);
      assert.ok(reply.progress!.some((m) => /^starting perf/.test(m)));
      assert.ok(!reply.progress!.some((m) => /^recording PID/.test(m)), reply.progress!.join('; '));
      assert.deepEqual(
        run.log().map((l) => l.split(' ')[0]),
        ['waiting', 'interrupted'],
      );
      const wrapperPid = Number(run.log()[0]!.split(' ')[1]);
      assert.ok(await eventually(() => !isAlive(wrapperPid) && perfProcessesFor(target.pid).length === 0), 'no perf left');
    } finally {
      killSpin(target);
    }
  });

  it('stop() ends a recording early and still delivers the perf.data', async () => {
    const target = await startSpin(newestGo());
    try {
      // stop() once the target has used 300 ms of CPU while perf samples, not after a second.
      const { stopped, onStart, stopAfterCpu } = stopOnceTargetRan(target.pid);
      const r = await recordPerf(local, { pid: target.pid, durationSec: 600 }, { onStart, onProgress: stopAfterCpu });
      dirs.push(r.tempDir);
      await stopped();
      assert.equal(r.result.endedBy, 'stop');
      assert.ok(r.warnings.some((w) => /stopped early/.test(w)));
      assert.ok(perfScriptSampleCount(r.perfDataPath) > 0);
    } finally {
      killSpin(target);
    }
  });
});
