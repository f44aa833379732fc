/**
 * One entry for front ends: a file that is a perf.data, a pprof profile or a session → the
 * model. The kind is sniffed from the bytes, not the name.
 */
import * as fs from 'node:fs';
import { parsePerfData } from '../formats/perfData';
import { decodePprof, isGzip } from '../formats/pprof';
import type { Profile } from '../model/profile';
import { looksLikeSession, parseSession } from '../model/session';
import { UserError } from '../util/userError';
import { ingestPerfData, recordedBinaryPath } from './fromPerfData';
import { ingestPprof } from './fromPprof';
import { loadBinary } from './loadBinary';

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

export function openProfileFile(file: string, opts: OpenInputOptions = {}): OpenedInput {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file}: ${(e as Error).message}`, undefined, 'input-unreadable');
  }
  const kind = sniffInput(bytes);
  if (kind === 'session') return { kind, profile: parseSession(Buffer.from(bytes).toString('utf8'), file).profile };
  if (kind === 'pprof') {
    const bin = opts.binary ? loadBinary(opts.binary) : undefined;
    return { kind, profile: ingestPprof(decodePprof(bytes), bin ? { binary: bin } : {}) };
  }
  if (kind === 'perf') {
    const d = parsePerfData(bytes);
    const binPath = opts.binary ?? recordedBinaryPath(d);
    if (!binPath) {
      throw new UserError(`${file} does not say which binary it recorded, or that binary is not on this machine`, 'pass the Go executable with --binary PATH', 'binary-unknown');
    }
    return { kind, profile: ingestPerfData(d, loadBinary(binPath)) };
  }
  throw new UserError(`${file} is not a perf.data, a pprof profile or a go-perf-lens session`, 'pass a file written by perf record, a pprof profile (.pb.gz) or a session (.json)', 'input-unknown');
}
