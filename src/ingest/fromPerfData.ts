/**
 * perf.data + a Go binary → the Profile model. The hot path: every sample's user callchain is
 * mapped through the recording's mmaps to the binary's link-time addresses (return addresses
 * minus one), deduplicated in a StackTrie, and only then symbolized, once per distinct address.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MappingIndex, type PerfData, type PerfMmap, userCallchain } from '../formats/perfData';
import { PROFILE_MODEL_VERSION, type EventInfo, type Profile } from '../model/profile';
import type { SourceFrame, Symbolizer } from '../symbolize/symbolizer';
import { parseElf } from '../formats/elf';
import { UserError } from '../util/userError';
import { aggregate, type FrameSource, StackTrie } from './aggregate';
import type { LoadedBinary } from './loadBinary';

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
}

const PAGE = 4096;
const PROT_EXEC = 4;

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

function isExecMmap(m: PerfMmap): boolean {
  if (m.pid === -1 || m.isData) return false;
  return m.prot === undefined || (m.prot & PROT_EXEC) !== 0;
}

function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return false;
  }
}

/**
 * Which mapped file of the recording is the binary: its path (or the same file), else its
 * build id, else the file most samples' user ips fall in (a binary fetched into a cache has
 * another name than the one the process ran).
 */
function findBinaryFile(d: PerfData, idx: MappingIndex, bin: LoadedBinary, attrIndex: number): string | undefined {
  const files = new Set<string>();
  for (const m of d.mmaps) if (isExecMmap(m)) files.add(m.filename);
  for (const f of files) if (sameFile(f, bin.path)) return f;
  const ids = [bin.info.buildId, bin.info.goBuildId].filter((x): x is string => !!x);
  for (const m of d.mmaps) if (m.buildId && ids.includes(m.buildId)) return m.filename;
  for (const b of d.features.buildIds) if (ids.includes(b.buildId) && files.has(b.filename)) return b.filename;
  const hits = new Map<string, number>();
  const s = d.samples;
  const step = Math.max(1, Math.floor(s.count / 5000));
  for (let i = 0; i < s.count; i += step) {
    if (s.attrIndex[i] !== attrIndex) continue;
    const chain = userCallchain(d, i);
    for (const a of chain.slice(0, 4)) {
      const r = idx.resolve(s.pid[i]!, a);
      if (!r || !isExecMmap(r.mmap)) continue;
      const f = r.mmap.filename;
      if (f.startsWith('[') || /\.so(\.|$)/.test(path.basename(f))) continue;
      hits.set(f, (hits.get(f) ?? 0) + 1);
    }
  }
  let best: string | undefined;
  for (const [f, n] of hits) if (best === undefined || n > hits.get(best)!) best = f;
  return best;
}

function recordedBuildId(d: PerfData, file: string): string | undefined {
  for (const m of d.mmaps) if (m.filename === file && m.buildId) return m.buildId;
  for (const b of d.features.buildIds) if (b.filename === file && b.pid !== -1) return b.buildId;
  return undefined;
}

/** The build id of the file now at `file`, if it is there and is an ELF (for error messages). */
function buildIdOnDisk(file: string): string | undefined {
  try {
    const elf = parseElf(fs.readFileSync(file));
    return elf.gnuBuildId ?? elf.goBuildId;
  } catch {
    return undefined;
  }
}

/**
 * Checks the binary is the one that was recorded: the recorded build id when perf kept one
 * (perf only knows GNU build ids, which Go binaries usually lack), and in any case that each
 * executable mapping of the file matches one of the binary's PT_LOAD segments in offset and size.
 */
