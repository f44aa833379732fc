/**
 * The text a Go test binary prints for benchmarks (`BenchmarkX-8  1234  567 ns/op  89 B/op  2 allocs/op`)
 * and for failures (`--- FAIL: TestX`), read into figures. Pure: no processes, no files.
 */

export interface BenchmarkResult {
  /** As Go prints it, without the -GOMAXPROCS suffix: "BenchmarkChecksum", "BenchmarkX/sub". */
  name: string;
  iterations: number;
  nsPerOp: number;
  /** With -benchmem or b.ReportAllocs(); absent otherwise. */
  bytesPerOp?: number;
  allocsPerOp?: number;
}

export interface GoTestOutput {
  benchmarks: BenchmarkResult[];
  /** Names of tests and benchmarks that printed `--- FAIL: NAME`. */
  failed: string[];
  /** The line `FAIL` or `--- FAIL` appeared (a panic prints neither, but the exit code says it). */
  sawFail: boolean;
}

const BENCH_LINE = /^(Benchmark\S*?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns\/op(.*)$/;

export function parseGoTestOutput(text: string): GoTestOutput {
  const out: GoTestOutput = { benchmarks: [], failed: [], sawFail: false };
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const b = BENCH_LINE.exec(line);
    if (b) {
      const r: BenchmarkResult = { name: b[1]!, iterations: Number(b[2]), nsPerOp: Number(b[3]) };
      const bytes = /([\d.]+) B\/op/.exec(b[4]!);
      const allocs = /([\d.]+) allocs\/op/.exec(b[4]!);
      if (bytes) r.bytesPerOp = Number(bytes[1]);
      if (allocs) r.allocsPerOp = Number(allocs[1]);
      out.benchmarks.push(r);
      continue;
    }
    const f = /^\s*--- FAIL: (\S+)/.exec(line);
    if (f) {
      out.failed.push(f[1]!);
      out.sawFail = true;
      continue;
    }
    if (line === 'FAIL' || line.startsWith('FAIL\t')) out.sawFail = true;
  }
  return out;
}

/** "25425 ns/op, 0 B/op, 0 allocs/op" (the figures present). */
export function benchmarkFigures(r: BenchmarkResult): string {
  const parts = [`${r.nsPerOp} ns/op`];
  if (r.bytesPerOp !== undefined) parts.push(`${r.bytesPerOp} B/op`);
  if (r.allocsPerOp !== undefined) parts.push(`${r.allocsPerOp} allocs/op`);
  return parts.join(', ');
}

const change = (before: number, after: number, unit: string): string => {
  const pct = before > 0 ? ` (${after >= before ? '+' : ''}${((100 * (after - before)) / before).toFixed(1)}%)` : '';
  return `${before} → ${after} ${unit}${pct}`;
};

/** Before and after of each benchmark the two runs share. */
export function compareBenchmarks(before: readonly BenchmarkResult[], after: readonly BenchmarkResult[]): string {
  const parts: string[] = [];
  for (const a of after) {
    const b = before.find((x) => x.name === a.name);
    if (!b) continue;
    const figs = [change(b.nsPerOp, a.nsPerOp, 'ns/op')];
    if (b.bytesPerOp !== undefined && a.bytesPerOp !== undefined) figs.push(change(b.bytesPerOp, a.bytesPerOp, 'B/op'));
    if (b.allocsPerOp !== undefined && a.allocsPerOp !== undefined) figs.push(change(b.allocsPerOp, a.allocsPerOp, 'allocs/op'));
    parts.push(`${a.name}: ${figs.join(', ')}`);
  }
  return parts.join('; ');
}
