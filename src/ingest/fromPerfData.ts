/**
 * perf.data + a Go binary → the Profile model. The hot path: every sample's user callchain is
 * mapped through the recording's mmaps to the binary's link-time addresses (return addresses
 * minus one), deduplicated in a StackTrie, and only then symbolized, once per distinct address.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isContextMarker, MappingIndex, type PerfData, userCallchain, userCallchainInto } from '../formats/perfData';
import { PROFILE_MODEL_VERSION, type EventInfo, type Profile } from '../model/profile';
import type { Symbolizer } from '../symbolize/symbolizer';
import { NumberMap } from '../util/numberMap';
import { type Aggregates, Aggregator, type FrameSource, StackTrie } from './aggregate';
import { ChainGroups } from './chainGroups';
import type { LoadedBinary } from './loadBinary';
import {
  type CallerRepairCounts,
  emptyRepairCounts,
  type FramelessIndex,
  missingCallerWarning,
  stillMissing,
} from '../symbolize/framelessCallers';
import { framelessIndexOf } from './framelessIndexOf';
import { linkAddressOf, UnwoundSamples } from './unwoundSamples';
import type { UnwindEnd } from './goStackUnwind';
import { type BinaryMatch, isExecMmap, isUserBuildIdEntry, matchBinary, type RecordedIds, sameFile, uncheckedWarning } from './binaryMatch';

export interface PerfIngestOptions {
  /** Keep only samples of this process (default: every process whose frames map into the binary). */
  pid?: number;
  /** What the recorder knows that perf.data does not say. */
  frequencyHz?: number;
  fallbackReason?: string;
  target?: Profile['target'];
  startTimeMs?: number;
  /** Extra warnings to carry into the model (e.g. from the recorder). */
  warnings?: string[];
  /**
   * Put back callers the frame-pointer walk skipped at frameless leaves, where that is exact
   * (default true). false gives exactly the stacks perf itself reports (perf script's view).
   */
  repairFramelessCallers?: boolean;
  /** Build ids the recorder read from the recorded process, checked against the binary's. */
  recordedIds?: RecordedIds;
}

/** What the event is, in the model's terms. cpu-clock/task-clock periods are nanoseconds. */
export function eventInfoOf(d: PerfData, attrIndex: number, meanPeriod: number, opts: PerfIngestOptions): EventInfo {
  const a = d.attrs[attrIndex];
  const name = a?.name ?? 'unknown';
  const base = name.replace(/:.*$/, '');
  let unit: EventInfo['unit'] = 'count';
  if (a && a.type === 1 && (a.config === 0n || a.config === 1n)) unit = 'nanoseconds';
  else if (base === 'cpu-clock' || base === 'task-clock') unit = 'nanoseconds';
  else if (base === 'cycles' || base === 'cpu-cycles' || (a && a.type === 0 && a.config === 0n)) unit = 'cycles';
  const ev: EventInfo = { name, unit, periodPerSample: meanPeriod };
  const hz = opts.frequencyHz ?? (a?.freq ? a.sampleFreq : undefined);
  if (hz !== undefined) ev.frequencyHz = hz;
  if (opts.fallbackReason !== undefined) ev.fallbackReason = opts.fallbackReason;
  return ev;
}

/**
 * Which mapped file of the recording is the binary: its path (or the same file), else its
 * build id, else the file most samples' user ips fall in (a binary fetched into a cache has
 * another name than the one the process ran).
 */
function findBinaryFile(
  d: PerfData,
  idx: MappingIndex,
  bin: LoadedBinary,
  attrIndex: number,
): { file: string | undefined; bySamples: boolean } {
  const files = new Set<string>();
  for (const m of d.mmaps) if (isExecMmap(m)) files.add(m.filename);
  for (const f of files) if (sameFile(f, bin.path)) return { file: f, bySamples: false };
  const ids = [bin.info.buildId, bin.info.goBuildId].filter((x): x is string => !!x);
  for (const m of d.mmaps) if (m.buildId && ids.includes(m.buildId)) return { file: m.filename, bySamples: false };
  for (const b of d.features.buildIds) if (ids.includes(b.buildId) && files.has(b.filename)) return { file: b.filename, bySamples: false };
  const hits = executableHits(d, idx, attrIndex);
  let best: string | undefined;
  for (const [f, n] of hits) if (best === undefined || n > hits.get(best)!) best = f;
  return { file: best, bySamples: true };
}