function checkIdentity(d: PerfData, file: string, bin: LoadedBinary): void {
  const recorded = recordedBuildId(d, file);
  const ours = bin.info.buildId ?? bin.info.goBuildId;
  const mismatch = (why: string, recordedId: string | undefined): never => {
    throw new UserError(
      `the recording is of another binary than ${bin.path}: ${why}. ` +
        `Recorded binary ${file}: build id ${recordedId ?? 'not recorded by perf'}; given binary: build id ${ours ?? 'none'}.`,
      'pass the executable the process was running (--binary PATH); a rebuilt binary does not match an older recording',
      'binary-mismatch',
    );
  };
  if (recorded) {
    const mine = [bin.info.buildId, bin.info.goBuildId, bin.elf.gnuBuildId].filter(Boolean);
    if (!mine.includes(recorded)) mismatch('the build ids differ', recorded);
  }
  const text = bin.segments.filter((s) => s.flags & 1);
  // With an interpreter (PIE), the kernel first maps the whole image executable in one piece
  // and perf records only that exec mapping: its length is the image's span.
  const lo = Math.min(...bin.segments.map((s) => s.vaddr - (s.vaddr % PAGE)));
  const span = Math.max(...bin.segments.map((s) => Math.ceil((s.vaddr + s.memsz) / PAGE) * PAGE)) - lo;
  for (const m of d.mmaps) {
    if (m.filename !== file || !isExecMmap(m)) continue;
    const pgoff = Number(m.pgoff);
    const len = Number(m.len);
    const ok = text.some((s) => {
      const off0 = s.offset - (s.offset % PAGE);
      const end = s.offset + s.filesz;
      return off0 === pgoff && (Math.abs(Math.ceil(end / PAGE) * PAGE - off0 - len) < PAGE || (pgoff === 0 && Math.abs(span - len) < PAGE));
    });
    if (!ok) {
      const onDisk = sameFile(file, bin.path) ? undefined : buildIdOnDisk(file);
      mismatch(`its code mapping (file offset 0x${pgoff.toString(16)}, 0x${len.toString(16)} bytes) matches none of the binary's code segments`, recorded ?? (onDisk ? `${onDisk} (read now from the file at that path)` : undefined));
    }
  }
}

/** Symbolized frames of a link-time address; uses the gopclntab fast path when there is one. */
function framesFn(sym: Symbolizer): (pc: number) => readonly SourceFrame[] {
  const fast = (sym as unknown as { framesAt?: (pc: number) => SourceFrame[] }).framesAt;
  if (typeof fast === 'function') return (pc) => fast.call(sym, pc);
  return (pc) => sym.symbolize(BigInt(pc));
}

