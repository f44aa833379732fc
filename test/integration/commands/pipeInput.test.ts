/**
 * report and pprof read standard input and pipes (`-`, /dev/stdin): perf's pipe-mode perf.data
 * straight from `perf record -o -`, and pprof profiles. Counts are checked against perf script.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, ensureCli } from '../../support/cliRunner';
import { buildGoFixture, newestGo } from '../../support/goToolchains';
import { havePerfAndRoot } from '../../support/profileTargets';

interface Report {
  samples: number;
  functions: { name: string; self: number }[];
}

function cliWithInput(args: string[], input: Buffer | string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('node', [CLI, ...args], { input, maxBuffer: 1 << 28, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe('CLI reads pipes and standard input [root, perf, go]', function () {
  this.timeout(180_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-pipe16-'));
  let hotBin: string;
  let pipeData: string;
  before(function () {
    if (!havePerfAndRoot()) throw new Error('these tests need root and perf (run scripts/setup.sh, as root)');
    ensureCli();
    hotBin = buildGoFixture('hotline', newestGo());
    pipeData = path.join(tmp, 'pipe.data');
    // perf's pipe mode, as `perf record -o - … |` writes it.
    execFileSync('bash', ['-c', `perf record -q -o - -F 999 -g -- "$0" 1 > "$1"`, hotBin, pipeData], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('report - reads a pipe-mode perf.data from stdin: the sample count perf script gives', () => {
    assert.equal(fs.readFileSync(pipeData).readUInt32LE(8), 16, 'a pipe-mode header (16 bytes)');
    const r = cliWithInput(['report', '-', '--binary', hotBin, '--json'], fs.readFileSync(pipeData));
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Report;
    const script = execFileSync('perf', ['script', '-i', pipeData, '-F', 'pid'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 1 << 28,
    });
    const perfSamples = script.split('\n').filter((l) => /^\s*\d+\s*$/.test(l)).length;
    assert.equal(j.samples, perfSamples);
    assert.equal([...j.functions].sort((a, b) => b.self - a.self)[0]?.name, 'main.spin');
    // The same bytes as a file give the same report.
    const f = cliWithInput(['report', pipeData, '--binary', hotBin, '--json'], '');
    assert.equal(f.status, 0, f.stderr);
    assert.deepEqual(JSON.parse(f.stdout), j);
  });

  it('perf record -o - | go-perf-lens report /dev/stdin, live', () => {
    const r = spawnSync(
      'bash',
      [
        '-c',
        `set -o pipefail; perf record -q -o - -F 999 -g -- "$0" 1 2>/dev/null | node "$1" report /dev/stdin --binary "$0" --json`,
        hotBin,
        CLI,
      ],
      { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Report;
    assert.ok(j.samples > 100, `${j.samples} samples`);
    assert.doesNotMatch(r.stderr, /ESPIPE|internal error/);
  });

  it('a pprof from stdin gives the report of the same file; pprof - -o writes it', () => {
    const pb = path.join(tmp, 'hot.pb.gz');
    const w = cliWithInput(['pprof', '-', '--binary', hotBin, '-o', pb], fs.readFileSync(pipeData));
    assert.equal(w.status, 0, w.stderr);
    const fromFile = cliWithInput(['report', pb, '--json'], '');
    const fromStdin = cliWithInput(['report', '-', '--json'], fs.readFileSync(pb));
    assert.equal(fromStdin.status, 0, fromStdin.stderr);
    assert.deepEqual(JSON.parse(fromStdin.stdout), JSON.parse(fromFile.stdout));
    // go tool pprof agrees that it is a profile.
    const tc = newestGo();
    const top = execFileSync(tc.goBin, ['tool', 'pprof', '-top', pb], {
      encoding: 'utf8',
      env: { ...process.env, GOROOT: tc.goroot },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.match(top, /main\.spin/);
  });

  it('an empty stdin: a clear error', () => {
    const r = cliWithInput(['report', '-'], '');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^go-perf-lens: standard input is not a perf\.data, a pprof profile or a go-perf-lens session/);
  });
});
