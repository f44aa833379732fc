/**
 * `go-perf-lens trace --pid PID --func NAME [--func NAME ...] --duration S [--json]`: per-call
 * latency of Go functions (eBPF entry + RET uprobes, paired by goroutine). Prints a line
 * beginning with `attached` on stderr once the probes are live; with --json, one object
 * {"functions":[{name, calls, unmatched, sum_ns, p50_ns, p90_ns, p99_ns, buckets:[{lo_ns, hi_ns, count}]}]},
 * else a funclatency-style histogram per function.
 */
import { traceFunctions } from '../commands/goTracing';
import { UserError } from '../util/userError';
import { parseEbpfArgs, terminalTracing } from './ebpfArgs';
import { formatLog2Histogram, formatNanos } from './histogramText';

const USAGE =
  'usage: go-perf-lens trace --pid PID --func NAME [--func NAME ...] [--duration S (default 10)] [--json] [--python PATH]\n' +
  '  NAME as Go prints it: main.handle, main.(*Server).handle, net/http.(*conn).serve, main.Map[...] (every instantiation)\n';

export async function run(argv: string[]): Promise<number> {
  const o = parseEbpfArgs(argv, USAGE, ['func']);
  if (o === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const names = o.multi.get('func') ?? [];
  if (names.length === 0) throw new UserError('trace needs at least one --func NAME', USAGE.trimEnd(), 'usage');
  const t = terminalTracing(o, 'tracing');
  try {
    const r = await traceFunctions({
      ...t.opts,
      functions: names,
      onPlan: (plan) => {
        for (const f of plan.functions) {
          if (f.exitJumps.length > 0)
            process.stderr.write(
              `note: ${f.name} can also leave by a jump to another function (a tail call); calls that leave that way count as unmatched\n`,
            );
        }
      },
    });
    if (o.json) {
      const functions = r.latency.map((f, i) => ({
        name: f.function,
        calls: f.calls,
        unmatched: f.unmatched,
        sum_ns: f.sumNanos,
        p50_ns: f.p50Nanos,
        p90_ns: f.p90Nanos,
        p99_ns: f.p99Nanos,
        buckets: f.buckets.map((b) => ({ lo_ns: b.loNanos, hi_ns: b.hiNanos, count: b.count })),
        returns_without_entry: r.wire.functions[i]!.returnsWithoutEntry,
        calls_per_second: f.callsPerSecond ?? [],
      }));
      process.stdout.write(
        `${JSON.stringify({ functions, elapsed_sec: r.wire.elapsedSec, ended_by: r.wire.endedBy ?? 'duration', cycles: 'ns only' })}\n`,
      );
    } else {
      for (const [i, f] of r.latency.entries()) {
        const w = r.wire.functions[i]!;
        const avg = w.matched > 0 ? formatNanos(f.sumNanos / w.matched) : '-';
        process.stdout.write(
          `\n${f.function}: ${f.calls} calls in ${r.wire.elapsedSec.toFixed(1)} s, avg ${avg}, p50 ${formatNanos(f.p50Nanos)}, p90 ${formatNanos(f.p90Nanos)}, p99 ${formatNanos(f.p99Nanos)}` +
            `${f.unmatched ? `, ${f.unmatched} unmatched (panic, Goexit or still running)` : ''}${w.returnsWithoutEntry ? `, ${w.returnsWithoutEntry} returns of calls begun before tracing (not timed)` : ''}\n`,
        );
        process.stdout.write(formatLog2Histogram(f.buckets));
      }
      process.stdout.write('\n(ns only: cycles per call are not measured)\n');
      if (r.wire.endedBy === 'target-exited') process.stdout.write(`PID ${o.pid} exited during the trace\n`);
    }
    return 0;
  } finally {
    t.dispose();
  }
}
