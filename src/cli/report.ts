/**
 * `go-perf-lens report INPUT [--binary PATH] [--top N] [--json] [-o SESSION]`: where the samples
 * went; with -o, the model is also saved as a session file the editor opens.
 * `--json` prints the contract other tools read:
 * {"event","samples","lost","functions":[{"name","file","line","self","cum"}],"lines":[{"file","line","self","cum"}]}
 * counts in samples, sorted by self (descending). Without it: a table of the top functions
 * and, for the hottest, its source lines (like `pprof -list`).
 */
import { metricsOf, shownMetric } from '../model/metrics';
import { formatMetricAmount, isSampleMetric } from '../ui/metricText';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FunctionStat, LineStat, Profile } from '../model/profile';
import { stacksText } from '../model/stacksText';
import { makeSession, serializeSession } from '../model/session';
import { UserError } from '../util/userError';
import { openInput } from './openInput';
import { checkOutputPath, writeOutputFile } from './outputFile';
import { intOption, parseArgs } from './parseArgs';

const USAGE =
  'usage: go-perf-lens report INPUT [--binary PATH] [--top N] [--json] [-o SESSION]   (INPUT: perf.data (file or pipe mode), pprof (.pb.gz), session, - for standard input, or a pprof endpoint URL such as http://HOST:6060/debug/pprof/profile?seconds=10; -o also saves the model as a session file)';

export interface ReportJson {
  event: string;
  samples: number;
  lost: number;
  functions: { name: string; file: string; line: number; self: number; cum: number }[];
  lines: { file: string; line: number; self: number; cum: number }[];
}

const bySelf = <T extends { selfSamples: number; cumSamples: number }>(a: T, b: T): number =>
  b.selfSamples - a.selfSamples || b.cumSamples - a.cumSamples;

