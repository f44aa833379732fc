/**
 * `go-perf-lens bench` on a real Go package (test/fixtures/go/benchpkg, copied per test): the test
 * binary built by `go test -c`, the benchmarks run under real perf, the figures Go printed and the
 * heat on the package's source; its build error, failing test and unmatched pattern; and the same
 * as an unprivileged user (perf_event_paranoid ≤ 2: no helper, no root).
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadSession } from '../../../src/model/session';
import { CLI, ensureCli } from '../../support/cliRunner';
import { FIXTURE_CACHE, GO_FIXTURES, goEnv, newestGo } from '../../support/goToolchains';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv, uid?: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'node',
      [CLI, ...args],
      { env, maxBuffer: 1 << 28, timeout: 240_000, ...(uid !== undefined ? { uid, gid: uid } : {}) },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

interface BenchOut {
  event: string;
  samples: number;
  functions: { name: string; file: string; self: number; cum: number }[];
  lines: { file: string; line: number; self: number }[];
  benchmarks: { name: string; ns_per_op: number; bytes_per_op: number | null; allocs_per_op: number | null }[];
}

describe('go-perf-lens bench [perf, go]', function () {
  this.timeout(400_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-bench-'));
  const env = goEnv(newestGo(), FIXTURE_CACHE);
  const pkgCopy = (name: string): string => {
    const dir = path.join(tmp, name);
    fs.cpSync(path.join(GO_FIXTURES, 'benchpkg'), dir, { recursive: true });
    return dir;
  };
  before(() => ensureCli());
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('runs the matching benchmarks under perf: Go’s own ns/op, B/op, allocs/op and heat on the hot function', async () => {
    const pkg = pkgCopy('ok');
    const session = path.join(tmp, 'bench.json');
    const r = await cli(['bench', '--pkg', pkg, '--bench', '.', '--benchtime', '0.5s', '--json', '-o', session], env);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as BenchOut;
    assert.deepEqual(
      out.benchmarks.map((b) => b.name),
      ['BenchmarkChecksum', 'BenchmarkSortedCopy'],
    );
    for (const b of out.benchmarks) assert.ok(b.ns_per_op > 0 && b.bytes_per_op !== null && b.allocs_per_op !== null, JSON.stringify(b));
    // SortedCopy allocates its copy once: 1000 ints.
    const sorted = out.benchmarks[1]!;
    assert.equal(sorted.allocs_per_op, 1);
    assert.ok(sorted.bytes_per_op! >= 8000, JSON.stringify(sorted));
    assert.equal(out.benchmarks[0]!.allocs_per_op, 0);
    assert.ok(out.samples > 50, `${out.samples} samples`);
    const workGo = path.join(pkg, 'work.go');
    const checksum = out.functions.find((f) => f.name === 'example.com/benchpkg.Checksum');
    assert.ok(checksum && checksum.file === workGo && checksum.cum > 0, JSON.stringify(out.functions.slice(0, 5)));
    // The inner loop's lines (h ^= …, h *= …) hold Checksum's samples.
    const loopLines = out.lines.filter((l) => l.file === workGo && l.line >= 12 && l.line <= 17);
    assert.ok(loopLines.reduce((s, l) => s + l.self, 0) > 0, JSON.stringify(out.lines.filter((l) => l.file === workGo)));
    assert.equal(loadSession(session).profile.totalSamples, out.samples);
  });

  it('a build error, a pattern that matches nothing and a failing test each end in a clear message', async () => {
    const broken = pkgCopy('broken');
    fs.appendFileSync(path.join(broken, 'work.go'), '\nfunc broken() int { return "not an int" }\n');
    const b = await cli(['bench', '--pkg', broken, '--bench', '.'], env);
    assert.equal(b.code, 1);
    assert.match(b.stderr, /go-perf-lens: the tests of .*broken do not build:\n[\s\S]*work\.go:\d+:\d+: cannot use "not an int"/);
    const none = await cli(['bench', '--pkg', pkgCopy('none'), '--bench', 'Nope'], env);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no benchmark in .* matches "Nope"\n {2}its benchmarks: BenchmarkChecksum, BenchmarkSortedCopy/);
    const failing = pkgCopy('failing');
    fs.appendFileSync(path.join(failing, 'work_test.go'), '\nfunc BenchmarkFails(b *testing.B) { b.Fatal("fails on purpose") }\n');
    const f = await cli(['bench', '--pkg', failing, '--bench', 'Fails'], env);
    assert.equal(f.code, 1);
    assert.match(f.stderr, /BenchmarkFails failed \(exit 1\):[\s\S]*fails on purpose/);
    for (const x of [b, none, f]) assert.doesNotMatch(x.stderr, /internal error|\n\s+at /);
  });

  it('works as an unprivileged user where perf_event_paranoid ≤ 2 [root]', async function () {
    assert.equal(process.getuid?.(), 0, 'this test runs as root (to switch to nobody)');
    const paranoid = Number(fs.readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8'));
    assert.ok(paranoid <= 2, `perf_event_paranoid is ${paranoid} here: this test needs ≤ 2`);
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-bench-nobody-'));
    try {
      fs.cpSync(path.join(GO_FIXTURES, 'benchpkg'), path.join(home, 'pkg'), { recursive: true });
      execFileSyncChown(home, 65534);
      // nobody's own Go build cache, kept between runs (a cold one compiles the standard library: ~2 min here).
      const cache = path.join(FIXTURE_CACHE, 'gocache-nobody');
      fs.mkdirSync(cache, { recursive: true });
      execFileSyncChown(cache, 65534);
      const userEnv = { ...env, HOME: home, GOCACHE: cache, GOPATH: path.join(home, 'gopath'), TMPDIR: home };
      const r = await cli(
        ['bench', '--pkg', path.join(home, 'pkg'), '--bench', 'Checksum', '--benchtime', '0.3s', '--json'],
        userEnv,
        65534,
      );
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as BenchOut;
      assert.deepEqual(
        out.benchmarks.map((b) => b.name),
        ['BenchmarkChecksum'],
      );
      assert.ok(out.functions.some((f) => f.name === 'example.com/benchpkg.Checksum' && f.cum > 0));
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

function execFileSyncChown(dir: string, uid: number): void {
  fs.chownSync(dir, uid, uid);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) execFileSyncChown(p, uid);
    else fs.chownSync(p, uid, uid);
  }
}