/**
 * How many of the innermost user frames of (up to 5,000 evenly spread) samples fall in each
 * mapped executable, shared libraries and [special] mappings left out; of one event if attrIndex ≥ 0.
 */
function executableHits(d: PerfData, idx: MappingIndex, attrIndex = -1): Map<string, number> {
  const hits = new Map<string, number>();
  const s = d.samples;
  const step = Math.max(1, Math.floor(s.count / 5000));
  for (let i = 0; i < s.count; i += step) {
    if (attrIndex >= 0 && s.attrIndex[i] !== attrIndex) continue;
    for (const a of userCallchain(d, i).slice(0, 4)) {
      const r = idx.resolve(s.pid[i]!, a);
      if (!r || !isExecMmap(r.mmap)) continue;
      const f = r.mmap.filename;
      if (f.startsWith('[') || /\.so(\.|$)/.test(path.basename(f))) continue;
      hits.set(f, (hits.get(f) ?? 0) + 1);
    }
  }
  return hits;
}

/**
 * The pc to look up for a return address, cached: the instruction after a call, so address − 1;
 * except at a function's first instruction (a signal frame's return into the sigreturn
 * trampoline), which no call precedes.
 */
export function returnAddressLookup(sym: Pick<Symbolizer, 'entryOf'>): (ret: number) => number {
  const cache = new NumberMap();
  return (ret) => {
    let k = cache.get(ret, UNSEEN);
    if (k === UNSEEN) {
      k = sym.entryOf(ret) === ret ? ret : ret - 1;
      cache.set(ret, k);
    }
    return k;
  };
}

/** What the aggregation asks of a binary's symbolizer. */
export function symbolizerFrames(sym: Symbolizer): FrameSource {
  return {
    frames: (pc) => sym.framesAt(pc),
    address: (pc) => `0x${pc.toString(16)}`,
    declarationAt: (pc) => sym.declarationAt(pc),
    declarationOf: (name) => sym.inlinedDeclarationOf(name),
  };
}

/** Per group's frameless-leaf outcome, as bits over these counters (applied per sample). */
const REPAIR_FIELDS = ['framelessLeafSamples', 'repaired', 'inferred', 'alreadyPresent', 'noWord', 'invalidWord'] as const;
const FRAMELESS_INFERRED = (1 << 0) | (1 << 2),
  FRAMELESS_NO_WORD = (1 << 0) | (1 << 4);

/** The mapped side of an ingest: valid for one binary, event, pid filter and recorded file. */
interface MappedGroups {
  key: string;
  bin: LoadedBinary;
  trie: StackTrie;
  aggregator: Aggregator;
  /** Per pid, raw address → final key (link-time address, minus one for return addresses; NaN: not in the binary). */
  caches: Map<number, { leaf: NumberMap; ret: NumberMap }>;
  /** Per group id: its trie node (≥ 1), or UNATTRIBUTED / CORRUPT; samples already added; frameless outcome bits. */
  node: number[];
  added: number[];
  repairBits: number[];
  /** The last pass took in every changed group (else the next one looks at every group). */
  complete: boolean;
  unattributed: number;
  corrupt: number;
  missing: CallerRepairCounts;
  /** Samples by how their unwinding ended (dwarf recordings), per group's representative. */
  unwindEnds: Record<UnwindEnd, number>;
  unwindEndOf: (UnwindEnd | undefined)[];
}

const UNATTRIBUTED = -1,
  CORRUPT = -2;
/** NumberMap.get's answer for an address not looked up yet (mapped addresses are ≥ 0 or NaN). */
const UNSEEN = -Infinity;

/**
 * What one ingest leaves for the next over the same recording grown longer (a stream's): the
 * samples grouped by callchain, each group mapped to the binary once, the stack trie, and the
 * aggregation, so the next ingest only does what the new samples add.
 */
