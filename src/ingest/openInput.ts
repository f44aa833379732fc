/**
 * One entry for front ends: a file that is a perf.data, a pprof profile or a session → the
 * model. The kind is sniffed from the bytes, not the name.
 */
import * as fs from 'node:fs';
import { parsePerfData, type PerfData } from '../formats/perfData';
import { decodePprof, isGzip } from '../formats/pprof';
import type { Profile } from '../model/profile';
import { looksLikeSession, parseSession } from '../model/session';
import { UserError } from '../util/userError';
import { ingestPerfData, recordedBinaryPath } from './fromPerfData';
import { ingestPprof } from './fromPprof';
import { loadBinary } from './loadBinary';
import { readPerfDataFile } from './readPerfDataFile';

export type InputKind = 'perf' | 'pprof' | 'session';

/** The kind of a profile file from its first bytes; undefined when it is none we read. */
export function sniffInput(bytes: Uint8Array): InputKind | undefined {
  const head = Buffer.from(bytes.subarray(0, 8)).toString('latin1');
  if (head === 'PERFILE2' || head === '2ELIFREP' || head === 'PERFFILE') return 'perf';
  if (looksLikeSession(bytes)) return 'session';
  if (isGzip(bytes)) return 'pprof';
  // An uncompressed profile.proto starts with field 1 (sample_type, length-delimited) or 2..6.
  if (bytes.length > 0 && (bytes[0]! & 7) === 2 && bytes[0]! >> 3 >= 1 && bytes[0]! >> 3 <= 6) return 'pprof';
  return undefined;
}

export interface OpenInputOptions {
  /** The Go binary (perf.data: default the recorded executable when it exists here). */
  binary?: string;
}

export interface OpenedInput {
  kind: InputKind;
  profile: Profile;
}

export function openProfileFile(path: string, opts: OpenInputOptions = {}): OpenedInput {
  const input = readInput(path);
  const file = path === '-' ? 'standard input' : path;
  if ('recording' in input) return { kind: 'perf', profile: ingestRecording(input.recording, file, opts) };
  const bytes = input.bytes;
  const kind = sniffInput(bytes);
  if (kind === 'session') return { kind, profile: parseSession(Buffer.from(bytes).toString('utf8'), file).profile };
  if (kind === 'pprof') {
    const bin = opts.binary ? loadBinary(opts.binary) : undefined;
    return { kind, profile: ingestPprof(decodePprof(bytes), { name: file, ...(bin ? { binary: bin } : {}) }) };
  }
  if (kind === 'perf') return { kind, profile: ingestRecording(parsePerfData(bytes), file, opts) };
  throw new UserError(
    `${file} is not a perf.data, a pprof profile or a go-perf-lens session`,
    'pass a file written by perf record, a pprof profile (.pb.gz) or a session (.json)',
    'input-unknown',
  );
}

/**
 * A file-mode perf.data parsed as it is read (never whole in memory), else the file's bytes.
 * `-` is standard input; a pipe or other stream (perf record -o - | …, /dev/stdin) cannot seek,
 * so it is read to its end first (perf's pipe mode, pprof and sessions all come this way).
 */
function readInput(file: string): { recording: PerfData } | { bytes: Uint8Array } {
  try {
    if (file === '-' || !fs.statSync(file).isFile()) return { bytes: readStream(file === '-' ? 0 : file) };
    return startsWith(file, 'PERFILE2') ? { recording: readPerfDataFile(file) } : { bytes: fs.readFileSync(file) };
  } catch (e) {
    if (!isFsError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file}: ${(e as Error).message}`,
      undefined,
      'input-unreadable',
    );
  }
}

function ingestRecording(d: PerfData, file: string, opts: OpenInputOptions): Profile {
  const binPath = opts.binary ?? recordedBinaryPath(d);
  if (!binPath) {
    throw new UserError(
      `${file} does not say which binary it recorded, or that binary is not on this machine`,
      'pass the Go executable with --binary PATH',
      'binary-unknown',
    );
  }
  const profile = ingestPerfData(d, loadBinary(binPath));
  // Every sample outside the binary: almost certainly not the binary that was recorded.
  if (profile.totalSamples > 0 && profile.unattributedSamples >= profile.totalSamples) {
    const recorded = recordedBinaryPath(d);
    profile.warnings = [
      ...(profile.warnings ?? []),
      `none of the ${profile.totalSamples} samples fell inside ${binPath}: ${recorded && recorded !== binPath ? `the recording names ${recorded}; ` : ''}pass the executable that was recorded with --binary`,
    ];
  }
  return profile;
}

/** Everything a stream gives until its end (EAGAIN, a non-blocking pipe with nothing yet: wait and read on). */
function readStream(source: number | string): Uint8Array {
  const fd = typeof source === 'number' ? source : fs.openSync(source, 'r');
  const chunks: Buffer[] = [];
  const pause = new Int32Array(new SharedArrayBuffer(4));
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(1 << 20);
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        Atomics.wait(pause, 0, 0, 10);
        continue;
      }
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
    }
  } finally {
    if (typeof source !== 'number') fs.closeSync(fd);
  }
  return Buffer.concat(chunks);
}

/** Whether the file's first bytes are `magic` (false when it is shorter). */
function startsWith(file: string, magic: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(magic.length);
    return fs.readSync(fd, b, 0, b.length, 0) === b.length && b.toString('latin1') === magic;
  } finally {
    fs.closeSync(fd);
  }
}

/** An error of the file system (ENOENT, EACCES, EISDIR...), as opposed to one of parsing. */
function isFsError(e: unknown): boolean {
  return (
    e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string'
  );
}
