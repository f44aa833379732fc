/**
 * `go-perf-lens blocking --pid PID --duration S [--json]`: where goroutines wait and for how
 * long (uprobes on runtime.gopark and runtime.execute, paired by goroutine). With --json:
 * {"duration_s","functions":[{"name","file","line","blocked_ns","waits","reasons":{"REASON":NS}}],
 *  "lines":[{"file","line","blocked_ns","waits","reasons":{"REASON":NS},"histogram":[{"lo_ns","hi_ns","waits"}]}]}
 * (histogram: how long the line's waits lasted, in log2 buckets [lo_ns, hi_ns)), plus "blocked_ns", "waits", "still_parked",
 * "ended_by" (duration, stop, target-exited, budget) and "warnings".
 */
import { recordBlocking } from '../commands/recordBlocking';
import { intOption, parseEbpfArgs, terminalTracing } from './ebpfArgs';
import { formatNanos } from './histogramText';

const USAGE =
  'usage: go-perf-lens blocking --pid PID [--duration S (default 10)] [--max-hits N (probe hits/s before stopping early, default 20000)] [--top N] [--json] [--python PATH]\n';

export async function run(argv: string[]): Promise<number> {
  const o = parseEbpfArgs(argv, USAGE, ['top', 'max-hits']);
  if (o === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const top = intOption(o, 'top', 1, 100000, USAGE) ?? 20;
  const maxHits = intOption(o, 'max-hits', 100, 10000000, USAGE);
  const t = terminalTracing(o, 'measuring where goroutines wait');
  try {
    const { heat: h } = await recordBlocking({ ...t.opts, ...(maxHits !== undefined ? { maxHitsPerSec: maxHits } : {}) });
    if (o.json) {
      process.stdout.write(
        `${JSON.stringify({
          duration_s: h.durationSec,
          functions: h.functions.map((f) => ({
            name: f.name,
            file: f.file,
            line: f.line,
            blocked_ns: f.blockedNs,
            waits: f.waits,
            reasons: f.reasons,
          })),
          lines: h.lines.map((l) => ({
            file: l.file,
            line: l.line,
            blocked_ns: l.blockedNs,
            waits: l.waits,
            reasons: l.reasons,
            histogram: l.histogram.map((b) => ({ lo_ns: b.loNanos, hi_ns: b.hiNanos, waits: b.count })),
          })),
          blocked_ns: h.blockedNs,
          waits: h.waits,
          still_parked: h.stillParked,
          ended_by: h.endedBy,
          warnings: h.warnings,
        })}\n`,
      );
      return 0;
    }
    process.stdout.write(`\ngoroutines blocked ${formatNanos(h.blockedNs)} in ${h.waits} waits over ${h.durationSec.toFixed(1)} s\n`);
    process.stdout.write('\n   blocked    waits  function (mostly)\n');
    for (const f of h.functions.slice(0, top)) {
      const mostly = Object.entries(f.reasons).sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
      process.stdout.write(`${formatNanos(f.blockedNs).padStart(10)} ${String(f.waits).padStart(8)}  ${f.name} (${mostly})\n`);
    }
    process.stdout.write('\n   blocked    waits  line\n');
    for (const l of h.lines.slice(0, top))
      process.stdout.write(`${formatNanos(l.blockedNs).padStart(10)} ${String(l.waits).padStart(8)}  ${l.file}:${l.line}\n`);
    for (const w of h.warnings) process.stdout.write(`\nnote: ${w}\n`);
    return 0;
  } finally {
    t.dispose();
  }
}
