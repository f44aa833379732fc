/**
 * `go-perf-lens allocs --pid PID --duration S [--max-hits N] [--json]`: what allocates, estimated from the
 * allocations the Go runtime samples for its memory profile (one uprobe on
 * runtime.mProf_Malloc), unsampled as pprof does. With --json:
 * {"bytes","objects","duration_s","functions":[{"name","file","line","self_bytes","bytes","self_objects","objects"}],
 *  "lines":[{"file","line","bytes","objects"}]} (bytes/objects cumulative, self_* at the function's own lines),
 * plus "mem_profile_rate", "samples", "unattributed_bytes", "ended_by" (duration, stop, target-exited,
 * budget) and "warnings".
 */
import { recordAllocs } from '../commands/recordAllocs';
import { intOption, parseEbpfArgs, terminalTracing } from './ebpfArgs';

const USAGE =
  'usage: go-perf-lens allocs --pid PID [--duration S (default 10)] [--max-hits N (probe hits/s before stopping early, default 20000)] [--top N (default 20)] [--json] [--python PATH]\n';

export async function run(argv: string[]): Promise<number> {
  const o = parseEbpfArgs(argv, USAGE, ['top', 'max-hits']);
  if (o === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const top = intOption(o, 'top', 1, 100000, USAGE) ?? 20;
  const maxHits = intOption(o, 'max-hits', 100, 10000000, USAGE);
  const t = terminalTracing(o, 'sampling allocations');
  try {
    const { heat: h, wire } = await recordAllocs({ ...t.opts, ...(maxHits !== undefined ? { maxHitsPerSec: maxHits } : {}) });
    if (o.json) {
      process.stdout.write(
        `${JSON.stringify({
          bytes: h.bytes,
          objects: h.objects,
          duration_s: h.durationSec,
          functions: h.functions.map((f) => ({
            name: f.name,
            file: f.file,
            line: f.line,
            self_bytes: f.selfBytes,
            bytes: f.bytes,
            self_objects: f.selfObjects,
            objects: f.objects,
          })),
          lines: h.lines.map((l) => ({ file: l.file, line: l.line, bytes: l.bytes, objects: l.objects })),
          mem_profile_rate: h.memProfileRate,
          samples: h.samples,
          unattributed_bytes: h.unattributedBytes,
          ended_by: wire.endedBy,
          warnings: h.warnings,
        })}\n`,
      );
      return 0;
    }
    const secs = Math.max(h.durationSec, 1e-9);
    process.stdout.write(
      `\nallocated ~${formatBytes(h.bytes)} in ~${formatCount(h.objects)} objects over ${h.durationSec.toFixed(1)} s (${formatBytes(h.bytes / secs)}/s, ${formatCount(h.objects / secs)} obj/s)\n`,
    );
    process.stdout.write(`estimated from ${h.samples} allocations the runtime sampled (runtime.MemProfileRate = ${h.memProfileRate} B)\n`);
    process.stdout.write('\n      self        cum   self obj  function\n');
    for (const f of h.functions.slice(0, top)) {
      process.stdout.write(
        `${formatBytes(f.selfBytes).padStart(10)} ${formatBytes(f.bytes).padStart(10)} ${formatCount(f.selfObjects).padStart(10)}  ${f.name}\n`,
      );
    }
    process.stdout.write('\n     bytes    objects  line\n');
    for (const l of h.lines.slice(0, top)) {
      process.stdout.write(`${formatBytes(l.bytes).padStart(10)} ${formatCount(l.objects).padStart(10)}  ${l.file}:${l.line}\n`);
    }
    for (const w of h.warnings) process.stdout.write(`\nnote: ${w}\n`);
    return 0;
  } finally {
    t.dispose();
  }
}

function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${Math.round(n)} B`;
}

function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}