export function sortedFunctions(p: Profile): FunctionStat[] {
  return p.functions.slice().sort((a, b) => bySelf(a, b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function sortedLines(p: Profile): LineStat[] {
  return p.lines.slice().sort((a, b) => bySelf(a, b) || (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line1 - b.line1));
}

export function reportJson(p: Profile, top?: number): ReportJson {
  const fns = sortedFunctions(p);
  const lines = sortedLines(p);
  return {
    event: p.event.name,
    samples: p.totalSamples,
    lost: p.lostSamples,
    functions: (top ? fns.slice(0, top) : fns).map((f) => ({
      name: f.name,
      file: f.file ?? '',
      line: f.line1 ?? 0,
      self: f.selfSamples,
      cum: f.cumSamples,
    })),
    lines: (top ? lines.slice(0, top) : lines).map((l) => ({ file: l.file, line: l.line1, self: l.selfSamples, cum: l.cumSamples })),
  };
}

const pct = (n: number, total: number): string => (total > 0 ? `${((100 * n) / total).toFixed(2)}%` : '-');

function describeEvent(p: Profile): string {
  const m = shownMetric(p);
  if (!isSampleMetric(m)) {
    const others = metricsOf(p).filter((x) => x.id !== m.id);
    return `${m.id}: ${m.label} (in ${m.event.unit})${others.length ? `; also in the profile: ${others.map((x) => x.id).join(', ')}` : ''}`;
  }
  const e = p.event;
  let per = '';
  if (e.unit === 'nanoseconds') per = `${(e.periodPerSample / 1e6).toFixed(3)} ms of CPU per sample`;
  else if (e.unit === 'cycles') per = `${Math.round(e.periodPerSample)} cycles per sample`;
  else per = `period ${Math.round(e.periodPerSample)}`;
  return `${e.name}${e.frequencyHz ? ` at ${e.frequencyHz} Hz` : ''} (${per})${e.fallbackReason ? ` — ${e.fallbackReason}` : ''}`;
}

/** The text report: header, top functions, and the hottest function's source lines. */
export function reportText(p: Profile, top = 20): string {
  const out: string[] = [];
  const total = p.totalSamples;
  out.push(`event:    ${describeEvent(p)}`);
  const m = shownMetric(p);
  if (isSampleMetric(m)) {
    const cpu = p.event.unit === 'nanoseconds' ? ` ≈ ${((total * p.event.periodPerSample) / 1e9).toFixed(2)} s of CPU` : '';
    out.push(
      `samples:  ${total}${cpu}, lost ${p.lostSamples}, outside the Go binary ${p.unattributedSamples}, over ${(p.durationNanos / 1e9).toFixed(2)} s`,
    );
  } else {
    out.push(
      `total:    ${total} (${formatMetricAmount(total, m)}), outside the Go binary ${p.unattributedSamples}${p.durationNanos > 0 ? `, over ${(p.durationNanos / 1e9).toFixed(2)} s` : ''}`,
    );
  }
  if (p.binary) {
    const b = p.binary;
    out.push(`binary:   ${b.path}${b.goVersion ? ` (${b.goVersion})` : ''}${b.buildId ? ` build id ${b.buildId}` : ''}`);
  }
  const stacks = stacksText(p);
  if (stacks) out.push(`stacks:   ${stacks}`);
  for (const w of p.warnings ?? []) out.push(`warning:  ${w}`);
  out.push('');
  const fns = sortedFunctions(p).slice(0, top);
  out.push(`${'self'.padStart(8)} ${'self%'.padStart(7)} ${'cum'.padStart(8)} ${'cum%'.padStart(7)}  function`);
  for (const f of fns) {
    const where = f.file ? `  ${f.file}${f.line1 ? `:${f.line1}` : ''}` : '';
    out.push(
      `${String(f.selfSamples).padStart(8)} ${pct(f.selfSamples, total).padStart(7)} ${String(f.cumSamples).padStart(8)} ${pct(f.cumSamples, total).padStart(7)}  ${f.name}${f.inlinedOnly ? ' (inlined)' : ''}${where}`,
    );
  }
  const hot = fns.find((f) => f.selfSamples > 0);
  if (hot) out.push('', ...listFunction(p, hot));
  return `${out.join('\n')}\n`;
}

/** Like `pprof -list`: the hottest function's lines with their self and cum samples. */
export function listFunction(p: Profile, f: FunctionStat): string[] {
  const total = p.totalSamples;
  const lines = p.lines.filter((l) => l.function === f.name);
  const out = [`ROUTINE ======================== ${f.name}${f.file ? ` in ${f.file}` : ''}`];
  out.push(`${String(f.selfSamples).padStart(8)} ${String(f.cumSamples).padStart(8)} (flat, cum) ${pct(f.cumSamples, total)} of total`);
  const byLine = new Map<number, LineStat>();
  let file = f.file;
  for (const l of lines) {
    file ??= l.file;
    if (l.file === file) byLine.set(l.line1, l);
  }
  if (!file || byLine.size === 0) return [...out, '   (no line information)'];
  let source: string[] | undefined;
  try {
    source = fs.readFileSync(file, 'utf8').split('\n');
  } catch {
    source = undefined;
  }
  const nums = [...byLine.keys()].filter((n) => n > 0).sort((a, b) => a - b);
  const cell = (n: number): string => (n ? String(n) : '.').padStart(8);
  if (!source) {
    out.push(`   (source file ${file} not found here: showing the lines that have samples)`);
    for (const n of nums) {
      const l = byLine.get(n)!;
      out.push(`${cell(l.selfSamples)} ${cell(l.cumSamples)} ${String(n).padStart(6)}  ${pct(l.selfSamples, total)}`);
    }
    return out;
  }
  const from = Math.max(1, Math.min(f.line1 ?? nums[0]!, nums[0]!));
  const to = Math.min(source.length, nums[nums.length - 1]! + 1);
  for (let n = from; n <= to; n++) {
    const l = byLine.get(n);
    out.push(`${cell(l?.selfSamples ?? 0)} ${cell(l?.cumSamples ?? 0)} ${String(n).padStart(6)}: ${source[n - 1] ?? ''}`);
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const args = parseArgs(argv, { values: ['binary', 'top', 'output'], flags: ['json'], aliases: { '-o': 'output' } }, USAGE);
  const [input, ...extra] = args.positionals;
  if (!input || extra.length)
    throw new UserError(input ? `unexpected argument "${extra[0]}"` : 'report needs an INPUT file or URL', USAGE, 'usage');
  const top = intOption(args, 'top', undefined, 1, 1_000_000, USAGE);
  const binary = args.values.get('binary');
  const out = args.values.get('output');
  if (out !== undefined) checkOutputPath(out, 'session.json');
  const profile = await openInput(input, binary);
  if (out !== undefined) writeOutputFile(out, serializeSession(makeSession(profile, `go-perf-lens report ${path.basename(input)}`)));
  if (args.flags.has('json')) {
    process.stdout.write(`${JSON.stringify(reportJson(profile, top))}\n`);
    for (const w of profile.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
  } else {
    process.stdout.write(reportText(profile, top ?? 20));
  }
  return 0;
}
