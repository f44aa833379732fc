/**
 * struct perf_event_attr, read by its declared size (it grew from 64 bytes in perf's first
 * format to 136 bytes now; missing fields read as zero), and the event name perf derives.
 */
import type { ByteReader } from '../util/byteReader';
import type { PerfEventAttrInfo } from './perfDataTypes';

const ATTR_SIZE_VER0 = 64;

/** Reads one attr from r (positioned at its start; `avail` bytes belong to it). */
export function parseAttr(r: ByteReader, avail: number): PerfEventAttrInfo {
  const start = r.pos;
  if (avail < ATTR_SIZE_VER0) r.fail(`event attr of ${avail} bytes is shorter than the minimum ${ATTR_SIZE_VER0}`);
  const type = r.u32();
  let size = r.u32();
  if (size === 0) size = ATTR_SIZE_VER0;
  if (size < ATTR_SIZE_VER0) r.fail(`event attr declares size ${size} (< ${ATTR_SIZE_VER0})`, start + 4);
  const have = Math.min(size, avail);
  const u64At = (off: number): bigint => {
    if (off + 8 > have) return 0n;
    r.seek(start + off);
    return r.u64();
  };
  const u32At = (off: number): number => {
    if (off + 4 > have) return 0;
    r.seek(start + off);
    return r.u32();
  };
  const config = u64At(8);
  const periodOrFreq = u64At(16);
  const sampleType = u64At(24);
  const readFormat = u64At(32);
  const flags = u64At(40);
  const bit = (n: number): boolean => ((flags >> BigInt(n)) & 1n) === 1n;
  const branchSampleType = u64At(72);
  const sampleRegsUser = u64At(80);
  const sampleStackUser = u32At(88);
  const sampleRegsIntr = u64At(96);
  r.seek(start + have);
  const freq = bit(10);
  const a: PerfEventAttrInfo = {
    type,
    config,
    name: '',
    sampleType,
    readFormat,
    freq,
    ids: [],
    excludeUser: bit(4),
    excludeKernel: bit(5),
    excludeHv: bit(6),
    excludeCallchainKernel: bit(21),
    excludeCallchainUser: bit(22),
    sampleIdAll: bit(18),
    attrSize: size,
    sampleRegsUser,
    sampleRegsIntr,
    sampleStackUser,
    branchSampleType,
  };
  const pf = Number(periodOrFreq);
  if (freq) a.sampleFreq = pf;
  else a.samplePeriod = pf;
  precise.set(a, Number((flags >> 15n) & 3n));
  guestHost.set(a, { excludeHost: bit(19), excludeGuest: bit(20) });
  return a;
}

// Kept out of the public type: only eventName needs them.
const precise = new WeakMap<PerfEventAttrInfo, number>();
const guestHost = new WeakMap<PerfEventAttrInfo, { excludeHost: boolean; excludeGuest: boolean }>();

const HW = [
  'cycles',
  'instructions',
  'cache-references',
  'cache-misses',
  'branches',
  'branch-misses',
  'bus-cycles',
  'stalled-cycles-frontend',
  'stalled-cycles-backend',
  'ref-cycles',
];
const SW = [
  'cpu-clock',
  'task-clock',
  'page-faults',
  'context-switches',
  'cpu-migrations',
  'minor-faults',
  'major-faults',
  'alignment-faults',
  'emulation-faults',
  'dummy',
  'bpf-output',
  'cgroup-switches',
];

/** The name perf gives an event without EVENT_DESC (evsel__name + evsel__add_modifiers). */
export function eventName(a: PerfEventAttrInfo): string {
  const c = Number(a.config);
  let base: string;
  if (a.type === 0) base = HW[c] ?? `unknown-hardware:0x${a.config.toString(16)}`;
  else if (a.type === 1) base = SW[c] ?? `unknown-software:0x${a.config.toString(16)}`;
  else if (a.type === 2) base = `tracepoint:${a.config}`;
  else if (a.type === 4) base = `r${a.config.toString(16)}`;
  else base = `type${a.type}:0x${a.config.toString(16)}`;
  let mods = '';
  let excludeGuestDefault = false;
  if (a.excludeKernel || a.excludeUser || a.excludeHv) {
    if (!a.excludeKernel) mods += 'k';
    if (!a.excludeUser) mods += 'u';
    if (!a.excludeHv) mods += 'h';
    excludeGuestDefault = true;
  }
  const p = precise.get(a) ?? 0;
  if (p) {
    mods += 'p'.repeat(p);
    excludeGuestDefault = true;
  }
  const gh = guestHost.get(a);
  if (gh && (gh.excludeHost || gh.excludeGuest === excludeGuestDefault)) {
    if (!gh.excludeHost) mods += 'H';
    if (!gh.excludeGuest) mods += 'G';
  }
  return mods ? `${base}:${mods}` : base;
}
