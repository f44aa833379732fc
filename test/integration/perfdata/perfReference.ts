/**
 * perf itself as the reference for the perf.data reader: record fixture programs, and read
 * back what `perf report -D` (raw records, in file order once sorted by offset) and
 * `perf script` (resolved callchains) say about the same file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

const MAX_BUFFER = 1 << 30;

export function havePerf(): boolean {
  return spawnSync('perf', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** `perf record ARGS -o OUT -- CMD...`; with pipeMode, `-o -` with stdout into OUT. */
export function perfRecord(out: string, args: string[], cmd: string[], pipeMode = false): void {
  if (pipeMode) {
    const fd = fs.openSync(out, 'w');
    try {
      const r = spawnSync('perf', ['record', ...args, '-o', '-', '--', ...cmd], { stdio: ['ignore', fd, 'pipe'] });
      if (r.status !== 0) throw new Error(`perf record (pipe) failed: ${r.stderr.toString()}`);
    } finally {
      fs.closeSync(fd);
    }
  } else {
    const r = spawnSync('perf', ['record', ...args, '-o', out, '--', ...cmd], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`perf record failed: ${r.stderr.toString()}`);
  }
}

function perf(args: string[]): string {
  return execFileSync('perf', args, { maxBuffer: MAX_BUFFER, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
}

export interface DumpSample {
  offset: number;
  size: number;
  time: number;
  misc: number;
  pid: number;
  tid: number;
  ip: bigint;
  period: number;
  /** Raw callchain entries, u64 as perf prints them. */
  chain: bigint[];
}

export interface DumpMmap {
  offset: number;
  line: string;
}

export interface PerfDump {
  samples: DumpSample[];
  /** MMAP/MMAP2 description lines ("PERF_RECORD_MMAP2 pid/tid: [...]: r-xp file"), by offset. */
  mmaps: DumpMmap[];
  /** "Aggregated stats": record type name (e.g. "SAMPLE", "MMAP2") → count. */
  stats: Map<string, number>;
  /** File offset of every record perf read. */
  recordOffsets: Set<number>;
}

const SAMPLE_RE =
  /^(-?\d+) 0x([0-9a-f]+) \[0x([0-9a-f]+)\]: PERF_RECORD_SAMPLE\(IP, 0x([0-9a-f]+)\): (-?\d+)\/(-?\d+): 0x([0-9a-f]+) period: (\d+) addr: /;
const MMAP_RE = /^-?\d+ 0x([0-9a-f]+) \[0x[0-9a-f]+\]: (PERF_RECORD_MMAP2? .*)$/;
const CHAIN_RE = /^\.\.\.\.\.\s+\d+: ([0-9a-f]+)$/;
const STAT_RE = /^\s+(\w+) events:\s+(\d+)/;

/** Parses `perf report -D`: every sample with its raw callchain, the mmaps, the record totals. */
export function perfDump(file: string): PerfDump {
  const out = perf(['report', '-D', '-i', file]);
  // In pipe mode perf counts offsets from after the 16-byte stream header; make them file offsets.
  const head = Buffer.alloc(16);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 16, 0);
  } finally {
    fs.closeSync(fd);
  }
  const base = head.readBigUInt64LE(8) === 16n ? 16 : 0;
  const samples: DumpSample[] = [];
  const mmaps: DumpMmap[] = [];
  const stats = new Map<string, number>();
  const recordOffsets = new Set<number>();
  let cur: DumpSample | undefined;
  let inStats = false;
  for (const line of out.split('\n')) {
    if (line.startsWith('Aggregated stats:')) {
      inStats = true;
      continue;
    }
    if (inStats) {
      // Only the first block (totals over all events); per-event blocks follow "<name> stats:".
      if (/^\S.* stats:$/.test(line)) {
        inStats = false;
        continue;
      }
      const m = STAT_RE.exec(line);
      if (m) stats.set(m[1]!, Number(m[2]));
      continue;
    }
    const c = cur && CHAIN_RE.exec(line);
    if (c && cur) {
      cur.chain.push(BigInt(`0x${c[1]}`));
      continue;
    }
    const s = SAMPLE_RE.exec(line);
    if (s) {
      cur = {
        offset: base + parseInt(s[2]!, 16),
        size: parseInt(s[3]!, 16),
        time: Number(s[1]),
        misc: parseInt(s[4]!, 16),
        pid: Number(s[5]),
        tid: Number(s[6]),
        ip: BigInt(`0x${s[7]}`),
        period: Number(s[8]),
        chain: [],
      };
      samples.push(cur);
      continue;
    }
    const raw = /^0x([0-9a-f]+)@/.exec(line);
    if (raw) recordOffsets.add(base + parseInt(raw[1]!, 16));
    const m = MMAP_RE.exec(line);
    if (m) mmaps.push({ offset: base + parseInt(m[1]!, 16), line: m[2]! });
    if (line.startsWith('0x') || line === '') cur = undefined;
  }
  samples.sort((a, b) => a.offset - b.offset);
  mmaps.sort((a, b) => a.offset - b.offset);
  return { samples, mmaps, stats, recordOffsets };
}

export interface ScriptSample {
  pid: number;
  tid: number;
  /** "505.293943849" as printed with --ns. */
  time: string;
  /** perf script's ip column: the callchain (map-relative for mapped user frames) or the ip alone. */
  ips: bigint[];
}

/** `perf script -F pid,tid,time,ip --ns`: samples in perf's (time) order. */
export function perfScript(file: string): ScriptSample[] {
  const out = perf(['script', '-i', file, '-F', 'pid,tid,time,ip', '--ns']);
  const res: ScriptSample[] = [];
  let cur: ScriptSample | undefined;
  for (const line of out.split('\n')) {
    const h = /^\s*(-?\d+)\/(-?\d+)\s+(\d+\.\d+):\s*([0-9a-f]*)\s*$/.exec(line);
    if (h) {
      cur = { pid: Number(h[1]), tid: Number(h[2]), time: h[3]!, ips: h[4] ? [BigInt(`0x${h[4]}`)] : [] };
      res.push(cur);
      continue;
    }
    // Pipe mode makes perf script add the symbol after the address; ignore it.
    const ip = /^\s+([0-9a-f]+)(\s.*)?$/.exec(line);
    if (ip && cur) cur.ips.push(BigInt(`0x${ip[1]}`));
  }
  return res;
}

/** `perf script --show-mmap-events` MMAP/MMAP2 lines, e.g. "PERF_RECORD_MMAP2 1/1: [...]: r-xp /bin/x". */
export function perfScriptMmaps(file: string): string[] {
  const out = perf(['script', '-i', file, '-F', 'pid,tid,time', '--ns', '--show-mmap-events']);
  return out
    .split('\n')
    .map((l) => /(PERF_RECORD_MMAP2? .*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);
}

/** `perf evlist -i FILE`: event names, one per attr. */
export function perfEvlist(file: string): string[] {
  return perf(['evlist', '-i', file])
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** `perf buildid-list -i FILE`: "buildid filename" lines that have a build id. */
export function perfBuildIds(file: string): string[] {
  return perf(['buildid-list', '-i', file])
    .split('\n')
    .map((l) => /^([0-9a-f]+) (.*)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]} ${m[2]}`);
}

/** `perf report --header-only`: "# key : value" lines as a map. */
export function perfHeader(file: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of perf(['report', '--header-only', '-i', file]).split('\n')) {
    const x = /^# ([^:]+?) : (.*)$/.exec(l);
    if (x) m.set(x[1]!, x[2]!.trim());
  }
  return m;
}
