/**
 * A profile fetched from a pprof endpoint → the model, tied to a local binary when one matches.
 * Go's profiles carry their own functions, files and lines; the binary adds its identity (Go
 * version, module, build ids) and symbolizes locations that carry only an address. The binary
 * is the one given, else the file the profile's main mapping names when it exists here and is
 * the one profiled: same build id when the profile has one (Go's own profiles usually do not),
 * else the same function at the profile's addresses.
 */
import * as fs from 'node:fs';
import { decodePprof, type PprofProfile } from '../formats/pprof';
import type { Profile } from '../model/profile';
import { FormatError } from '../util/byteReader';
import { UserError } from '../util/userError';
import { ingestPprof } from './fromPprof';
import { type LoadedBinary, loadBinary } from './loadBinary';

export interface EndpointIngestOptions {
  /** The profiled program's executable here (default: the profile's main mapping, when it matches). */
  binary?: string;
  /** pprof's sample_index by name (e.g. alloc_space); default the profile's own. */
  sampleType?: string;
}

/** How many of the profile's addresses a local binary is checked on. */
const CHECKED_LOCATIONS = 200;

export function ingestEndpointProfile(bytes: Uint8Array, source: string, opts: EndpointIngestOptions = {}): Profile {
  let pp: PprofProfile;
  try {
    pp = decodePprof(bytes);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    throw new UserError(
      `what ${source} sent is not a valid pprof profile: ${e.message}`,
      'check that the URL names a profile endpoint (/debug/pprof/profile, /heap, /allocs, /block, /mutex, /goroutine)',
      'endpoint-not-profile',
    );
  }
  const warnings: string[] = [];
  const bin = opts.binary ? loadBinary(opts.binary) : localBinary(pp, warnings);
  const profile = ingestPprof(pp, {
    name: source,
    ...(bin ? { binary: bin } : {}),
    ...(opts.sampleType ? { sampleType: opts.sampleType } : {}),
  });
  if (warnings.length) profile.warnings = [...warnings, ...(profile.warnings ?? [])];
  return profile;
}

/** The main mapping: the first one backed by a file (not [vdso], not a shared library). */
function mainMapping(pp: PprofProfile): PprofProfile['mappings'][number] | undefined {
  return pp.mappings.find((m) => m.filename.startsWith('/') && !/\.so(\.|$)/.test(m.filename));
}

function localBinary(pp: PprofProfile, warnings: string[]): LoadedBinary | undefined {
  const m = mainMapping(pp);
  if (!m || !fs.existsSync(m.filename)) return undefined;
  let bin: LoadedBinary;
  try {
    bin = loadBinary(m.filename);
  } catch (e) {
    if (e instanceof UserError || e instanceof FormatError) {
      warnings.push(
        `${m.filename} is here but could not be read as the profiled binary (${e.message}): files and lines come from the profile`,
      );
      return undefined;
    }
    throw e;
  }
  const verdict = matches(pp, m, bin);
  if (verdict === true) return bin;
  warnings.push(`${m.filename} here is not the binary that was profiled (${verdict}): files and lines come from the profile itself`);
  return undefined;
}

/** true, or why not. */
function matches(pp: PprofProfile, m: PprofProfile['mappings'][number], bin: LoadedBinary): true | string {
  if (m.buildId) {
    const ids = [bin.info.buildId, bin.info.goBuildId].filter((x): x is string => !!x);
    return ids.includes(m.buildId) ? true : `the profile's build id is ${m.buildId}, the file's ${ids.join(' / ') || 'none'}`;
  }
  // No build id: the function the profile names at an address must be the one the file has there.
  const fnName = new Map(pp.functions.map((f) => [f.id, f.name]));
  let checked = 0,
    agree = 0;
  let example = '';
  for (const l of pp.locations) {
    if (checked >= CHECKED_LOCATIONS) break;
    if (l.mappingId !== m.id || !l.address || l.lines.length === 0) continue;
    const want = fnName.get(l.lines[l.lines.length - 1]!.functionId);
    if (!want) continue;
    checked++;
    const fileOffset = l.address - m.memoryStart + m.fileOffset;
    const seg = bin.segments.find((g) => fileOffset >= g.offset && fileOffset < g.offset + g.filesz);
    const vaddr = seg ? fileOffset - seg.offset + seg.vaddr : l.address;
    // Go writes return addresses for callers: after a call that ends its function (a panic helper)
    // that address is the next function's first byte, so the byte before it is checked too.
    const at = (a: number): string | undefined => bin.symbolizer.functionAt(BigInt(a))?.name;
    if (at(vaddr) === want || at(vaddr - 1) === want) agree++;
    else example ||= `; e.g. at 0x${l.address.toString(16)} the profile names ${want}, the file ${at(vaddr) ?? 'no function'}`;
  }
  if (checked === 0) return 'the profile has no addresses with names to check it against';
  return agree === checked ? true : `${checked - agree} of ${checked} sampled addresses name another function${example}`;
}
