/**
 * What the assistant tools answer (MCP and VS Code's agent mode): compact text a language model
 * can quote — function, file:line, share, the figures behind it — and, beside each figure that
 * can be wrong, how many samples or calls it leaves out. No vscode import.
 */
import * as fs from 'node:fs';
import type { GoProcess } from '../capture';
import { metricsOf, shownMetric } from '../model/metrics';
import type { FunctionLatency, LineStat, Profile } from '../model/profile';
import { formatDuration, formatPercent } from '../ui/format';
import { CPU_SAMPLE_MS } from './processList';
import { UserError } from '../util/userError';

/**
 * How a value of the profile's shown metric reads: a count of samples (CPU) or of objects,
 * goroutines, contentions as the number itself; bytes and nanoseconds (pprof's heap and delay
 * profiles) with their unit.
 */
function amountOf(p: Profile): (n: number) => string {
  const e = p.event;
  if (e.unit === 'bytes') return (n) => formatBytes(n * e.periodPerSample);
  if (e.unit === 'nanoseconds' && e.periodPerSample === 1) return (n) => formatDuration(n);
  return (n) => String(n);
}

function formatBytes(n: number): string {
  const units: [number, string][] = [
    [2 ** 30, 'GiB'],
    [2 ** 20, 'MiB'],
    [2 ** 10, 'KiB'],
  ];
  for (const [div, unit] of units) if (Math.abs(n) >= div) return `${(n / div).toFixed(1)} ${unit}`;
  return `${Math.round(n)} B`;
}

/** "12.3% (1234)": a share of the profile's total with the amount it stands for. */
function shareOf(p: Profile): (n: number) => string {
  const amount = amountOf(p);
  return (n) => `${formatPercent(p.totalSamples > 0 ? n / p.totalSamples : 0)} (${amount(n)})`;
}

/** The header every profile answer starts with: what was measured, how much, and what is not attributed. */
export function profileSummary(p: Profile, label: string): string[] {
  const e = p.event;
  const out: string[] = [];
  const over = p.durationNanos > 0 ? ` over ${formatDuration(p.durationNanos)}` : '';
  const metric = shownMetric(p);
  if (metric.id === 'cpu') {
    const rate = e.frequencyHz ? ` at ${e.frequencyHz} Hz` : '';
    const cpu = e.unit === 'nanoseconds' ? ` ≈ ${formatDuration(p.totalSamples * e.periodPerSample)} of CPU` : '';
    out.push(`Profile "${label}": ${p.totalSamples} samples of ${e.name}${rate}${cpu}${over}.`);
  } else {
    const when = metric.snapshot ? ' at the moment it was taken' : over;
    out.push(`Profile "${label}": ${metric.label}, ${amountOf(p)(p.totalSamples)} in all${when}; shares below are of that total.`);
  }
  const others = metricsOf(p).filter((m) => m.id !== metric.id);
  if (others.length) out.push(`It also holds ${others.map((m) => m.label).join(', ')} (not shown here).`);
  if (e.fallbackReason) out.push(`Event: ${e.fallbackReason}.`);
  if (p.target?.pid)
    out.push(
      `Process: PID ${p.target.pid}${p.target.cmdline ? ` (${p.target.cmdline})` : ''}${p.target.host ? ` on ${p.target.host}` : ''}.`,
    );
  if (p.binary) out.push(`Binary: ${p.binary.path}${p.binary.goVersion ? ` (${p.binary.goVersion})` : ''}.`);
  if (p.ended && p.ended.by !== 'duration') {
    const how = { stop: 'stopped early', 'target-exited': 'the process exited', 'perf-exited': 'perf ended early' }[p.ended.by];
    out.push(`Recording: ${p.ended.afterSec.toFixed(1)} s of the ${p.ended.requestedSec} s asked for (${how}): a partial profile.`);
  }
  const notes: string[] = [];
  if (p.lostSamples) notes.push(`${p.lostSamples} samples lost by the kernel (not counted)`);
  if (p.unattributedSamples) notes.push(`${p.unattributedSamples} outside the Go binary (kernel, vdso, libraries)`);
  if (p.missingCallerSamples) notes.push(`${p.missingCallerSamples} with an unknown caller (their callers' cumulative shares miss them)`);
  if (p.truncatedStackSamples) notes.push(`${p.truncatedStackSamples} with a cut stack (outer callers unknown)`);
  if (notes.length) out.push(`Not attributed: ${notes.join('; ')}.`);
  for (const w of p.warnings ?? []) out.push(`Warning: ${w}`);
  return out;
}

