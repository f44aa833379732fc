/**
 * Messages that used to mislead, made true and actionable: a process even root may not read, one
 * sampling-rate limit checked once, no samples at a very low rate, a damaged --binary named, and
 * pprof values that cannot be shown as they are. Real perf and Go binaries.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { encodePprof, type PprofProfile } from '../../../src/formats/pprof';
import { ingestPprof } from '../../../src/ingest/fromPprof';
import { ensureCli, runCli } from '../../support/cliRunner';
import { buildGoFixture, newestGo } from '../../support/goToolchains';
import { goFunction, lineLocation, pprofProfile, pprofSample } from '../../support/pprofBuilder';
import { havePerfAndRoot, perfRecordCommand, stopAllTargets, track } from '../../support/profileTargets';

/** A small pprof profile: main.f at line `line`, one sample per value. */
function pprofWith(line: number, values: number[]): PprofProfile {
  return pprofProfile({
    sampleTypes: [{ type: 'samples', unit: 'count' }],
    samples: values.map((v) => pprofSample([1], [v])),
    locations: [lineLocation(1, 1, line)],
    functions: [goFunction(1, 'main.f', '/src/main.go', 3)],
    durationNanos: 1e9,
    period: 1,
  });
}

describe('CLI messages that tell the truth [root, perf, go]', function () {
  this.timeout(180_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-msg16-'));
  let hotBin: string;
  let hotData: string;
  before(function () {
    if (!havePerfAndRoot()) throw new Error('these tests need root and perf (run scripts/setup.sh, as root)');
    ensureCli();
    hotBin = buildGoFixture('hotline', newestGo());
    hotData = path.join(tmp, 'hot.data');
    perfRecordCommand([hotBin, '0.5'], hotData);
  });
  after(() => {
    stopAllTargets();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('record --pid 1 as root never says "run the helper as root"', () => {
    const r = runCli(['record', '--pid', '1', '--duration', '1', '-o', path.join(tmp, 'init.json')]);
    assert.equal(r.status, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /run the helper as root|internal error/);
    // Here PID 1 is either unreadable even to root (said so), or readable and not a Go program.
    assert.match(r.stderr, /refuses even root access to the executable of PID 1|not a Go program/);
  });

  it('--freq has one limit, checked before recording', () => {
    for (const f of ['100000', '20001', '0']) {
      const r = runCli(['record', '--pid', String(process.pid), '--freq', f, '--duration', '1', '-o', path.join(tmp, 'f.json')]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /--freq must be a whole number from 1 to 20000/);
      assert.doesNotMatch(r.stderr, /recording pid/);
    }
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../../package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { maximum?: number }> } };
    };
    assert.equal(pkg.contributes.configuration.properties['goPerfLens.frequencyHz']?.maximum, 20000, 'the setting has the same limit');
  });

  it('--freq 1 on a busy process: never "used no CPU"; no samples is put down to the rate', () => {
    const target = track(spawn(hotBin, ['30'], { stdio: 'ignore' }));
    const out = path.join(tmp, 'slow.json');
    const r = runCli(['record', '--pid', String(target.pid), '--freq', '1', '--duration', '2', '-o', out]);
    target.kill();
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /used no CPU/);
    const samples = Number(/recorded (\d+) samples/.exec(r.stderr)?.[1]);
    if (samples === 0)
      assert.match(r.stderr, /no samples: at 1 Hz for \d\.\d s a fully busy CPU gives only about \d sample\(s\).*raise the sampling rate/);
  });

  it('a damaged --binary is named in the message', () => {
    const cut = path.join(tmp, 'cut-binary');
    fs.writeFileSync(cut, fs.readFileSync(hotBin).subarray(0, 3000));
    for (const sub of [
      ['report', hotData, '--binary', cut],
      ['pprof', hotData, '--binary', cut, '-o', path.join(tmp, 'x.pb.gz')],
    ]) {
      const r = runCli(sub);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^go-perf-lens: cannot read binary ${cut}: `));
      assert.doesNotMatch(r.stderr, /cannot read the input/);
    }
  });

  it('--binary that none of the samples fall in: refused naming both files, never "N samples, 0 functions" and exit 0', () => {
    // A recording of another program (sha256sum), with and without perf's build ids.
    const input = path.join(tmp, 'hash-input');
    fs.writeFileSync(input, Buffer.alloc(32 << 20, 7));
    for (const ids of [[], ['--no-buildid']]) {
      const data = path.join(tmp, `sha${ids.length}.data`);
      execFileSync('perf', ['record', '-q', ...ids, '-g', '-F', '999', '-e', 'cpu-clock', '-o', data, '--', 'sha256sum', input], {
        stdio: 'ignore',
      });
      const r = runCli(['report', data, '--binary', hotBin]);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /^go-perf-lens: the recording is of another (binary|build) than /);
      assert.ok(r.stderr.includes(hotBin) && r.stderr.includes('sha256sum'), r.stderr);
      assert.doesNotMatch(r.stdout, /0 functions/);
    }
  });

  it('pprof: negative line numbers and values past 2^53 are said, not shown as they are', () => {
    const p = ingestPprof(pprofWith(-7, [3, -2]));
    assert.ok(
      p.lines.every((l) => l.line1 >= 0),
      JSON.stringify(p.lines),
    );
    assert.ok(
      p.warnings?.some((w) => /1 frame\(s\) have a negative line number/.test(w)),
      String(p.warnings),
    );
    assert.ok(
      p.warnings?.some((w) => /1 sample value\(s\) are negative \(a damaged profile\?\): they are left out/.test(w)),
      String(p.warnings),
    );
    assert.equal(p.totalSamples, 3);
    const big = path.join(tmp, 'big.pb.gz');
    fs.writeFileSync(big, zlib.gzipSync(encodePprof(pprofWith(5, [2 ** 60, 2 ** 60]))));
    const r = runCli(['report', big, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /exceed 2\^53, the largest whole number counted exactly here: the counts shown are approximate/);
  });
});