export class PerfIngestState {
  readonly groups = new ChainGroups();
  /** @internal */
  mapped: MappedGroups | undefined;
  /** @internal A --call-graph dwarf recording's samples, unwound (see unwoundSamples.ts), and the mappings count its link map was made for. */
  unwound: { bin: LoadedBinary; samples: UnwoundSamples; mmaps: number; toLink: (pid: number, addr: number) => number } | undefined;
  /** @internal */
  binaryFile:
    | {
        bin: LoadedBinary;
        mmaps: number;
        attrIndex: number;
        idx: MappingIndex;
        file: string | undefined;
        bySamples: boolean;
        /** The recorder's ids it was matched with (JSON), and how it matched. */
        recordedIds: string;
        match: BinaryMatch | undefined;
      }
    | undefined;
}

/**
 * Builds the model from a parsed perf.data and the binary that was recorded. `state`: what an
 * earlier ingest of the same recording (fewer samples of it) left; by default a fresh one.
 */
export function ingestPerfData(
  d: PerfData,
  bin: LoadedBinary,
  opts: PerfIngestOptions = {},
  state: PerfIngestState = new PerfIngestState(),
): Profile {
  const m = mapSamples(d, bin, opts, state);
  return profileOf(d, bin, opts, m, m.st.aggregator.update(m.st.trie));
}

/**
 * Takes the samples `d` has gained since the last call into `state` (grouped, mapped,
 * aggregated) without building a model: the work a streamed recording does as it comes.
 */
export function advancePerfIngest(d: PerfData, bin: LoadedBinary, opts: PerfIngestOptions, state: PerfIngestState): void {
  const m = mapSamples(d, bin, opts, state);
  m.st.aggregator.advance(m.st.trie);
}

interface MappedSamples {
  st: MappedGroups;
  groups: ChainGroups;
  attrIndex: number;
  warnings: string[];
  frameless: boolean;
  unwound: UnwoundSamples | undefined;
}

/** Groups the new samples, maps the new groups to the binary, adds the new counts to the trie. */
function mapSamples(raw: PerfData, bin: LoadedBinary, opts: PerfIngestOptions, state: PerfIngestState): MappedSamples {
  const d = unwoundView(raw, bin, state);
  const warnings = [...(opts.warnings ?? [])];
  // Pass 1, per sample: group by raw callchain (the parser shares identical ones), so that each
  // distinct one (a few thousand, even in a million samples) is mapped and inserted once.
  const groups = state.groups.update(d);
  // The event with the most samples (recordings here have one).
  const perAttr = groups.samplesPerAttr(d.attrs.length);
  const attrIndex = perAttr.indexOf(Math.max(...perAttr));

  const known = binaryFileOf(d, bin, attrIndex, opts, state);
  const unchecked = known.match && uncheckedWarning(known.match, bin);
  if (unchecked) warnings.push(unchecked);
  if (known.file === undefined && d.samples.count > 0)
    warnings.push(`no sample's user frames fall in ${bin.path}: was it the recorded binary?`);

  const st = mappedGroupsOf(
    bin,
    JSON.stringify([attrIndex, opts.pid ?? null, known.file ?? null, opts.repairFramelessCallers !== false]),
    state,
  );
  // Samples whose leaf is where its function has no frame: the fp stack skips their caller.
  // (Unwound stacks are exact: nothing to repair.)
  const frameless = opts.repairFramelessCallers === false || state.unwound ? undefined : framelessIndexOf(bin);
  const mapGroup = groupMapper(d, bin, known, st, frameless);

  // Pass 2, per group: only the groups whose counts changed since the last pass; every group in
  // a first pass (or after a pass that did not finish).
  const changed = groups.takeChanged();
  const ids = st.complete ? changed : Array.from({ length: groups.size }, (_, g) => g);
  st.complete = false;
  for (const g of ids) {
    if (!groups.isOf(g, attrIndex, opts.pid)) continue;
    const count = groups.countOf(g);
    const delta = count - (st.added[g] ?? 0);
    if (delta === 0) continue;
    st.added[g] = count;
    if (st.node[g] === undefined) {
      // A new group: map its user frames and find its stack's trie node, once.
      const i = groups.sampleOf(g);
      const mapped = mapGroup(i);
      st.node[g] = mapped.node;
      st.repairBits[g] = mapped.bits;
      st.unwindEndOf[g] = state.unwound?.samples.endOfSample(i);
    }
    addGroupCount(st, g, delta);
  }
  st.complete = true;
  return { st, groups, attrIndex, warnings, frameless: frameless !== undefined, unwound: state.unwound?.samples };
}