export type SortBy = 'self' | 'cumulative';

/** The top functions, one a line: name, self and cumulative share with counts, declaration file:line. */
export function topFunctionsText(p: Profile, count: number, sortBy: SortBy, where: (file: string) => string): string[] {
  const key = (f: { selfSamples: number; cumSamples: number }): [number, number] =>
    sortBy === 'self' ? [f.selfSamples, f.cumSamples] : [f.cumSamples, f.selfSamples];
  const fns = p.functions
    .filter((f) => f.selfSamples > 0 || f.cumSamples > 0)
    .sort((a, b) => key(b)[0] - key(a)[0] || key(b)[1] - key(a)[1] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, count);
  if (fns.length === 0) return ['No function has samples in this profile.'];
  const share = shareOf(p);
  const out = [
    `Top ${fns.length} functions by ${sortBy} share (self = in the function's own code; cumulative = with everything it calls):`,
  ];
  fns.forEach((f, i) => {
    const decl = f.file ? ` — ${where(f.file)}${f.line1 ? `:${f.line1}` : ''}` : '';
    out.push(
      `${i + 1}. ${f.name}${f.inlinedOnly ? ' (inlined)' : ''}: self ${share(f.selfSamples)}, cumulative ${share(f.cumSamples)}${decl}`,
    );
  });
  return out;
}

/** The recorded files whose name is `file` or ends with "/file" (or whose local path is `file`). */
export function filesMatching(p: Profile, file: string, local: (recorded: string) => string): string[] {
  const want = file.replace(/\\/g, '/');
  const files = new Set<string>();
  for (const l of p.lines) {
    if (l.file === want || l.file.endsWith(`/${want.replace(/^\.?\//, '')}`) || local(l.file) === want) files.add(l.file);
  }
  return [...files].sort();
}

/** The hottest lines of one source file, by cumulative share, with the line's text when the file is here. */
export function hotLinesText(p: Profile, file: string, count: number, local: (recorded: string) => string): string[] {
  const matches = filesMatching(p, file, local);
  if (matches.length === 0) {
    const byFile = new Map<string, number>();
    for (const l of p.lines) byFile.set(l.file, Math.max(byFile.get(l.file) ?? 0, l.cumSamples));
    const hottest = [...byFile.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([f]) => local(f));
    throw new UserError(
      `no line of a file named "${file}" has samples in this profile`,
      hottest.length ? `files with samples include: ${hottest.join(', ')}` : 'this profile has no line information',
      'no-such-file',
    );
  }
  if (matches.length > 1)
    throw new UserError(
      `"${file}" names ${matches.length} files of this profile: ${matches.map(local).join(', ')}`,
      'give more of the path, or the full path',
      'ambiguous-file',
    );
  const recorded = matches[0]!;
  const path = local(recorded);
  const lines = p.lines
    .filter((l) => l.file === recorded && (l.cumSamples > 0 || l.selfSamples > 0))
    .sort((a, b) => b.cumSamples - a.cumSamples || b.selfSamples - a.selfSamples || a.line1 - b.line1);
  const source = readLines(path);
  const shown = lines.slice(0, count);
  const out = [
    `Hottest ${shown.length} of the ${lines.length} lines with samples in ${path}, by cumulative share (what the line costs, its callees included; self = its own code):`,
  ];
  for (const l of shown) out.push(lineText(p, path, l, source));
  return out;
}

