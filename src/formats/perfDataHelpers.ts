/**
 * Questions ingest asks of a parsed perf.data: the user frames of a sample, and which mapped
 * file (and file offset) an address falls in.
 */
import type { PerfData, PerfMmap, PerfSamples } from './perfDataTypes';

/** The unsigned 64-bit value perf prints for an address stored as a signed double. */
export function toU64(x: number): bigint {
  return BigInt.asUintN(64, BigInt(x));
}

/** Chain entry j exactly, as the unsigned value perf prints. */
export function chainU64(s: PerfSamples, j: number): bigint {
  return s.chainWide.get(j) ?? toU64(s.chain[j]!);
}

/** Sample i's ip exactly, as the unsigned value perf prints. */
export function ipU64(s: PerfSamples, i: number): bigint {
  return s.ipWide.get(i) ?? toU64(s.ip[i]!);
}

/** True for PERF_CONTEXT_* markers (-4095 ≤ x < 0 in the signed view). */
export function isContextMarker(x: number): boolean {
  return x < 0 && x >= -4095;
}

const PERF_CONTEXT_USER = -512;

/**
 * The user-space frames of sample i, innermost first, context markers skipped: the sampled
 * user ip followed by return addresses (not yet minus one). With no callchain, the ip alone
 * when the sample was taken in user mode.
 */
export function userCallchain(d: PerfData, i: number): number[] {
  const out = new Float64Array(Math.max(1, d.samples.chainLength[i]!));
  return Array.from(out.subarray(0, userCallchainInto(d, i, out)));
}

/**
 * userCallchain written into `out` (no array per sample: ingest maps thousands of chains);
 * returns how many frames it wrote, at most out.length.
 */
export function userCallchainInto(d: PerfData, i: number, out: Float64Array): number {
  const s = d.samples;
  const n = s.chainLength[i]!;
  let k = 0;
  if (n === 0) {
    const ip = s.ip[i]!;
    if (s.cpumode[i] === 2 && !Number.isNaN(ip) && out.length > 0) out[k++] = ip;
    return k;
  }
  const off = s.chainOffset[i]!;
  const chain = s.chain;
  // Without any marker the whole chain is in the sample's own mode.
  let inUser = s.cpumode[i] === 2;
  for (let j = off; j < off + n && k < out.length; j++) {
    const x = chain[j]!;
    if (isContextMarker(x)) {
      inUser = x === PERF_CONTEXT_USER;
      continue;
    }
    if (inUser) out[k++] = x;
  }
  return k;
}

export interface ResolvedAddress {
  mmap: PerfMmap;
  /** Offset of the address in the mapped file: addr - start + pgoff (exact for user-space maps; kernel maps have huge pgoffs). For an ELF, the virtual address is fileOffset - p_offset + p_vaddr of the PT_LOAD that holds it (equal to addr for non-PIE Go binaries). */
  fileOffset: number;
}

interface Interval {
  start: number;
  end: number;
  m: PerfMmap;
}

function signed(x: bigint): number {
  return Number(BigInt.asIntN(64, x));
}

/**
 * Address → mapping for every pid of a recording. Later mmaps replace the parts of earlier
 * ones they overlap (as the kernel does); sample times are not considered, which is right for
 * the executable and shared libraries mapped before sampling. A forked child without its own
 * maps falls back to its parent's; negative (kernel) addresses fall back to pid -1's maps.
 */
export class MappingIndex {
  private readonly byPid = new Map<number, Interval[]>();
  private readonly parent = new Map<number, number>();

  constructor(d: PerfData) {
    for (const m of d.mmaps) {
      let list = this.byPid.get(m.pid);
      if (!list) this.byPid.set(m.pid, (list = []));
      overlay(list, { start: signed(m.start), end: signed(m.start) + Number(m.len), m });
    }
    for (const t of d.tasks) if (t.kind === 'fork' && t.pid !== t.ppid && !this.parent.has(t.pid)) this.parent.set(t.pid, t.ppid);
  }

  /** The mapping holding `addr` (signed double, as in PerfSamples) for process `pid`. */
  resolve(pid: number, addr: number): ResolvedAddress | undefined {
    const seen = new Set<number>();
    let p: number | undefined = pid;
    while (p !== undefined && !seen.has(p)) {
      seen.add(p);
      const hit = find(this.byPid.get(p), addr);
      if (hit) return hit;
      p = this.parent.get(p);
    }
    if (addr < 0 && pid !== -1) return find(this.byPid.get(-1), addr);
    return undefined;
  }

  /** The current maps of a pid, sorted by address (after overlaying), for diagnostics. */
  maps(pid: number): PerfMmap[] {
    return (this.byPid.get(pid) ?? []).map((iv) => iv.m);
  }
}

function find(list: Interval[] | undefined, addr: number): ResolvedAddress | undefined {
  if (!list) return undefined;
  let lo = 0,
    hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const iv = list[mid]!;
    if (addr < iv.start) hi = mid - 1;
    else if (addr >= iv.end) lo = mid + 1;
    else return { mmap: iv.m, fileOffset: addr - signed(iv.m.start) + Number(iv.m.pgoff) };
  }
  return undefined;
}

/** Inserts iv into the sorted, non-overlapping list, cutting what it covers out of older intervals. */
function overlay(list: Interval[], iv: Interval): void {
  if (!(iv.end > iv.start)) return;
  const out: Interval[] = [];
  for (const o of list) {
    if (o.end <= iv.start || o.start >= iv.end) {
      out.push(o);
      continue;
    }
    if (o.start < iv.start) out.push({ start: o.start, end: iv.start, m: o.m });
    if (o.end > iv.end) out.push({ start: iv.end, end: o.end, m: o.m });
  }
  out.push(iv);
  out.sort((a, b) => a.start - b.start);
  list.length = 0;
  list.push(...out);
}

/** One-off lookup; build a MappingIndex once when resolving many addresses. */
export function resolveMapping(d: PerfData, pid: number, addr: number): ResolvedAddress | undefined {
  return new MappingIndex(d).resolve(pid, addr);
}
