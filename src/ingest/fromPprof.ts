/**
 * pprof profiles (Go's net/http/pprof, Parca and Pyroscope exports, our own export) → the
 * model. Locations keep their own lines when they have them; addresses without lines are
 * symbolized with the binary, when one is given.
 */
import { PROFILE_MODEL_VERSION, type Profile } from '../model/profile';
import type { PprofProfile } from '../formats/pprof';
import type { SourceFrame } from '../symbolize/symbolizer';
import { UserError } from '../util/userError';
import { aggregate, type FrameSource, StackTrie } from './aggregate';
import { attachMetrics } from '../model/metrics';
import { distinguishContention } from '../model/contentionKind';
import { chooseSampleType, comment, sampleTypeMetrics } from './pprofMetrics';
import type { LoadedBinary } from './loadBinary';
import { CONTENTION_COMMENT, UNATTRIBUTED_FUNCTION } from './toPprof';

export interface PprofIngestOptions {
  /** Symbolizes locations that carry an address but no lines. */
  binary?: LoadedBinary;
  /**
   * Which sample type to show first (pprof's -sample_index by type name, or a metric id such as
   * "cpu"); default "samples", else the profile's default, else the last (as go tool pprof).
   * Every sample type is kept as a metric of the profile either way.
   */
  sampleType?: string;
  /**
   * Where the profile came from (an endpoint's URL, a file's name): tells a block profile from a
   * mutex profile when its samples do not (model/contentionKind.ts).
   */
  name?: string;
}

export function ingestPprof(pp: PprofProfile, opts: PprofIngestOptions = {}): Profile {
  if (pp.sampleTypes.length === 0) throw new UserError('the pprof profile has no sample types', undefined, 'pprof-empty');
  const shownIndex = chooseSampleType(pp, opts.sampleType);
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

  // Every stack that any sample type counts goes into one trie (one per pprof sample); each
  // sample type's values are summed per trie node, then become a metric of the profile.
  const nTypes = pp.sampleTypes.length;
  const trie = new StackTrie();
  const buf = new Float64Array(4096);
  const perNode: number[][] = pp.sampleTypes.map(() => [0]);
  const totals = new Array<number>(nTypes).fill(0);
  const unattributed = new Array<number>(nTypes).fill(0);
  let negativeValues = 0,
    inexactValues = 0;
  for (const s of pp.samples) {
    let any = false;
    for (let k = 0; k < nTypes; k++) {
      const v = s.values[k]!;
      if (v < 0) negativeValues++;
      else if (v > 0) any = true;
      if (!Number.isSafeInteger(v)) inexactValues++;
    }
    if (!any) continue;
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
    const outside = n === 1 && frames[buf[0]!]![0]?.function === UNATTRIBUTED_FUNCTION;
    const node = outside ? -1 : trie.insert(buf, n);
    if (node >= 0) trie.addCount(node, 1);
    for (let k = 0; k < nTypes; k++) {
      const v = Math.max(0, s.values[k]!);
      totals[k]! += v;
      if (outside) unattributed[k]! += v;
      else {
        const a = perNode[k]!;
        while (a.length <= node) a.push(0);
        a[node]! += v;
      }
    }
  }
  if (negativeValues > 0) warnings.push(`${negativeValues} sample value(s) are negative (a damaged profile?): they are left out`);
  if (inexactValues > 0 || !totals.every((t) => Number.isSafeInteger(t))) {
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
  // The aggregate's stacks are the trie's nodes with samples, in node order.
  const stackNodes: number[] = [];
  for (let i = 1; i < trie.size; i++) if (trie.counts[i] !== 0) stackNodes.push(i);

  const infos = sampleTypeMetrics(pp, totals, unattributed);
  const base: Profile = {
    version: PROFILE_MODEL_VERSION,
    source: 'pprof',
    event: infos[shownIndex]!.event,
    durationNanos: pp.durationNanos,
    totalSamples: 0,
    lostSamples: Number(comment(pp, 'lost') ?? 0) || 0,
    unattributedSamples: 0,
    functions: agg.functions,
    lines: agg.lines,
    callTree: agg.callTree,
    stacks: agg.stacks,
  };
  const p = distinguishContention(
    attachMetrics(
      base,
      infos.map((info, k) => ({ info, stackCounts: stackNodes.map((i) => perNode[k]![i] ?? 0) })),
      infos[shownIndex]!.id,
    ),
    comment(pp, CONTENTION_COMMENT) ?? opts.name,
  );
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