function lineText(p: Profile, path: string, l: LineStat, source: string[] | undefined): string {
  const share = shareOf(p);
  const inlined = l.inlinedInto?.length ? ` (inlined into ${l.inlinedInto.join(', ')})` : '';
  const text = source?.[l.line1 - 1]?.trim();
  const quoted = text ? ` | ${text.length > 100 ? `${text.slice(0, 100)}…` : text}` : '';
  return `${path}:${l.line1} in ${l.function}${inlined}: cumulative ${share(l.cumSamples)}, self ${share(l.selfSamples)}${quoted}`;
}

function readLines(file: string): string[] | undefined {
  try {
    return fs.readFileSync(file, 'utf8').split('\n');
  } catch {
    return undefined;
  }
}

/** The hottest lines of the whole profile (where an answer to "why is it slow?" starts). */
export function hottestLinesText(p: Profile, count: number, local: (recorded: string) => string): string[] {
  const lines = p.lines
    .filter((l) => l.selfSamples > 0)
    .sort((a, b) => b.selfSamples - a.selfSamples || b.cumSamples - a.cumSamples)
    .slice(0, count);
  if (lines.length === 0) return [];
  return [`Hottest ${lines.length} lines by self share:`, ...lines.map((l) => lineText(p, local(l.file), l, undefined))];
}

/** One traced function's latency: calls, rate, percentiles, the calls not timed, and the histogram. */
export function latencyText(f: FunctionLatency, elapsedSec: number, returnsWithoutEntry: number, tailCallExits: boolean): string[] {
  const timed = f.calls - f.unmatched;
  const avg = timed > 0 ? formatDuration(f.sumNanos / timed) : '-';
  const rate = elapsedSec > 0 ? `, ${(f.calls / elapsedSec).toFixed(1)} calls/s` : '';
  const out = [
    `${f.function}: ${f.calls} calls in ${elapsedSec.toFixed(1)} s${rate}; wall-clock per call (waiting included): avg ${avg}, p50 ${formatDuration(f.p50Nanos)}, p90 ${formatDuration(f.p90Nanos)}, p99 ${formatDuration(f.p99Nanos)}.`,
  ];
  const untimed: string[] = [];
  if (f.unmatched) untimed.push(`${f.unmatched} calls without a return seen (panic, Goexit or still running at the end), not timed`);
  if (returnsWithoutEntry) untimed.push(`${returnsWithoutEntry} returns of calls begun before tracing, not counted`);
  if (tailCallExits)
    untimed.push('it can also leave by a jump to another function (a tail call): calls that leave that way count as unmatched');
  if (untimed.length) out.push(`Not timed: ${untimed.join('; ')}.`);
  const buckets = f.buckets.filter((b) => b.count > 0).sort((a, b) => a.loNanos - b.loNanos);
  if (buckets.length)
    out.push(
      `Histogram (calls per duration range): ${buckets.map((b) => `${formatDuration(b.loNanos)}–${formatDuration(b.hiNanos)}: ${b.count}`).join('; ')}.`,
    );
  return out;
}

/** The Go processes, one a line: PID, name, Go version, CPU use, executable, module, arguments. */
export function processesText(list: { process: GoProcess; cpuPercent?: number }[]): string[] {
  if (list.length === 0) return ['No Go process is running on this machine (none that the helper can see).'];
  const out = [`${list.length} Go process${list.length === 1 ? '' : 'es'} (CPU: % of one CPU over the last ${CPU_SAMPLE_MS / 1000} s):`];
  for (const { process: p, cpuPercent } of list) {
    const name = p.comm || p.exe.split('/').pop() || '?';
    const cpu = cpuPercent !== undefined ? `, CPU ${cpuPercent.toFixed(0)}%` : '';
    const args = p.cmdline.slice(1).join(' ');
    const argText = args ? `, args: ${args.length > 80 ? `${args.slice(0, 80)}…` : args}` : '';
    const mod = p.modulePath ? `, module ${p.modulePath}` : '';
    const user = p.user ? `, user ${p.user}` : '';
    out.push(`PID ${p.pid} ${name} (${p.goVersion ?? 'Go version unknown'}${cpu}${user}${mod}): ${p.exe}${argText}`);
  }
  return out;
}
