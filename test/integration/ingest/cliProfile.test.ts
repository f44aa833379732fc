/**
 * The profile commands of the CLI (dist/cli.js), as a user runs them: report (--json contract,
 * text), pprof, record (through the helper, as root), and their answers to bad input.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parsePerfData } from '../../../src/formats/perfData';
import { decodePprof } from '../../../src/formats/pprof';
import { ingestPerfData } from '../../../src/ingest/fromPerfData';
import { loadBinary } from '../../../src/ingest/loadBinary';
import { loadSession } from '../../../src/model/session';
import { UserError } from '../../../src/util/userError';
import { FormatError } from '../../../src/util/byteReader';
import { buildGoFixture, newestGo, REPO_ROOT } from '../../support/goToolchains';
import {
  buildGoPackage,
  havePerfAndRoot,
  perfRecordCommand,
  startLoad,
  startService,
  stopAllTargets,
  track,
} from '../../support/profileTargets';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('node', [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI record/report/pprof [root, perf, go]', function () {
  this.timeout(300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-cli-'));
  let hotBin: string;
  let hotData: string;
  let svcBin: string;
  before(function () {
    if (!havePerfAndRoot()) throw new Error('these tests need root and perf (run scripts/setup.sh, as root)');
    execFileSync('node', ['scripts/build.mjs'], { cwd: REPO_ROOT, stdio: 'ignore' });
    const tc = newestGo();
    hotBin = buildGoFixture('hotline', tc);
    svcBin = buildGoFixture('exampleservice', tc);
    hotData = path.join(tmp, 'hot.data');
    perfRecordCommand([hotBin, '1.5'], hotData);
  });
  after(() => {
    stopAllTargets();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('report --json prints exactly the contract, sorted by self, counts in samples', () => {
    const r = cli(['report', hotData, '--binary', hotBin, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(j), ['event', 'samples', 'lost', 'functions', 'lines']);
    assert.equal(j.event, 'cpu-clock');
    const fns = j.functions as Record<string, unknown>[];
    const lines = j.lines as Record<string, unknown>[];
    for (const f of fns) assert.deepEqual(Object.keys(f), ['name', 'file', 'line', 'self', 'cum']);
    for (const l of lines) assert.deepEqual(Object.keys(l), ['file', 'line', 'self', 'cum']);
    const selfs = fns.map((f) => f.self as number);
    assert.deepEqual(
      selfs,
      selfs.slice().sort((a, b) => b - a),
    );
    const lselfs = lines.map((l) => l.self as number);
    assert.deepEqual(
      lselfs,
      lselfs.slice().sort((a, b) => b - a),
    );
    // Independent count: perf script's number of samples.
    const perfSamples = execFileSync('perf', ['script', '-i', hotData, '-F', 'pid'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split('\n')
      .filter((l) => l.trim()).length;
    assert.equal(j.samples, perfSamples);
    assert.equal(fns[0]!.name, 'main.spin');
    assert.ok(fns.every((f) => (f.cum as number) >= (f.self as number)));
  });

  it('report -o saves the model as a session that report reads back to the same figures', () => {
    const session = path.join(tmp, 'from-report.json');
    const r = cli(['report', hotData, '--binary', hotBin, '--json', '-o', session]);
    assert.equal(r.code, 0, r.stderr);
    const again = cli(['report', session, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), JSON.parse(r.stdout));
  });

  it('report finds the binary from the perf.data when it exists here, and --top limits', () => {
    const r = cli(['report', hotData, '--json', '--top', '3']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { functions: unknown[]; lines: unknown[] };
    assert.equal(j.functions.length, 3);
    assert.equal(j.lines.length, 3);
  });

  it("report prints the top functions and the hottest function's source lines", () => {
    const r = cli(['report', hotData, '--binary', hotBin]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /event:\s+cpu-clock/);
    assert.match(r.stdout, /ROUTINE =+ main\.spin/);
    const hot = r.stdout.split('\n').find((l) => l.includes('// HOT'));
    assert.ok(hot && /^\s+\d+\s+\d+\s+\d+:/.test(hot), `the HOT line is listed with its counts: ${hot}`);
  });

  it('pprof writes a gzipped profile.proto that go tool pprof reads', () => {
    const out = path.join(tmp, 'hot.pb.gz');
    const r = cli(['pprof', hotData, '--binary', hotBin, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const p = decodePprof(fs.readFileSync(out));
    assert.deepEqual(p.sampleTypes, [
      { type: 'samples', unit: 'count' },
      { type: 'cpu', unit: 'nanoseconds' },
    ]);
    assert.deepEqual(p.periodType, { type: 'cpu', unit: 'nanoseconds' });
    const tc = newestGo();
    const top = execFileSync(tc.goBin, ['tool', 'pprof', '-top', '-nodecount=3', out], {
      encoding: 'utf8',
      env: { ...process.env, GOROOT: tc.goroot },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.match(top, /main\.spin/);
    // The session, pprof and perf.data of one recording report the same.
    const fromPerf = JSON.parse(cli(['report', hotData, '--binary', hotBin, '--json']).stdout) as { functions: unknown[]; samples: number };
    const fromPprof = JSON.parse(cli(['report', out, '--json']).stdout) as { functions: unknown[]; samples: number };
    assert.equal(fromPprof.samples, fromPerf.samples);
    assert.deepEqual(fromPprof.functions, fromPerf.functions);
  });

  it('a perf.data of another binary: a clear error naming both build ids', () => {
    const r = cli(['report', hotData, '--binary', svcBin]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /another binary/);
    const ours = loadBinary(hotBin).info.buildId!;
    const theirs = loadBinary(svcBin).info.buildId!;
    assert.ok(r.stderr.includes(ours) && r.stderr.includes(theirs), r.stderr);
    assert.doesNotMatch(r.stderr, /internal error| {4}at /);
    assert.throws(
      () => ingestPerfData(parsePerfData(fs.readFileSync(hotData)), loadBinary(svcBin)),
      (e: unknown) => e instanceof UserError && e.code === 'binary-mismatch',
    );
  });

  it('a perf.data cut short: what is whole is used and the loss is reported, or a clear error', () => {
    const bytes = fs.readFileSync(hotData);
    const full = ingestPerfData(parsePerfData(bytes), loadBinary(hotBin));
    let withWarning = 0;
    for (const frac of [0.05, 0.2, 0.37, 0.5, 0.73, 0.9, 0.99]) {
      const cut = bytes.subarray(0, Math.floor(bytes.length * frac));
      const f = path.join(tmp, `cut-${frac}.data`);
      fs.writeFileSync(f, cut);
      let p;
      try {
        p = ingestPerfData(parsePerfData(cut), loadBinary(hotBin));
      } catch (e) {
        assert.ok(e instanceof FormatError || e instanceof UserError, `cut at ${frac}: ${(e as Error).stack}`);
        continue;
      }
      assert.ok(p.totalSamples <= full.totalSamples);
      if (p.totalSamples < full.totalSamples) {
        assert.ok(
          p.warnings?.some((w) => /cut short/.test(w)),
          `cut at ${frac}: no warning (${p.warnings})`,
        );
        withWarning++;
      }
      const r = cli(['report', f, '--binary', hotBin]);
      assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /internal error/);
    }
    assert.ok(withWarning > 0, 'some cut kept its whole samples');
  });

  it('report of a file that is no profile, or missing: a clear error', () => {
    const junk = path.join(tmp, 'junk.bin');
    fs.writeFileSync(junk, 'hello, this is not a profile\n');
    for (const f of [junk, path.join(tmp, 'missing.data')]) {
      const r = cli(['report', f]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^go-perf-lens: /);
      assert.doesNotMatch(r.stderr, /internal error/);
    }
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ format: 'go-perf-lens-session', version: 99, profile: {} }));
    const r = cli(['report', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /version 99 is not supported/);
  });

  describe('record (through the helper)', () => {
    it('records the example service under load with --sampler perf into a session that report reads', async () => {
      const tc = newestGo();
      const loadBin = buildGoPackage('exampleservice', './cmd/load', tc);
      const svc = await startService(svcBin);
      const load = startLoad(loadBin, svc.url, 120);
      const out = path.join(tmp, 'rec.json');
      const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
        const p = track(
          spawn('node', [CLI, 'record', '--pid', String(svc.pid), '--duration', '3', '--sampler', 'perf', '-o', out], {
            stdio: ['ignore', 'ignore', 'pipe'],
          }),
        );
        let stderr = '';
        p.stderr!.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        p.on('exit', (code) => resolve({ code: code ?? -1, stderr }));
      });
      load.proc.kill('SIGTERM');
      await load.done;
      await svc.stop();
      assert.equal(r.code, 0, r.stderr);
      const s = loadSession(out);
      assert.equal(s.profile.source, 'perf');
      assert.equal(s.profile.target?.pid, svc.pid);
      assert.ok(s.profile.totalSamples > 50, `${s.profile.totalSamples} samples`);
      assert.ok(['cpu-clock', 'cycles:u'].includes(s.profile.event.name));
      if (s.profile.event.name === 'cpu-clock') {
        assert.equal(s.profile.event.unit, 'nanoseconds');
        assert.ok(s.profile.event.fallbackReason, 'auto fell back to cpu-clock and says why');
      }
      assert.ok(s.profile.functions.some((f) => f.name.startsWith('main.') && f.cumSamples > 0));
      const rep = cli(['report', out, '--json']);
      assert.equal(rep.code, 0, rep.stderr);
      assert.equal((JSON.parse(rep.stdout) as { samples: number }).samples, s.profile.totalSamples);
    });

    it('a non-Go PID: a clear error', () => {
      const sleeper = track(spawn('sleep', ['60'], { stdio: 'ignore' }));
      const r = cli(['record', '--pid', String(sleeper.pid), '--duration', '1', '-o', path.join(tmp, 'x.json')]);
      sleeper.kill();
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /not a Go program/);
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.ok(!fs.existsSync(path.join(tmp, 'x.json')));
    });

    it('a PID that exits mid-recording: a session with a warning, or a clear error', () => {
      const p = track(spawn(hotBin, ['4'], { stdio: 'ignore' }));
      const out = path.join(tmp, 'exit.json');
      const r = cli(['record', '--pid', String(p.pid), '--duration', '30', '-o', out]);
      assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /internal error/);
      if (r.code === 0) {
        const s = loadSession(out);
        assert.ok(
          s.profile.warnings?.some((w) => /exit/.test(w)),
          `warnings: ${s.profile.warnings}`,
        );
        assert.ok(s.profile.durationNanos < 30e9);
      } else {
        assert.match(r.stderr, /exit/);
      }
    });
  });
});
