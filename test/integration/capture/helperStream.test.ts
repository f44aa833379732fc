import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HelloMessage, HelperProcess, HelperMessage, RecordResult, recordPerf, runHelper } from '../../../src/capture';
import { parsePerfData } from '../../../src/formats/perfDataParser';
import { resolveBpfDir } from '../../../src/capture/helperFiles';
import { newestGo } from '../../support/goToolchains';
import {
  eventually,
  expectUserError,
  isAlive,
  killSpin,
  perfCmdline,
  perfProcessesFor,
  procState,
  usedCpu,
  Spinner,
  startSpin,
} from './captureSupport';

const local = { kind: 'local' as const };

/**
 * Samples `perf script` reads from a perf.data, one line each. -G: a pipe-mode perf.data makes
 * perf script print the callchains even with -F pid,event; -G hides them.
 */
function perfScriptSamples(file: string): { count: number; pids: Set<number> } {
  const out = execFileSync('perf', ['script', '-G', '-i', file, '-F', 'pid,event'], {
    maxBuffer: 256 << 20,
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
  const lines = out.split('\n').filter((l) => l.trim());
  return { count: lines.length, pids: new Set(lines.map((l) => Number(l.trim().split(/\s+/)[0]))) };
}

/** Whether the process sleeps in a write to a full pipe (its wait channel is the kernel's pipe_write). */
function blockedWritingPipe(pid: number): boolean {
  try {
    return procState(pid) === 'S' && /pipe_write/.test(fs.readFileSync(`/proc/${pid}/wchan`, 'utf8'));
  } catch {
    return false;
  }
}

/** The chunks of perf.data a run received, checked against the file and the helper's sha256. */
function assertChunksAreTheFile(chunks: Buffer[], file: string, result: RecordResult): Buffer {
  const all = Buffer.concat(chunks);
  assert.ok(all.equals(fs.readFileSync(file)), 'the chunks, concatenated, are the received file byte for byte');
  assert.equal(all.length, result.perfData.size);
  assert.equal(createHash('sha256').update(all).digest('hex'), result.perfData.sha256);
  return all;
}

describe('capture: perf.data streamed while perf records (pipe mode) [root, perf, Go]', function () {
  this.timeout(120000);
  let spin: Spinner;
  const dirs: string[] = [];
  const spinners: Spinner[] = [];

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'these tests run as root');
    spin = await startSpin(newestGo());
  });
  after(() => {
    killSpin(spin);
    for (const s of spinners) killSpin(s);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('stream: samples reach onData while perf records, long before its ring buffers would have made it write', async () => {
    // Once perf records, the target runs 300 ms of CPU (~300 samples at 999 Hz, far below half a
    // ring buffer, 256 KiB a CPU, where perf writes by itself) and is then stopped. At least 100 of
    // those samples must arrive while the 60 s recording goes on: a helper that sent perf.data only
    // at the end, or one that left perf to write when its buffers fill (no pings), would send them
    // only after the 60 s, and the recording would end by its duration instead of our stop().
    const target = await startSpin(newestGo());
    spinners.push(target);
    let client: HelperProcess | undefined;
    const chunks: Buffer[] = [];
    let targetStopped = false;
    let stopping = false;
    let cpuSpent: Promise<void> | undefined;
    const stopOnceArrived = (): void => {
      if (stopping || !targetStopped) return;
      try {
        if (parsePerfData(Buffer.concat(chunks)).samples.count < 100) return;
      } catch {
        return; // not even the first attr yet
      }
      stopping = true;
      client?.stop();
    };
    const r = await recordPerf(
      local,
      { pid: target.pid, durationSec: 60, stream: true },
      {
        onStart: (c) => {
          client = c;
        },
        onProgress: (p) => {
          if (p.perfPid === undefined) return;
          cpuSpent = usedCpu(target.pid, 300).then(() => {
            target.proc.kill('SIGSTOP');
            targetStopped = true;
            stopOnceArrived();
          });
          cpuSpent.catch(() => undefined); // awaited below
        },
        onData: (b) => {
          chunks.push(b);
          stopOnceArrived();
        },
      },
    );
    dirs.push(r.tempDir);
    await cpuSpent;
    assert.equal(r.result.endedBy, 'stop', 'samples arrived, and stop() ended the recording before its 60 s');
    assert.ok(
      r.warnings.some((w) => /^stopped early after [0-9.]+ s of 60 s$/.test(w)),
      r.warnings.join('; '),
    );
    assert.ok(chunks.length > 1, `onData called ${chunks.length} times`);

    const all = assertChunksAreTheFile(chunks, r.perfDataPath, r.result);
    const parsed = parsePerfData(all);
    assert.equal(parsed.pipeMode, true);
    assert.equal(parsed.truncated, undefined);
    assert.ok(parsed.samples.count > 0);
    for (let i = 0; i < parsed.samples.count; i++) assert.equal(parsed.samples.pid[i], target.pid, `sample ${i}'s pid`);
    const ps = perfScriptSamples(r.perfDataPath);
    assert.equal(parsed.samples.count, ps.count, 'our parser and perf script count the same samples');
    assert.deepEqual([...ps.pids], [target.pid]);

    assert.equal(r.result.streamed, true);
    assert.equal(r.result.samples, null, 'perf in pipe mode prints no sample count');
    assert.equal(r.result.clock, 'perf-ack');
    assert.match(perfCmdline(r.perfDataPath), / -o - /);
    assert.match(perfCmdline(r.perfDataPath), / -D -1 --control fifo:/);
    killSpin(target);
  });

  it('without stream, onData still gets the whole (file-mode) perf.data, at the end', async () => {
    const chunks: Buffer[] = [];
    const r = await recordPerf(local, { pid: spin.pid, durationSec: 1, freqHz: 499 }, { onData: (b) => chunks.push(b) });
    dirs.push(r.tempDir);
    const all = assertChunksAreTheFile(chunks, r.perfDataPath, r.result);
    assert.equal(parsePerfData(all).pipeMode, false);
    assert.equal(r.result.streamed, undefined);
    assert.equal(r.result.samples, perfScriptSamples(r.perfDataPath).count);
  });

  it("stream without perf's control FIFO (sync events-open): the whole perf.data still arrives", async () => {
    const chunks: Buffer[] = [];
    const r = await runHelper<RecordResult>(
      local,
      'record',
      { pid: spin.pid, duration: 1, freq: 499, stream: true, sync: 'events-open' },
      {
        onMessage: (m) => {
          if (m.type === 'received-chunk') chunks.push(m.data);
        },
      },
    );
    dirs.push(r.tempDir!);
    const f = r.files.find((x) => x.name === 'perf.data')!;
    assertChunksAreTheFile(chunks, f.path, r.result);
    assert.equal(r.result.clock, 'events-open');
    assert.equal(r.result.streamed, true);
    assert.doesNotMatch(perfCmdline(f.path), /--control/);
    const n = perfScriptSamples(f.path).count;
    assert.ok(n > 0);
    assert.equal(parsePerfData(fs.readFileSync(f.path)).samples.count, n);
  });

  it('stream: a bad value is rejected', async () => {
    await expectUserError(
      runHelper(local, 'record', { pid: spin.pid, duration: 1, stream: 'maybe' }),
      'bad-argument',
      /--stream must be true or false/,
    );
  });

  it('stream + stop(): ends early, delivers what was recorded; no perf and no helper temp dir left', async () => {
    const target = await startSpin(newestGo());
    spinners.push(target);
    let client: HelperProcess | undefined;
    let hello: HelloMessage | undefined;
    let perfPid: number | undefined;
    const chunks: Buffer[] = [];
    const r = await runHelper<RecordResult>(
      local,
      'record',
      { pid: target.pid, duration: 30, stream: true },
      {
        onStart: (c) => {
          client = c;
        },
        onMessage: (m) => {
          if (m.type === 'hello') hello = m;
          if (m.type === 'progress' && typeof m.perfPid === 'number') perfPid = m.perfPid;
          if (m.type === 'progress' && m.message === 'recording' && (m.elapsedSec ?? 0) >= 1) client?.stop();
          if (m.type === 'received-chunk') chunks.push(m.data);
        },
      },
    );
    dirs.push(r.tempDir!);
    assert.equal(r.result.endedBy, 'stop');
    assert.ok(
      r.result.warnings.some((w) => /stopped early/.test(w)),
      r.result.warnings.join('; '),
    );
    const f = r.files.find((x) => x.name === 'perf.data')!;
    const all = assertChunksAreTheFile(chunks, f.path, r.result);
    const n = perfScriptSamples(f.path).count;
    assert.ok(n > 0);
    assert.equal(parsePerfData(all).samples.count, n);
    assert.ok(hello && perfPid);
    assert.ok(await eventually(() => !isAlive(perfPid!) && perfProcessesFor(target.pid).length === 0), 'no perf left');
    assert.ok(await eventually(() => !fs.existsSync(hello!.tempDir)), `helper temp dir ${hello.tempDir} removed`);
    assert.ok(isAlive(target.pid));
    killSpin(target);
  });

  /**
   * Starts a 30 s streamed recording of a fresh spinner; resolves once perf records (the progress
   * message naming it) and data with samples has arrived (either can come first: perf may write
   * before the helper has seen its ack).
   */
  async function streamInFlight(signal?: AbortSignal) {
    const target = await startSpin(newestGo());
    spinners.push(target);
    let hello: HelloMessage | undefined;
    let perfPid: number | undefined;
    const chunks: Buffer[] = [];
    let haveSamples = false;
    let flowing!: () => void;
    const samplesArrived = new Promise<void>((r) => {
      flowing = r;
    });
    const check = (): void => {
      if (haveSamples && perfPid !== undefined) flowing();
    };
    const done = runHelper(
      local,
      'record',
      { pid: target.pid, duration: 30, stream: true },
      {
        signal,
        onMessage: (m: HelperMessage) => {
          if (m.type === 'hello') hello = m;
          if (m.type === 'progress' && typeof m.perfPid === 'number') perfPid = m.perfPid;
          if (m.type === 'received-chunk' && !haveSamples) {
            chunks.push(m.data);
            try {
              haveSamples = parsePerfData(Buffer.concat(chunks)).samples.count > 0;
            } catch {
              /* not even the first attr yet */
            }
          }
          check();
        },
      },
    );
    done.catch(() => undefined);
    await samplesArrived;
    assert.ok(hello, 'hello');
    assert.ok(perfPid, 'perfPid');
    assert.ok(isAlive(perfPid), 'perf alive');
    return { target, hello, perfPid, done };
  }

  async function assertCleanedUp(f: { target: Spinner; hello: HelloMessage; perfPid: number }) {
    assert.ok(await eventually(() => !isAlive(f.perfPid) && perfProcessesFor(f.target.pid).length === 0), 'no perf left');
    assert.ok(await eventually(() => !fs.existsSync(f.hello.tempDir)), `temp dir ${f.hello.tempDir} removed`);
    assert.ok(await eventually(() => !isAlive(f.hello.pid)), 'helper gone');
    assert.ok(isAlive(f.target.pid), 'the target keeps running');
  }

  it('stream + cancel through an AbortSignal mid-stream: "cancelled", no perf, no temp dir', async () => {
    const ac = new AbortController();
    const f = await streamInFlight(ac.signal);
    ac.abort();
    await expectUserError(f.done, 'cancelled', /^cancelled$/);
    await assertCleanedUp(f);
    killSpin(f.target);
  });

  it('stream + the helper killed with SIGKILL mid-stream: the reaper stops perf and removes the temp dir', async () => {
    const f = await streamInFlight();
    process.kill(f.hello.pid, 'SIGKILL');
    await expectUserError(f.done, 'helper-crashed');
    await assertCleanedUp(f);
    killSpin(f.target);
  });

  it('stream + a PID that exits mid-recording: what was recorded plus the same warning as without stream', async () => {
    const short = await startSpin(newestGo(), ['-exit-after-ms', '600000']);
    spinners.push(short);
    const chunks: Buffer[] = [];
    const r = await recordPerf(
      local,
      { pid: short.pid, durationSec: 30, stream: true },
      {
        onProgress: (m) => {
          if (m.perfPid) setTimeout(() => short.proc.kill('SIGTERM'), 1000);
        },
        onData: (b) => chunks.push(b),
      },
    );
    dirs.push(r.tempDir);
    assert.ok(
      r.warnings.some((w) => new RegExp(`^PID ${short.pid} exited after [0-9.]+ s of the 30 s recording$`).test(w)),
      r.warnings.join('; '),
    );
    assert.equal(r.result.endedBy, 'perf-exited');
    const all = assertChunksAreTheFile(chunks, r.perfDataPath, r.result);
    const n = perfScriptSamples(r.perfDataPath).count;
    assert.ok(n > 0);
    assert.equal(parsePerfData(all).samples.count, n);
  });

  it('stream + a PID that exits before any sample: "pid-gone", judged on the records (perf wrote its header and maps)', async () => {
    const idle = await startSpin(newestGo());
    spinners.push(idle);
    idle.proc.kill('SIGSTOP'); // stopped: no CPU, so no sample
    let bytes = 0;
    const p = recordPerf(
      local,
      { pid: idle.pid, durationSec: 5, stream: true },
      {
        onProgress: (m) => {
          if (m.perfPid) setTimeout(() => idle.proc.kill('SIGKILL'), 300);
        },
        onData: (b) => {
          bytes += b.length;
        },
      },
    );
    await expectUserError(p, 'pid-gone', /exited before any sample was taken/);
    assert.ok(bytes > 16, `perf's header and synthesized records arrived (${bytes} bytes)`);
  });

  it('stream + a live PID that uses no CPU: a recording without samples and the "no samples" warning', async () => {
    const idle = await startSpin(newestGo());
    spinners.push(idle);
    idle.proc.kill('SIGSTOP');
    const r = await recordPerf(local, { pid: idle.pid, durationSec: 1, stream: true });
    dirs.push(r.tempDir);
    assert.ok(
      r.warnings.some((w) => w === `no samples: PID ${idle.pid} used no CPU while it was recorded`),
      r.warnings.join('; '),
    );
    assert.equal(r.result.endedBy, 'duration');
    assert.equal(r.result.clock, 'perf-ack');
    assert.equal(r.result.streamed, true);
    assert.equal(perfScriptSamples(r.perfDataPath).count, 0);
    assert.equal(parsePerfData(fs.readFileSync(r.perfDataPath)).samples.count, 0);
    killSpin(idle);
  });

  it("perf blocks on a pipe nobody reads and loses samples; the helper's record counter agrees with perf on them", async function () {
    this.timeout(300000);
    // Why the helper drains perf's pipe into a spool file instead of waiting on its own link:
    // here perf's output sits unread, perf blocks in write() and its ring buffers overflow. Waited
    // for as conditions, not times: the pipe is read only once perf is blocked writing to it and
    // the target has since used a second of CPU (thousands of samples at 4999 Hz, against ring
    // buffers of one page a CPU, -m 1, that hold a few dozen).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-stream-'));
    dirs.push(dir);
    const file = path.join(dir, 'blocked.data');
    const readNow = path.join(dir, 'read-now');
    const sh = spawn(
      'sh',
      [
        '-c',
        'perf record -m 1 -g -F 4999 -e cpu-clock -p "$1" -o - 2>/dev/null | { while [ ! -e "$3" ]; do sleep 0.05; done; exec cat > "$2"; }',
        'sh',
        String(spin.pid),
        file,
        readNow,
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((r) => sh.once('exit', (code) => r(code)));
    let perf: number | undefined;
    try {
      assert.ok(
        await eventually(() => (perf = perfProcessesFor(spin.pid)[0]) !== undefined && blockedWritingPipe(perf), 120000),
        'perf blocks writing to its pipe',
      );
      await usedCpu(spin.pid, 1000);
      process.kill(perf!, 'SIGINT');
      fs.writeFileSync(readNow, '');
      assert.equal(await exited, 0);
    } finally {
      // A failure above must leave no perf running: unblock it and stop it.
      fs.writeFileSync(readNow, '');
      if (perf !== undefined && isAlive(perf)) process.kill(perf, 'SIGINT');
    }
    const stats = execFileSync('perf', ['report', '--stats', '-i', file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const lostSamples = [...stats.matchAll(/LOST_SAMPLES events:\s+(\d+)\s*$/gm)].map((m) => Number(m[1])).at(-1) ?? 0;
    const script = execFileSync('perf', ['script', '--show-lost-events', '-G', '-i', file, '-F', 'pid,event'], {
      maxBuffer: 256 << 20,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    const lostRecords = [...script.matchAll(/PERF_RECORD_LOST lost (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
    // The kernel's LOST records and the LOST_SAMPLES records perf adds at the end (the events' own
    // lost counts) tell of the same losses; a LOST record can itself be lost when perf stops first.
    assert.ok(Math.max(lostRecords, lostSamples) > 0, `perf lost samples while its pipe was not read: ${stats}`);
    // The helper's counter, fed the file in odd-sized pieces as the pipe would deliver it.
    const py = [
      'import json, sys',
      'sys.path.insert(0, sys.argv[1])',
      'from perflens_helper.perf_stream import PerfRecordCounter',
      "data = open(sys.argv[2], 'rb').read()",
      'c = PerfRecordCounter()',
      'i, n = 0, 1',
      'while i < len(data):',
      '    c.feed(data[i:i + n]); i += n; n = n * 7 % 65521 + 1',
      "print(json.dumps({'valid': c.valid, 'samples': c.samples(), 'lost': c.lost_samples()}))",
    ].join('\n');
    const counted = JSON.parse(execFileSync('/usr/bin/python3', ['-I', '-c', py, resolveBpfDir(), file]).toString()) as {
      valid: boolean;
      samples: number;
      lost: number;
    };
    assert.equal(counted.valid, true);
    assert.equal(counted.samples, perfScriptSamples(file).count);
    assert.equal(counted.samples, parsePerfData(fs.readFileSync(file)).samples.count);
    assert.equal(counted.lost, Math.max(lostRecords, lostSamples));
  });
});
