/**
 * Profiles one Go benchmark or test: `go test -c` builds the package's test binary, which runs
 * just the matching benchmarks (or tests) under the user's own `perf record` (no helper, no
 * root where kernel.perf_event_paranoid ≤ 2); the recording and the benchmark's own figures
 * come back as the model. No vscode import: the CLI's `bench` and the editor's code lens share it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { planOwnProcessPerf, recordCommand } from '../capture/ownProcessPerf';
import { type BenchmarkResult, parseGoTestOutput } from '../formats/goBenchOutput';
import type { Profile } from '../model/profile';
import { UserError } from '../util/userError';
import { readProfileInWorker } from './ingestWorker';

export interface GoTestRequest {
  /** The package's folder (where its _test.go files are). */
  pkgDir: string;
  kind: 'bench' | 'test';
  /** A Go regular expression, as -bench / -run take it. */
  pattern: string;
  /** -benchtime, e.g. "2s" or "1000x" (benchmarks only; default Go's 1s). */
  benchtime?: string;
  /** The `go` command (default: `go` on PATH). */
  go?: string;
  freqHz?: number;
  env?: NodeJS.ProcessEnv;
}

export interface GoTestProfile {
  profile: Profile;
  benchmarks: BenchmarkResult[];
  /** What the test binary printed. */
  output: string;
  /** Milliseconds spent building, running under perf, reading the recording. */
  timings: { buildMs: number; runMs: number; ingestMs: number };
}

export type GoTestPhase = 'building' | 'running' | 'reading';

export interface GoTestOptions {
  signal?: AbortSignal;
  onPhase?: (phase: GoTestPhase) => void;
}

/** Runs a Go tool or the test binary to its end; `spawnError` when it could not start (ENOENT: not installed). */
async function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv | undefined,
  signal: AbortSignal | undefined,
): Promise<{ code: number | null; stdout: string; stderr: string; spawnError?: { code?: string; message: string } }> {
  const r = await execa(cmd, args, {
    cwd,
    env: env ?? process.env,
    extendEnv: false,
    stdin: 'ignore',
    maxBuffer: 64 << 20,
    stripFinalNewline: false,
    reject: false,
    cancelSignal: signal,
  });
  if (r.exitCode === undefined && r.signal === undefined && !r.isCanceled)
    return {
      code: null,
      stdout: r.stdout,
      stderr: r.stderr,
      spawnError: { code: r.code, message: r.originalMessage ?? r.shortMessage ?? 'could not start' },
    };
  return { code: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
}

const tail = (s: string, lines: number): string => s.trim().split('\n').slice(-lines).join('\n');

/** Builds, runs and records; every failure is a UserError that says what to do. */
export async function profileGoTest(req: GoTestRequest, opts: GoTestOptions = {}): Promise<GoTestProfile> {
  const pkg = path.resolve(req.pkgDir);
  if (!fs.existsSync(pkg) || !fs.statSync(pkg).isDirectory())
    throw new UserError(`${pkg} is not a folder`, "pass the Go package's folder", 'bad-argument');
  const noun = req.kind === 'bench' ? 'benchmark' : 'test';
  const plan = await planOwnProcessPerf();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-gotest-'));
  try {
    opts.onPhase?.('building');
    const t0 = Date.now();
    const bin = path.join(tmp, `${path.basename(pkg)}.test`);
    const go = req.go ?? 'go';
    const built = await run(go, ['test', '-c', '-o', bin, '.'], pkg, req.env, opts.signal);
    if (opts.signal?.aborted) throw new UserError('cancelled', undefined, 'cancelled');
    if (built.spawnError) {
      throw new UserError(
        built.spawnError.code === 'ENOENT'
          ? `the Go command "${go}" is not installed or not on PATH`
          : `cannot run ${go}: ${built.spawnError.message}`,
        'install Go (https://go.dev/dl) or put it on PATH',
        'go-missing',
      );
    }
    if (built.code !== 0) {
      throw new UserError(
        `the tests of ${pkg} do not build:\n${tail(built.stderr || built.stdout, 15)}`,
        'fix the build errors (go vet ./... shows them too), then profile again',
        'go-build-failed',
      );
    }
    if (!fs.existsSync(bin))
      throw new UserError(
        `${pkg} has no test files (${tail(built.stdout + built.stderr, 1) || 'go test -c wrote no binary'})`,
        `add a _test.go file with a func ${req.kind === 'bench' ? 'BenchmarkX(b *testing.B)' : 'TestX(t *testing.T)'}`,
        'no-test-files',
      );
    const buildMs = Date.now() - t0;

    // Which names match, from the binary itself (-test.list), so "matches nothing" is said before any run.
    const listed = await run(bin, ['-test.list', req.pattern], pkg, req.env, opts.signal);
    if (listed.code !== 0)
      throw new UserError(
        `"${req.pattern}" is not a valid Go regular expression: ${tail(listed.stderr || listed.stdout, 2)}`,
        'use the syntax of go test -bench / -run',
        'bad-argument',
      );
    const prefix = req.kind === 'bench' ? 'Benchmark' : 'Test';
    const matching = listed.stdout.split('\n').filter((n) => n.startsWith(prefix));
    if (matching.length === 0) {
      const all = await run(bin, ['-test.list', '.'], pkg, req.env, opts.signal);
      const names = all.stdout.split('\n').filter((n) => n.startsWith(prefix));
      throw new UserError(
        `no ${noun} in ${pkg} matches "${req.pattern}"`,
        names.length ? `its ${noun}s: ${names.join(', ')}` : `the package has no ${noun}s`,
        'no-match',
      );
    }

    opts.onPhase?.('running');
    const t1 = Date.now();
    const perfData = path.join(tmp, 'perf.data');
    const testArgs =
      req.kind === 'bench'
        ? ['-test.run', '^$', '-test.bench', req.pattern, '-test.benchmem', ...(req.benchtime ? ['-test.benchtime', req.benchtime] : [])]
        : ['-test.run', req.pattern, '-test.count', '1'];
    const rec = await recordCommand(plan, [bin, ...testArgs], perfData, {
      cwd: pkg,
      ...(req.freqHz ? { freqHz: req.freqHz } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(req.env ? { env: req.env } : {}),
    });
    const runMs = Date.now() - t1;
    const parsed = parseGoTestOutput(rec.stdout);
    if (rec.exitCode !== 0 || parsed.sawFail) {
      const which = parsed.failed.length ? parsed.failed.join(', ') : `the ${noun} run`;
      throw new UserError(
        `${which} failed (exit ${rec.exitCode ?? rec.signal}):\n${tail(rec.stdout + rec.stderr, 12)}`,
        `fix the failing ${noun}, then profile again`,
        'go-test-failed',
      );
    }
    if (req.kind === 'bench' && parsed.benchmarks.length === 0) {
      throw new UserError(`no benchmark ran for "${req.pattern}" in ${pkg}`, tail(rec.stdout, 5) || 'check the pattern', 'no-match');
    }
    if (!fs.existsSync(perfData)) throw new UserError(`perf wrote no recording: ${tail(rec.stderr, 3)}`, undefined, 'perf-failed');

    opts.onPhase?.('reading');
    const t2 = Date.now();
    // On a worker thread, like every recording the extension reads (the test binary is where perf saw it).
    const { profile } = await readProfileInWorker(perfData, () => Promise.resolve(bin));
    if (plan.fallbackReason && !profile.event.fallbackReason) profile.event.fallbackReason = plan.fallbackReason;
    return { profile, benchmarks: parsed.benchmarks, output: rec.stdout, timings: { buildMs, runMs, ingestMs: Date.now() - t2 } };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
