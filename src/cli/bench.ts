/**
 * `go-perf-lens bench --pkg DIR --bench REGEX [--benchtime 2s] [--json] [-o session.json]`:
 * builds the package's test binary, runs the matching benchmarks under a CPU recording (the
 * user's own perf; no helper) and prints the report with the benchmarks' own figures. --json is
 * `report --json`'s object plus "benchmarks":[{"name","ns_per_op","bytes_per_op","allocs_per_op"}]
 * (null where Go printed no such figure).
 */
import { profileGoTest } from '../commands/profileGoTest';
import { benchmarkFigures, type BenchmarkResult } from '../formats/goBenchOutput';
import { makeSession, serializeSession } from '../model/session';
import { UserError } from '../util/userError';
import { checkOutputPath, writeOutputFile } from './outputFile';
import { parseArgs } from './parseArgs';
import { reportJson, reportText } from './report';

const USAGE = 'usage: go-perf-lens bench --pkg DIR --bench REGEX [--benchtime 2s] [--json] [-o session.json]';

export interface BenchJson {
  name: string;
  ns_per_op: number;
  bytes_per_op: number | null;
  allocs_per_op: number | null;
}

export function benchJson(b: BenchmarkResult): BenchJson {
  return { name: b.name, ns_per_op: b.nsPerOp, bytes_per_op: b.bytesPerOp ?? null, allocs_per_op: b.allocsPerOp ?? null };
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const args = parseArgs(argv, { values: ['pkg', 'bench', 'benchtime', 'output'], flags: ['json'], aliases: { '-o': 'output' } }, USAGE);
  if (args.positionals.length) throw new UserError(`unexpected argument "${args.positionals[0]}"`, USAGE, 'usage');
  const pkgDir = args.values.get('pkg');
  const pattern = args.values.get('bench');
  if (!pkgDir || !pattern) throw new UserError(`bench needs ${pkgDir ? '--bench REGEX' : '--pkg DIR'}`, USAGE, 'usage');
  const benchtime = args.values.get('benchtime');
  if (benchtime !== undefined && !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h)|\d+x)$/.test(benchtime))
    throw new UserError(`--benchtime must be a duration such as 2s or a count such as 100x (got "${benchtime}")`, USAGE, 'usage');
  const out = args.values.get('output');
  if (out !== undefined) checkOutputPath(out, 'session.json');
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const r = await profileGoTest(
      { pkgDir, kind: 'bench', pattern, ...(benchtime ? { benchtime } : {}) },
      {
        signal: abort.signal,
        onPhase: (p) =>
          process.stderr.write(
            `${p === 'building' ? 'building the test binary (go test -c)' : p === 'running' ? `running benchmarks matching ${pattern} under perf` : 'reading the recording'}…\n`,
          ),
      },
    );
    if (out !== undefined) writeOutputFile(out, serializeSession(makeSession(r.profile, `go-perf-lens bench --bench ${pattern}`)));
    if (args.flags.has('json')) {
      process.stdout.write(`${JSON.stringify({ ...reportJson(r.profile), benchmarks: r.benchmarks.map(benchJson) })}\n`);
    } else {
      const lines = r.benchmarks.map((b) => `${b.name.padEnd(30)} ${String(b.iterations).padStart(10)}  ${benchmarkFigures(b)}`);
      process.stdout.write(`benchmarks:\n${lines.join('\n')}\n\n${reportText(r.profile)}`);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