type KnownBinaryFile = NonNullable<PerfIngestState['binaryFile']>;

/**
 * Which mapped file is the binary, and that it matches: asked again only when the mappings
 * changed (a streamed recording is taken in once a second), unless the samples decided it.
 */
function binaryFileOf(d: PerfData, bin: LoadedBinary, attrIndex: number, opts: PerfIngestOptions, state: PerfIngestState): KnownBinaryFile {
  const known = state.binaryFile;
  const recordedIds = JSON.stringify(opts.recordedIds ?? {});
  if (
    known &&
    known.bin === bin &&
    known.mmaps === d.mmaps.length &&
    known.attrIndex === attrIndex &&
    !known.bySamples &&
    known.recordedIds === recordedIds
  )
    return known;
  const idx = new MappingIndex(d);
  const found = findBinaryFile(d, idx, bin, attrIndex);
  const match = found.file !== undefined ? matchBinary(d, found.file, bin, opts.recordedIds) : undefined;
  return (state.binaryFile = {
    bin,
    mmaps: d.mmaps.length,
    attrIndex,
    idx,
    file: found.file,
    bySamples: found.bySamples,
    recordedIds,
    match,
  });
}

/** The mapped groups of this binary and key (event, pid filter, file, repair), kept or begun afresh. */
function mappedGroupsOf(bin: LoadedBinary, key: string, state: PerfIngestState): MappedGroups {
  if (state.mapped?.key === key && state.mapped.bin === bin) return state.mapped;
  return (state.mapped = {
    key,
    bin,
    trie: new StackTrie(),
    aggregator: new Aggregator(symbolizerFrames(bin.symbolizer)),
    caches: new Map(),
    node: [],
    added: [],
    repairBits: [],
    complete: false,
    unattributed: 0,
    corrupt: 0,
    missing: emptyRepairCounts(),
    unwindEnds: { bottom: 0, truncated: 0, notGo: 0, stackSwitch: 0, noTable: 0 },
    unwindEndOf: [],
  });
}

/**
 * Maps the user callchain of sample i to the binary's link-time addresses (return addresses
 * minus one; frames outside the binary dropped; a frameless leaf's caller put back where that is
 * exact) and inserts it into the trie: its node (or UNATTRIBUTED / CORRUPT) and frameless bits.
 */
function groupMapper(
  d: PerfData,
  bin: LoadedBinary,
  known: KnownBinaryFile,
  st: MappedGroups,
  frameless: FramelessIndex | undefined,
): (i: number) => { node: number; bits: number } {
  const { idx, file } = known;
  // raw address → link-time address (NaN: not in the binary).
  const segs = bin.segments;
  const toVaddr = (fileOffset: number): number => {
    for (const g of segs) if (fileOffset >= g.offset && fileOffset < g.offset + g.filesz) return fileOffset - g.offset + g.vaddr;
    return NaN;
  };
  const callerPc = returnAddressLookup(bin.symbolizer);
  const buf = new Float64Array(4096);
  const chain = new Float64Array(buf.length);
  return (i) => {
    const pid = d.samples.pid[i]!;
    let cache = st.caches.get(pid);
    if (!cache) st.caches.set(pid, (cache = { leaf: new NumberMap(), ret: new NumberMap() }));
    if (hasInvalidContext(d, i)) return { node: CORRUPT, bits: 0 };
    const len = userCallchainInto(d, i, chain);
    let n = 0;
    for (let j = 0; j < len; j++) {
      const a = chain[j]!;
      const m = j === 0 ? cache.leaf : cache.ret;
      let v = m.get(a, UNSEEN);
      if (v === UNSEEN) {
        const res = idx.resolve(pid, a);
        v = res && res.mmap.filename === file ? toVaddr(res.fileOffset) : NaN;
        if (j > 0 && !Number.isNaN(v)) v = callerPc(v);
        m.set(a, v);
      }
      if (!Number.isNaN(v)) buf[n++] = v;
    }
    if (n === 0) return { node: UNATTRIBUTED, bits: 0 };
    // A frameless leaf: the fp walk skipped its caller. Perf records no word at SP, so it is
    // put back only where that is exact (buf[1] is a return address minus one).
    const caller =
      frameless && len > 0 && buf[0] === cache.leaf.get(chain[0]!, NaN)
        ? frameless.callerWithoutWord(buf[0]!, n > 1 ? buf[1]! + 1 : undefined)
        : undefined;
    const bits = caller === undefined ? 0 : caller !== null ? FRAMELESS_INFERRED : FRAMELESS_NO_WORD;
    if (caller !== undefined && caller !== null && n < buf.length) {
      buf.copyWithin(2, 1, n);
      buf[1] = caller - 1;
      n++;
    }
    return { node: st.trie.insert(buf, n), bits };
  };
}

