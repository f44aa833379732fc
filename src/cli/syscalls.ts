/**
 * `go-perf-lens syscalls --pid PID --duration S [--json] [--stacks]`: per-syscall count, total
 * time and latency histogram of one process (raw_syscalls tracepoints); --stacks adds the top
 * Go call sites of each syscall. With --json:
 * {"syscalls":[{name, nr, count, total_ns, buckets:[{lo_ns, hi_ns, count}], top_sites?:[{frames, count}]}]}.
 */
import { traceSyscalls } from '../commands/goTracing';
import { parseEbpfArgs, terminalTracing } from './ebpfArgs';
import { formatLog2Histogram, formatNanos } from './histogramText';

const USAGE = 'usage: go-perf-lens syscalls --pid PID [--duration S (default 10)] [--stacks] [--json] [--python PATH]\n';

export async function run(argv: string[]): Promise<number> {
  const o = parseEbpfArgs(argv, USAGE, [], ['stacks']);
  if (o === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const t = terminalTracing(o, 'counting syscalls');
  try {
    const r = await traceSyscalls({ ...t.opts, stacks: o.flags.has('stacks') });
    if (o.json) {
      const syscalls = r.syscalls.map((s) => ({
        name: s.name,
        nr: s.nr,
        count: s.count,
        total_ns: s.totalNanos,
        buckets: s.buckets.map((b) => ({ lo_ns: b.loNanos, hi_ns: b.hiNanos, count: b.count })),
        ...(s.topSites ? { top_sites: s.topSites } : {}),
      }));
      process.stdout.write(`${JSON.stringify({ syscalls, elapsed_sec: r.wire.elapsedSec, ended_by: r.wire.endedBy ?? 'duration' })}\n`);
    } else {
      process.stdout.write(`\n${'syscall'.padEnd(20)} ${'count'.padStart(10)} ${'total'.padStart(12)} ${'avg'.padStart(12)}\n`);
      for (const s of r.syscalls) {
        process.stdout.write(
          `${s.name.padEnd(20)} ${String(s.count).padStart(10)} ${formatNanos(s.totalNanos).padStart(12)} ${formatNanos(s.count ? s.totalNanos / s.count : 0).padStart(12)}\n`,
        );
      }
      for (const s of r.syscalls) {
        process.stdout.write(`\n${s.name} (${s.count} calls)\n`);
        process.stdout.write(formatLog2Histogram(s.buckets));
        for (const site of s.topSites ?? []) {
          process.stdout.write(
            `  ${site.count} from:\n${site.frames
              .slice(0, 8)
              .map((f) => `      ${f}`)
              .join('\n')}\n`,
          );
        }
      }
      if (r.wire.endedBy === 'target-exited') process.stdout.write(`\nPID ${o.pid} exited during the trace\n`);
    }
    return 0;
  } finally {
    t.dispose();
  }
}
