/**
 * The CLI never loses a recording: Ctrl-C or SIGTERM stops and writes what was recorded (a second
 * one discards), a bad -o is refused before anything is recorded, and a recording whose output
 * folder vanished is saved beside with a message saying where. Real perf, a real Go process.
 */
import * as assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadSession } from '../../../src/model/session';
import { CLI, ensureCli, runCli } from '../../support/cliRunner';
import { buildGoFixture, newestGo } from '../../support/goToolchains';
import { havePerfAndRoot, perfRecordCommand, stopAllTargets, track } from '../../support/profileTargets';

interface Running {
  proc: ChildProcess;
  stderr: () => string;
  done: Promise<number | null>;
}

function startRecord(args: string[]): Running {
  const proc = track(spawn('node', [CLI, 'record', ...args], { stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, stderr: () => stderr, done };
}

function hottest(fns: readonly { name: string; selfSamples: number }[]): string | undefined {
  return [...fns].sort((a, b) => b.selfSamples - a.selfSamples)[0]?.name;
}

/** Polls until cond() holds. */
async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('CLI keeps the data: stop, bad output paths [root, perf, go]', function () {
  this.timeout(240_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-keep16-'));
  let hotBin: string;
  let hotData: string;
  before(function () {
    if (!havePerfAndRoot()) throw new Error('these tests need root and perf (run scripts/setup.sh, as root)');
    ensureCli();
    hotBin = buildGoFixture('hotline', newestGo());
    hotData = path.join(tmp, 'hot.data');
    perfRecordCommand([hotBin, '1'], hotData);
  });
  after(() => {
    stopAllTargets();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig} during record --duration 3600 stops and writes what was recorded`, async () => {
      const target = track(spawn(hotBin, ['120'], { stdio: 'ignore' }));
      const out = path.join(tmp, `stop-${sig}.json`);
      const rec = startRecord(['--pid', String(target.pid), '--duration', '3600', '-o', out]);
      await waitFor(() => rec.stderr().includes('recording pid'), 60_000);
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 4000));
      rec.proc.kill(sig);
      const code = await rec.done;
      const waitedSec = (Date.now() - t0) / 1000;
      target.kill();
      assert.equal(code, 0, rec.stderr());
      const s = loadSession(out);
      assert.equal(s.profile.ended?.by, 'stop');
      assert.equal(s.profile.ended?.requestedSec, 3600);
      const covered = s.profile.durationNanos / 1e9;
      // "recording pid" is said once samples are taken; what was covered is at most the time before the signal.
      assert.ok(covered > 0.2 && covered <= waitedSec + 0.5, `covers ${covered} s of ${waitedSec} s`);
      assert.ok(s.profile.totalSamples > 100, `${s.profile.totalSamples} samples`);
      assert.equal(hottest(s.profile.functions), 'main.spin');
      // The message states how long the kept profile covers.
      assert.match(rec.stderr(), new RegExp(`over ${covered.toFixed(1)} s of the 3600 s asked for \\(stopped early\\)`));
      assert.ok(!fs.readdirSync(tmp).some((f) => f.includes('.tmp')), 'no temporary file left');
    });
  }

  it('a second Ctrl-C discards: no file, a clear message', async () => {
    const target = track(spawn(hotBin, ['120'], { stdio: 'ignore' }));
    const out = path.join(tmp, 'discard.json');
    const rec = startRecord(['--pid', String(target.pid), '--duration', '3600', '-o', out]);
    await waitFor(() => rec.stderr().includes('recording pid'), 60_000);
    await new Promise((r) => setTimeout(r, 2500));
    rec.proc.kill('SIGINT');
    // The second one while the first stop is under way (it takes ~0.1 s here; kill() twice at
    // once could merge the two into one pending signal).
    await new Promise((r) => setTimeout(r, 15));
    rec.proc.kill('SIGINT');
    const code = await rec.done;
    target.kill();
    assert.equal(code, 1, rec.stderr());
    assert.match(rec.stderr(), /go-perf-lens: cancelled: nothing was written to /);
    assert.doesNotMatch(rec.stderr(), /internal error| {4}at /);
    assert.ok(!fs.existsSync(out));
  });

  it('record -o a directory, or into a missing folder: refused before recording', () => {
    const target = track(spawn(hotBin, ['60'], { stdio: 'ignore' }));
    const cases: [string, RegExp][] = [
      [tmp, /is a directory, not a file name/],
      [path.join(tmp, 'no', 'such', 'dir', 's.json'), /the folder .*no\/such\/dir does not exist/],
      [path.join(hotBin, 's.json'), /is not a folder/],
    ];
    for (const [out, msg] of cases) {
      const r = runCli(['record', '--pid', String(target.pid), '--duration', '3600', '-o', out]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, msg);
      assert.doesNotMatch(r.stderr, /recording pid|internal error| {4}at /);
    }
    target.kill();
    assert.deepEqual(
      fs.readdirSync(tmp).filter((f) => f.includes('.tmp')),
      [],
    );
  });

  it('report -o and pprof -o a directory or a missing folder: a clear error, nothing written', () => {
    for (const sub of ['report', 'pprof']) {
      for (const out of [tmp, path.join(tmp, 'missing', 'x.out')]) {
        const r = runCli([sub, hotData, '--binary', hotBin, '-o', out]);
        assert.equal(r.status, 1, `${sub} -o ${out}: ${r.stderr}`);
        assert.match(r.stderr, /^go-perf-lens: -o .*(is a directory|does not exist)/);
        assert.doesNotMatch(r.stderr, /internal error|EISDIR| {4}at /);
      }
    }
    assert.deepEqual(
      fs.readdirSync(tmp).filter((f) => f.includes('.tmp')),
      [],
    );
  });

  it('the output folder removed during the recording: the session is saved beside, and the message says where', async () => {
    const target = track(spawn(hotBin, ['60'], { stdio: 'ignore' }));
    const dir = fs.mkdtempSync(path.join(tmp, 'vanishing-'));
    const out = path.join(dir, 's.json');
    const cwd = fs.mkdtempSync(path.join(tmp, 'cwd-'));
    const proc = track(
      spawn('node', [CLI, 'record', '--pid', String(target.pid), '--duration', '3', '-o', out], {
        cwd,
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    await waitFor(() => stderr.includes('recording pid'), 60_000);
    fs.rmSync(dir, { recursive: true });
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    target.kill();
    assert.equal(code, 1, stderr);
    const m = /cannot write .*s\.json \(its folder does not exist\): the data was saved to (\S+) instead/.exec(stderr);
    assert.ok(m, stderr);
    assert.equal(path.dirname(m[1]!), cwd);
    const s = loadSession(m[1]!);
    assert.ok(s.profile.totalSamples > 100, `${s.profile.totalSamples} samples`);
    assert.doesNotMatch(stderr, /internal error| {4}at /);
  });

  it('a PID that exits mid-recording: "PID X exited after N s — partial profile", kept', async () => {
    // It ends 3 s after the recording has begun (attaching alone can take seconds on a busy machine).
    const target = track(spawn(hotBin, ['120'], { stdio: 'ignore' }));
    const out = path.join(tmp, 'exited.json');
    const rec = startRecord(['--pid', String(target.pid), '--duration', '60', '-o', out]);
    await waitFor(() => rec.stderr().includes('recording pid'), 60_000);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    target.kill('SIGKILL');
    const code = await rec.done;
    const livedSec = (Date.now() - t0) / 1000;
    assert.equal(code, 0, rec.stderr());
    const s = loadSession(out);
    assert.equal(s.profile.ended?.by, 'target-exited');
    assert.ok(
      s.profile.durationNanos > 0 && s.profile.durationNanos / 1e9 <= livedSec + 0.5,
      `${s.profile.durationNanos} ns of ${livedSec} s`,
    );
    assert.match(rec.stderr(), new RegExp(`PID ${target.pid} exited: partial profile`));
    assert.equal(hottest(s.profile.functions), 'main.spin');
  });

  it('SIGKILL during record leaves its capture folder; the next record removes it', async () => {
    const target = track(spawn(hotBin, ['60'], { stdio: 'ignore' }));
    // perf's recording streams perf.data into the client's capture folder (the eBPF sampler, the
    // default where BCC runs, sends its stacks as messages and makes none).
    const rec = startRecord(['--pid', String(target.pid), '--duration', '30', '--sampler', 'perf', '-o', path.join(tmp, 'killed.json')]);
    const mine = (): string[] => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(`go-perf-lens-capture-${rec.proc.pid}-`));
    // The folder is made as the helper starts; perf.data's first bytes stream into it while perf records.
    const withData = (): string[] => mine().filter((n) => fs.existsSync(path.join(os.tmpdir(), n, 'perf.data')));
    await waitFor(() => withData().length > 0, 60_000);
    const left = path.join(os.tmpdir(), withData()[0]!);
    rec.proc.kill('SIGKILL');
    await rec.done;
    assert.ok(fs.existsSync(path.join(left, 'perf.data')), 'a killed client cannot clean up after itself');
    const again = runCli([
      'record',
      '--pid',
      String(target.pid),
      '--duration',
      '1',
      '--sampler',
      'perf',
      '-o',
      path.join(tmp, 'next.json'),
    ]);
    target.kill();
    assert.equal(again.status, 0, again.stderr);
    assert.ok(!fs.existsSync(left), `${left} was removed by the next start`);
  });
});