/** Adds delta more samples of group g: to its trie node, or to the unattributed (and corrupt) counts; and to its frameless and unwinding outcomes. */
function addGroupCount(st: MappedGroups, g: number, delta: number): void {
  const node = st.node[g]!;
  const end = st.unwindEndOf[g];
  if (end !== undefined && node >= 0) st.unwindEnds[end] += delta;
  if (node >= 0) st.trie.addCount(node, delta);
  else {
    st.unattributed += delta;
    if (node === CORRUPT) st.corrupt += delta;
  }
  const bits = st.repairBits[g]!;
  if (bits) for (let b = 0; b < REPAIR_FIELDS.length; b++) if (bits & (1 << b)) st.missing[REPAIR_FIELDS[b]!] += delta;
}

/**
 * A --call-graph dwarf recording (samples with user stack dumps) with its stacks unwound by
 * Go's frame tables; any other recording as it is.
 */
function unwoundView(d: PerfData, bin: LoadedBinary, state: PerfIngestState): PerfData {
  if (!d.userStacks) return d;
  let u = state.unwound;
  if (!u || u.bin !== bin) u = state.unwound = { bin, samples: new UnwoundSamples(bin.symbolizer), mmaps: -1, toLink: () => NaN };
  if (u.mmaps !== d.mmaps.length) {
    // The mapped file that is the binary (from the sampled ips: that is all these callchains hold).
    const idx = new MappingIndex(d);
    const { file } = findBinaryFile(d, idx, bin, -1);
    u.toLink = file === undefined ? () => NaN : linkAddressOf(idx, file, bin.segments);
    u.mmaps = d.mmaps.length;
  }
  return u.samples.view(d, u.toLink);
}

/** The model from the mapped samples and their aggregates. */
function profileOf(d: PerfData, bin: LoadedBinary, opts: PerfIngestOptions, m: MappedSamples, agg: Aggregates): Profile {
  const s = d.samples;
  const { st, attrIndex, warnings } = m;
  const rep = m.groups.totals(attrIndex, opts.pid);
  const total = rep.total;
  const unattributed = st.unattributed,
    corrupt = st.corrupt,
    missing = st.missing;
  if (agg.unsymbolizedSamples > 0)
    warnings.push(`${agg.unsymbolizedSamples} sample(s) fell in ${path.basename(bin.path)} at addresses no function covers`);
  if (d.truncated) {
    warnings.push(
      `the perf.data file is cut short at offset ${d.truncated.offset} (${d.truncated.reason}): the ${total} whole sample(s) before it were kept, anything after it is lost`,
    );
  }
  if (corrupt > 0)
    warnings.push(
      `${corrupt} sample(s) had a corrupt callchain (an invalid context value, from a frame-pointer walk gone astray) and, as perf does, their frames were dropped`,
    );
  if (d.lostSamples > 0) warnings.push(`perf lost ${d.lostSamples} sample(s) (ring buffer overflow)`);

  const target: NonNullable<Profile['target']> = { ...(opts.target ?? {}) };
  if (target.pid === undefined) {
    // One sample per callchain group: every sample of a group has its pid (a walk over all
    // samples took ~13 ms of a 160k-sample ingest, cold).
    const pids = new Set<number>();
    for (let g = 0; g < m.groups.size && pids.size < 2; g++) pids.add(s.pid[m.groups.sampleOf(g)]!);
    if (pids.size === 1) target.pid = [...pids][0]!;
  }
  if (target.cmdline === undefined && target.pid !== undefined) {
    const comm = d.comms.filter((c) => c.pid === target.pid).pop();
    if (comm) target.cmdline = comm.comm;
  }

  const p: Profile = {
    version: PROFILE_MODEL_VERSION,
    source: 'perf',
    event: eventInfoOf(d, attrIndex, total > 0 ? rep.periodSum / total : 0, opts),
    binary: bin.identity,
    durationNanos: total > 1 && Number.isFinite(rep.tMin) && Number.isFinite(rep.tMax) ? Math.round(rep.tMax - rep.tMin) : 0,
    totalSamples: total,
    lostSamples: d.lostSamples,
    unattributedSamples: unattributed,
    functions: agg.functions,
    lines: agg.lines,
    callTree: agg.callTree,
    stacks: agg.stacks,
  };
  if (Object.keys(target).length) p.target = target;
  if (opts.startTimeMs !== undefined) p.startTimeMs = opts.startTimeMs;
  if (m.unwound) describeUnwinding(p, m.unwound, st.unwindEnds, warnings);
  else p.stackMethod = 'frame pointers (perf record -g)';
  if (m.frameless) {
    p.missingCallerSamples = stillMissing(missing);
    p.repairedCallerSamples = missing.inferred;
    const w = missingCallerWarning(missing, total, 'perf');
    if (w) warnings.push(w);
  }
  if (warnings.length) p.warnings = warnings;
  return p;
}