/** Builds the model from a parsed perf.data and the binary that was recorded. */
export function ingestPerfData(d: PerfData, bin: LoadedBinary, opts: PerfIngestOptions = {}): Profile {
  const s = d.samples;
  const warnings = [...(opts.warnings ?? [])];
  // The event with the most samples (recordings here have one).
  const perAttr = new Array<number>(Math.max(1, d.attrs.length)).fill(0);
  for (let i = 0; i < s.count; i++) perAttr[s.attrIndex[i]!]!++;
  const attrIndex = perAttr.indexOf(Math.max(...perAttr));

  const idx = new MappingIndex(d);
  const file = findBinaryFile(d, idx, bin, attrIndex);
  if (file !== undefined) checkIdentity(d, file, bin);
  else if (s.count > 0) warnings.push(`no sample's user frames fall in ${bin.path}: was it the recorded binary?`);

  // raw address → link-time address, per pid (NaN: not in the binary).
  const segs = bin.segments;
  const toVaddr = (fileOffset: number): number => {
    for (const g of segs) if (fileOffset >= g.offset && fileOffset < g.offset + g.filesz) return fileOffset - g.offset + g.vaddr;
    return NaN;
  };
  const caches = new Map<number, Map<number, number>>();
  // A return address is the instruction after a call, so look up address - 1; except where it
  // is a function's first instruction (a signal frame's return into the sigreturn trampoline),
  // which no call precedes.
  const retKey = new Map<number, number>();
  const callerPc = (v: number): number => {
    let k = retKey.get(v);
    if (k === undefined) {
      k = bin.symbolizer.functionAt(BigInt(v))?.lowPc === BigInt(v) ? v : v - 1;
      retKey.set(v, k);
    }
    return k;
  };
  const trie = new StackTrie();
  const buf = new Float64Array(4096);
  let total = 0, unattributed = 0, periodSum = 0;
  let tMin = Infinity, tMax = -Infinity;
  for (let i = 0; i < s.count; i++) {
    if (s.attrIndex[i] !== attrIndex) continue;
    const pid = s.pid[i]!;
    if (opts.pid !== undefined && pid !== opts.pid) continue;
    total++;
    periodSum += s.period[i]!;
    const t = s.time[i]!;
    if (t < tMin) tMin = t;
    if (t > tMax) tMax = t;
    let cache = caches.get(pid);
    if (!cache) caches.set(pid, (cache = new Map()));
    const chain = userCallchain(d, i);
    let n = 0;
    for (let j = 0; j < chain.length && n < buf.length; j++) {
      const a = chain[j]!;
      let v = cache.get(a);
      if (v === undefined) {
        const r = idx.resolve(pid, a);
        v = r && r.mmap.filename === file ? toVaddr(r.fileOffset) : NaN;
        cache.set(a, v);
      }
      if (Number.isNaN(v)) continue;
      buf[n++] = j === 0 ? v : callerPc(v);
    }
    if (n === 0) { unattributed++; continue; }
    trie.add(buf, n, 1);
  }

  const frames = framesFn(bin.symbolizer);
  const source: FrameSource = {
    frames: frames,
    address: (pc) => `0x${pc.toString(16)}`,
    declarationAt: (pc) => {
      const f = bin.symbolizer.functionAt(BigInt(pc));
      return f?.declFile && f.declLine ? { file: f.declFile, line1: f.declLine } : undefined;
    },
  };
  const agg = aggregate(trie, source);
  if (agg.unsymbolizedSamples > 0) warnings.push(`${agg.unsymbolizedSamples} sample(s) fell in ${path.basename(bin.path)} at addresses no function covers`);
  if (d.truncated) {
    warnings.push(`the perf.data file is cut short at offset ${d.truncated.offset} (${d.truncated.reason}): the ${total} whole sample(s) before it were kept, anything after it is lost`);
  }
  if (d.lostSamples > 0) warnings.push(`perf lost ${d.lostSamples} sample(s) (ring buffer overflow)`);

  const target: NonNullable<Profile['target']> = { ...(opts.target ?? {}) };
  if (target.pid === undefined) {
    const pids = new Set<number>();
    for (let i = 0; i < s.count && pids.size < 2; i++) pids.add(s.pid[i]!);
    if (pids.size === 1) target.pid = [...pids][0]!;
  }
  if (target.cmdline === undefined && target.pid !== undefined) {
    const comm = d.comms.filter((c) => c.pid === target.pid).pop();
    if (comm) target.cmdline = comm.comm;
  }

  const p: Profile = {
    version: PROFILE_MODEL_VERSION,
    source: 'perf',
    event: eventInfoOf(d, attrIndex, total > 0 ? periodSum / total : 0, opts),
    binary: bin.identity,
    durationNanos: total > 1 && Number.isFinite(tMin) && Number.isFinite(tMax) ? Math.round(tMax - tMin) : 0,
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
  if (warnings.length) p.warnings = warnings;
  return p;
}

/** The executable the recording mapped most, as a local path, when that file exists here. */
export function recordedBinaryPath(d: PerfData): string | undefined {
  const idx = new MappingIndex(d);
  const hits = new Map<string, number>();
  const s = d.samples;
  const step = Math.max(1, Math.floor(s.count / 5000));
  for (let i = 0; i < s.count; i += step) {
    for (const a of userCallchain(d, i).slice(0, 4)) {
      const r = idx.resolve(s.pid[i]!, a);
      if (!r || !isExecMmap(r.mmap)) continue;
      const f = r.mmap.filename;
      if (f.startsWith('[') || /\.so(\.|$)/.test(path.basename(f))) continue;
      hits.set(f, (hits.get(f) ?? 0) + 1);
    }
  }
  const ranked = [...hits].sort((a, b) => b[1] - a[1]).map(([f]) => f);
  for (const b of d.features.buildIds) if (b.pid !== -1 && !b.filename.startsWith('[') && !ranked.includes(b.filename)) ranked.push(b.filename);
  return ranked.find((f) => fs.existsSync(f));
}
