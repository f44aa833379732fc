/**
 * `go-perf-lens sched --pid PID --duration S [--json]`: how long runnable goroutines wait to
 * run (one uprobe on runtime.casgstatus, keyed by goid). With --json:
 * {"count", "sum_ns", "p50_ns", "p90_ns", "p99_ns", "buckets":[{lo_ns, hi_ns, count}],
 *  "worst":[{goid, wait_ns, created_at?, start_function?, creation_stack?}]} (created_at: the `go`
 *  statement, "func (file:line)"; creation_stack: that frame and its callers, for goroutines
 *  created while tracing).
 */
import { traceSched } from '../commands/goTracing';
import { parseEbpfArgs, terminalTracing } from './ebpfArgs';
import { formatLog2Histogram, formatNanos } from './histogramText';

const USAGE = 'usage: go-perf-lens sched --pid PID [--duration S (default 10)] [--json] [--python PATH]\n';

export async function run(argv: string[]): Promise<number> {
  const o = parseEbpfArgs(argv, USAGE);
  if (o === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const t = terminalTracing(o, 'measuring goroutine run-queue waits');
  try {
    const r = await traceSched(t.opts);
    const s = r.sched;
    if (o.json) {
      process.stdout.write(
        `${JSON.stringify({
          count: s.count,
          sum_ns: r.wire.sum_ns,
          p50_ns: s.p50Nanos,
          p90_ns: s.p90Nanos,
          p99_ns: s.p99Nanos,
          buckets: s.buckets.map((b) => ({ lo_ns: b.loNanos, hi_ns: b.hiNanos, count: b.count })),
          worst: s.worst.map((w) => ({
            goid: w.goid,
            wait_ns: w.waitNanos,
            ...(w.createdAt ? { created_at: w.createdAt } : {}),
            ...(w.startFunction ? { start_function: w.startFunction } : {}),
            ...(w.creationStack ? { creation_stack: w.creationStack } : {}),
          })),
          elapsed_sec: r.wire.elapsedSec,
          ended_by: r.wire.endedBy ?? 'duration',
          goid_offset_from: r.goidOffsetSource,
        })}\n`,
      );
    } else {
      process.stdout.write(
        `\nrunnable → running waits: ${s.count} in ${r.wire.elapsedSec.toFixed(1)} s, p50 ${formatNanos(s.p50Nanos)}, p90 ${formatNanos(s.p90Nanos)}, p99 ${formatNanos(s.p99Nanos)}\n`,
      );
      process.stdout.write(formatLog2Histogram(s.buckets));
      if (s.worst.length) {
        process.stdout.write('\nworst waits:\n');
        for (const w of s.worst) {
          const origin = w.createdAt ? `  ${w.startFunction ?? '?'}, created at ${w.createdAt}` : '';
          process.stdout.write(`  goroutine ${String(w.goid).padEnd(8)} ${formatNanos(w.waitNanos)}${origin}\n`);
          for (const f of w.creationStack?.slice(1) ?? []) process.stdout.write(`      called from ${f}\n`);
        }
      }
    }
    return 0;
  } finally {
    t.dispose();
  }
}