/** The method, and what the unwinding of stack dumps could not do, counted and said. */
function describeUnwinding(p: Profile, u: UnwoundSamples, ends: Record<UnwindEnd, number>, warnings: string[]): void {
  const c = u.counts;
  p.stackMethod = `Go frame tables (pcsp) over perf's user-stack dumps (${c.requestedBytes} bytes per sample)`;
  const total = p.totalSamples;
  const share = (n: number): string => `${((100 * n) / Math.max(1, total)).toFixed(1)}% of samples (${n})`;
  const cut = ends.truncated + ends.notGo + ends.stackSwitch + ends.noTable;
  p.truncatedStackSamples = cut;
  p.missingCallerSamples = cut;
  if (ends.truncated)
    warnings.push(
      `${share(ends.truncated)} have truncated stacks: the ${c.requestedBytes}-byte stack dump ended before the bottom of the stack, so their outer callers are unknown (record with a larger dump: --call-graph dwarf,SIZE)`,
    );
  if (ends.stackSwitch)
    warnings.push(
      `${share(ends.stackSwitch)} have stacks cut at a switch of stacks (runtime.systemstack, morestack…): their callers on the goroutine's stack are not in the dump`,
    );
  if (ends.notGo) warnings.push(`${share(ends.notGo)} have stacks cut where the walk reached code outside Go (cgo, vdso, another library)`);
  if (ends.noTable) warnings.push(`${share(ends.noTable)} have stacks cut at a pc no Go frame table covers`);
  if (c.fpDisagreed > 0)
    warnings.push(`frame pointers disagreed with the unwound frames at ${c.fpDisagreed} of ${c.fpChecked} frames checked`);
}

/** The executable the recording mapped most, as a local path, when that file exists here. */
export function recordedBinaryPath(d: PerfData): string | undefined {
  const hits = executableHits(d, new MappingIndex(d));
  const ranked = [...hits].sort((a, b) => b[1] - a[1]).map(([f]) => f);
  for (const b of d.features.buildIds) if (isUserBuildIdEntry(b) && !ranked.includes(b.filename)) ranked.push(b.filename);
  return ranked.find((f) => fs.existsSync(f));
}

const KNOWN_CONTEXTS = new Set([-32, -128, -512, -2048, -2176, -2560]);

/**
 * perf rejects a whole callchain holding a value in the context-marker range that is no known
 * marker (thread__resolve_callchain_sample: "invalid callchain context"); so do we, so that
 * our counts are perf's.
 */
function hasInvalidContext(d: PerfData, i: number): boolean {
  const s = d.samples;
  const o = s.chainOffset[i]!,
    n = s.chainLength[i]!;
  for (let k = o; k < o + n; k++) {
    const x = s.chain[k]!;
    if (isContextMarker(x) && !KNOWN_CONTEXTS.has(x)) return true;
  }
  return false;
}
