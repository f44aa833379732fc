/**
 * pprof profiles (Go's net/http/pprof, Parca and Pyroscope exports, our own export) → the
 * model. Locations keep their own lines when they have them; addresses without lines are
 * symbolized with the binary, when one is given.
 */
import { PROFILE_MODEL_VERSION, type EventInfo, type Profile } from '../model/profile';
import type { PprofProfile } from '../formats/pprof';
import type { SourceFrame } from '../symbolize/symbolizer';
import { UserError } from '../util/userError';
import { aggregate, type FrameSource, StackTrie } from './aggregate';
import type { LoadedBinary } from './loadBinary';
import { COMMENT_PREFIX, UNATTRIBUTED_FUNCTION } from './toPprof';

export interface PprofIngestOptions {
  /** Symbolizes locations that carry an address but no lines. */
  binary?: LoadedBinary;
  /** Which sample type to count (pprof's -sample_index by type name); default "samples", else the first. */
  sampleType?: string;
}

function comment(pp: PprofProfile, key: string): string | undefined {
  const c = pp.comments.find((x) => x.startsWith(`${COMMENT_PREFIX}${key}: `));
  return c?.slice(COMMENT_PREFIX.length + key.length + 2);
}

export function ingestPprof(pp: PprofProfile, opts: PprofIngestOptions = {}): Profile {
  if (pp.sampleTypes.length === 0) throw new UserError('the pprof profile has no sample types', undefined, 'pprof-empty');
  const want = opts.sampleType ?? 'samples';
  let vi = pp.sampleTypes.findIndex((t) => t.type === want);
  if (vi < 0 && opts.sampleType !== undefined) {
    throw new UserError(
      `the pprof profile has no sample type "${opts.sampleType}" (it has: ${pp.sampleTypes.map((t) => t.type).join(', ')})`,
      undefined,
      'pprof-sample-type',
    );
  }
  // The profile's own choice next (Go's /allocs says alloc_space), as go tool pprof does.
  if (vi < 0 && pp.defaultSampleType) vi = pp.sampleTypes.findIndex((t) => t.type === pp.defaultSampleType);
  // Without a count, turn the weight back into samples through the period.
  let divisor = 1;
  if (vi < 0 || pp.sampleTypes[vi]!.type !== want) {
    if (vi < 0) vi = pp.sampleTypes.length - 1;
    const t = pp.sampleTypes[vi]!;
    if (pp.period > 0 && pp.periodType && pp.periodType.unit === t.unit) divisor = pp.period;
  }
  const warnings: string[] = [];
  const locIndex = new Map<number, number>();
  pp.locations.forEach((l, i) => locIndex.set(l.id, i));
  const fnById = new Map(pp.functions.map((f) => [f.id, f]));
  // A name can have several Functions (one per file its frames are in): prefer the declared one.
  const fnByName = new Map<string, (typeof pp.functions)[number]>();
  for (const f of pp.functions)
    if (!fnByName.has(f.name) || (fnByName.get(f.name)!.startLine === 0 && f.startLine > 0)) fnByName.set(f.name, f);
  const mapById = new Map(pp.mappings.map((m) => [m.id, m]));

  const bin = opts.binary;
  const toVaddr = (addr: number, mappingId: number): number => {
    const m = mapById.get(mappingId);
    const fileOffset = m ? addr - m.memoryStart + m.fileOffset : addr;
    for (const g of bin?.segments ?? [])
      if (fileOffset >= g.offset && fileOffset < g.offset + g.filesz) return fileOffset - g.offset + g.vaddr;
    return addr;
  };
  let symbolizedByUs = 0,
    noLines = 0,
    negativeLines = 0;
  const frames: SourceFrame[][] = pp.locations.map((l) => {
    if (l.lines.length > 0) {
      return l.lines.map((ln) => {
        const f = fnById.get(ln.functionId);
        // A negative line number means nothing: the frame keeps its function, without a line.
        if (ln.line < 0) negativeLines++;
        return { function: f?.name || f?.systemName || `0x${l.address.toString(16)}`, file: f?.filename ?? '', line: Math.max(0, ln.line) };
      });
    }
    if (bin && l.address) {
      const fr = bin.symbolizer.symbolize(BigInt(toVaddr(l.address, l.mappingId)));
      if (fr.length) {
        symbolizedByUs++;
        return fr;
      }
    }
    noLines++;
    return [];
  });
  if (negativeLines > 0)
    warnings.push(
      `${negativeLines} frame(s) have a negative line number (a damaged profile?): they are counted for their function, without a line`,
    );
  if (noLines > 0)
    warnings.push(
      `${noLines} location(s) have neither source lines nor an address ${bin ? `that ${bin.path} maps` : 'we could symbolize (pass the binary with --binary)'}`,
    );

  const trie = new StackTrie();
  const buf = new Float64Array(4096);
  let total = 0,
    unattributed = 0,
    negativeValues = 0,
    inexactValues = 0;
  for (const s of pp.samples) {
    const v = s.values[vi]!;
    const count = divisor === 1 ? v : Math.round(v / divisor);
    if (count < 0) negativeValues++;
    if (!Number.isSafeInteger(count)) inexactValues++;
    if (count <= 0) continue;
    total += count;
    let n = 0;
    for (const id of s.locationIds) {
      const li = locIndex.get(id);
      if (li === undefined)
        throw new UserError(
          `the pprof profile is corrupt: a sample refers to location ${id}, which does not exist`,
          undefined,
          'pprof-corrupt',
        );
      if (n < buf.length) buf[n++] = li;
    }
    if (n === 1 && frames[buf[0]!]![0]?.function === UNATTRIBUTED_FUNCTION) {
      unattributed += count;
      continue;
    }
    trie.add(buf, n, count);
  }
  if (negativeValues > 0) warnings.push(`${negativeValues} sample(s) have a negative value (a damaged profile?): they are left out`);
  if (inexactValues > 0 || !Number.isSafeInteger(total)) {
    warnings.push(
      `sample values ${inexactValues > 0 ? `(${inexactValues} of them) ` : ''}exceed 2^53, the largest whole number counted exactly here: the counts shown are approximate (a damaged profile?)`,
    );
  }
  const source: FrameSource = {
    frames: (k) => frames[k]!,
    address: (k) => (pp.locations[k]!.address ? `0x${pp.locations[k]!.address.toString(16)}` : undefined),
    declarationAt: (k) => {
      const l = pp.locations[k]!;
      const outer = l.lines[l.lines.length - 1];
      const f = outer && fnById.get(outer.functionId);
      return f && f.startLine > 0 && f.filename ? { file: f.filename, line1: f.startLine } : undefined;
    },
    declarationOf: (name) => {
      const f = fnByName.get(name);
      return f && f.startLine > 0 && f.filename ? { file: f.filename, line1: f.startLine } : undefined;
    },
  };
  const agg = aggregate(trie, source);

  const t = pp.sampleTypes[vi]!;
  const unit: EventInfo['unit'] =
    pp.periodType?.unit === 'nanoseconds' ? 'nanoseconds' : pp.periodType?.type === 'cycles' ? 'cycles' : 'count';
  const event: EventInfo = {
    name: comment(pp, 'event') ?? (t.type === 'samples' && pp.periodType ? pp.periodType.type : t.type),
    unit,
    periodPerSample: pp.period || 1,
  };
  if (unit === 'nanoseconds' && pp.period > 0) event.frequencyHz = Math.round(1e9 / pp.period);
  const fallback = comment(pp, 'fallback');
  if (fallback) event.fallbackReason = fallback;

  const p: Profile = {
    version: PROFILE_MODEL_VERSION,
    source: 'pprof',
    event,
    durationNanos: pp.durationNanos,
    totalSamples: total + 0,
    lostSamples: Number(comment(pp, 'lost') ?? 0) || 0,
    unattributedSamples: unattributed,
    functions: agg.functions,
    lines: agg.lines,
    callTree: agg.callTree,
    stacks: agg.stacks,
  };
  const main = pp.mappings.find((m) => m.filename && !m.filename.startsWith('['));
  if (bin) p.binary = bin.identity;
  else if (main) {
    p.binary = { path: main.filename };
    if (main.buildId) p.binary.buildId = main.buildId;
  }
  if (pp.timeNanos) p.startTimeMs = pp.timeNanos / 1e6;
  if (symbolizedByUs) warnings.push(`${symbolizedByUs} location(s) had only an address and were symbolized with ${bin!.path}`);
  if (warnings.length) p.warnings = warnings;
  return p;
}
