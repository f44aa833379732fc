/**
 * Reads any profile file the extension opens — a saved session, a pprof profile (gzipped or
 * not), or a perf.data with its Go binary — into the model. No vscode import: the binary
 * picker is a callback, so this tests in Node.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodePprof } from '../formats/pprof';
import { parsePerfData } from '../formats/perfData';
import { ingestPerfData, recordedBinaryPath } from '../ingest/fromPerfData';
import { ingestPprof } from '../ingest/fromPprof';
import { loadBinary } from '../ingest/loadBinary';
import type { Profile } from '../model/profile';
import { looksLikeSession, loadSession } from '../model/session';
import { UserError } from '../util/userError';

export interface ReadProfile {
  profile: Profile;
  label: string;
}

const PPROF_FIRST_TAGS = new Set([0x0a, 0x12, 0x1a, 0x22, 0x2a, 0x32, 0x38, 0x40, 0x48, 0x50, 0x5a, 0x60, 0x68, 0x6a, 0x70]);

export type ProfileKind = 'session' | 'pprof' | 'perf.data';

/** What a file holds, from its first bytes. */
export function sniffProfile(head: Uint8Array): ProfileKind | undefined {
  if (looksLikeSession(head)) return 'session';
  if (head.length >= 8 && Buffer.from(head.subarray(0, 8)).toString('latin1') === 'PERFILE2') return 'perf.data';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'pprof';
  // An uncompressed pprof starts with the tag of one of profile.proto's Profile fields (1..14,
  // with its wire type); Go's own profiler writes time_nanos (field 9) first.
  if (head.length >= 1 && PPROF_FIRST_TAGS.has(head[0]!)) return 'pprof';
  return undefined;
}

/** Reads any supported profile file into the model; perf.data needs the binary (asked for when it is not where perf saw it). */
export async function readProfileFile(
  file: string,
  pickBinary: (recorded: string | undefined) => Promise<string | undefined>,
): Promise<ReadProfile> {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as Error).message}`, undefined, 'unreadable');
  }
  const kind = sniffProfile(bytes.subarray(0, 256));
  const label = path.basename(file);
  switch (kind) {
    case 'session': {
      const s = loadSession(file) as ReturnType<typeof loadSession> & { label?: string };
      return { profile: s.profile, label: s.label ?? label };
    }
    case 'pprof': {
      let pp;
      try {
        pp = decodePprof(bytes);
      } catch (e) {
        // Gzip is a clear signal; a first byte that merely looks like a protobuf tag is not.
        if (bytes[0] === 0x1f) throw e;
        throw new UserError(
          `${file} is not a profile Go Perf Lens knows`,
          'open a perf.data file, a pprof profile (.pb.gz) or a saved session (.json)',
          'unknown-format',
        );
      }
      return { profile: ingestPprof(pp, { name: file }), label };
    }
    case 'perf.data': {
      const data = parsePerfData(bytes);
      const found = recordedBinaryPath(data);
      // When the binary is gone, still tell the user which file perf saw (the first executable mapping).
      const recorded =
        found ??
        data.mmaps.find((m) => m.pid !== -1 && m.filename.startsWith('/') && !/\.so(\.|$)/.test(path.basename(m.filename)))?.filename;
      const binary = found && fs.existsSync(found) ? found : await pickBinary(recorded);
      if (!binary) throw new UserError('cancelled', undefined, 'cancelled');
      return { profile: ingestPerfData(data, loadBinary(binary)), label };
    }
    default:
      throw new UserError(
        `${file} is not a profile Go Perf Lens knows`,
        'open a perf.data file, a pprof profile (.pb.gz) or a saved session (.json)',
        'unknown-format',
      );
  }
}
