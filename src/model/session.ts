/**
 * The session file: one Profile (plus where it came from) as versioned JSON, so a recording can
 * be reopened later, in the CLI or the extension, exactly as it was ingested.
 */
import * as fs from 'node:fs';
import { writeJsonInSlices } from '../util/jsonInSlices';
import { UserError } from '../util/userError';
import { distinguishContention } from './contentionKind';
import { PROFILE_MODEL_VERSION, Profile } from './profile';

export const SESSION_FORMAT = 'go-perf-lens-session';
/**
 * The newest version this build writes and reads. 1: one metric (CPU samples, or one pprof
 * sample type). 2: the profile may carry several metrics (Profile.metrics/metricValues). A
 * profile with one metric is still written as version 1, so older builds keep reading it.
 */
export const SESSION_VERSION = 2;

export interface SessionFile {
  format: typeof SESSION_FORMAT;
  version: 1 | typeof SESSION_VERSION;
  /** When the session was written (ms since epoch). */
  createdMs: number;
  /** Tool that wrote it, e.g. "go-perf-lens 0.1.0 record". */
  createdBy?: string;
  profile: Profile;
}

/** Thrown for files that are not sessions, come from another version, or are corrupt. */
export class SessionError extends UserError {
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(path ? `${path}: ${message}` : message, 'open a session file written by go-perf-lens record (or the extension)', 'bad-session');
    this.name = 'SessionError';
  }
}

export function makeSession(profile: Profile, createdBy?: string, createdMs = Date.now()): SessionFile {
  const several = (profile.metrics?.length ?? 0) > 1;
  const s: SessionFile = { format: SESSION_FORMAT, version: several ? SESSION_VERSION : 1, createdMs, profile };
  if (createdBy !== undefined) s.createdBy = createdBy;
  return s;
}

/** JSON text of a session (compact: sessions of long recordings get large). */
export function serializeSession(session: SessionFile): string {
  return JSON.stringify(session);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNumArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number');
}

/** Structural checks on the parts every reader relies on; returns a message or undefined. */
function checkProfile(p: unknown): string | undefined {
  if (!isObj(p)) return 'the "profile" field is missing or not an object';
  if (p.version !== PROFILE_MODEL_VERSION)
    return `profile model version ${String(p.version)} is not supported (this build reads ${PROFILE_MODEL_VERSION})`;
  if (!isObj(p.event) || typeof p.event.name !== 'string') return 'profile.event is missing';
  for (const k of ['durationNanos', 'totalSamples', 'lostSamples', 'unattributedSamples']) {
    if (typeof p[k] !== 'number') return `profile.${k} is missing or not a number`;
  }
  if (
    !Array.isArray(p.functions) ||
    !p.functions.every(
      (f) => isObj(f) && typeof f.name === 'string' && typeof f.selfSamples === 'number' && typeof f.cumSamples === 'number',
    )
  ) {
    return 'profile.functions is malformed';
  }
  if (!Array.isArray(p.lines) || !p.lines.every((l) => isObj(l) && typeof l.file === 'string' && typeof l.line1 === 'number')) {
    return 'profile.lines is malformed';
  }
  const t = p.callTree;
  if (!isObj(t)) return 'profile.callTree is missing';
  const n = Array.isArray(t.parents) ? t.parents.length : -1;
  for (const k of ['parents', 'functions', 'callLines', 'totalSamples', 'selfSamples']) {
    const a = t[k];
    if (!isNumArray(a) || a.length !== n) return `profile.callTree.${k} is malformed`;
  }
  const nf = p.functions.length;
  if (!(t.functions as number[]).every((f) => Number.isInteger(f) && f >= 0 && f < nf))
    return 'profile.callTree.functions points outside profile.functions';
  if (!(t.parents as number[]).every((q, i) => Number.isInteger(q) && q >= -1 && q < i))
    return 'profile.callTree.parents is not in pre-order';
  if (p.stacks !== undefined) {
    const s = p.stacks;
    if (
      !isObj(s) ||
      !Array.isArray(s.locations) ||
      !Array.isArray(s.stacks) ||
      !isNumArray(s.counts) ||
      s.stacks.length !== s.counts.length
    ) {
      return 'profile.stacks is malformed';
    }
    const nl = s.locations.length;
    if (!s.stacks.every((st) => isNumArray(st) && st.every((l) => Number.isInteger(l) && l >= 0 && l < nl)))
      return 'profile.stacks points outside its locations';
    if (
      !s.locations.every(
        (l) =>
          isObj(l) &&
          Array.isArray(l.frames) &&
          l.frames.every((f) => isObj(f) && typeof f.function === 'number' && f.function >= 0 && f.function < nf),
      )
    ) {
      return 'profile.stacks.locations is malformed';
    }
  }
  return checkMetrics(p, nf, p.lines.length, n, isObj(p.stacks) && Array.isArray(p.stacks.stacks) ? p.stacks.stacks.length : undefined);
}

/** The metric list and every metric's values, aligned with the profile's arrays. */
function checkMetrics(p: Record<string, unknown>, nf: number, nl: number, nt: number, ns: number | undefined): string | undefined {
  if (p.metrics === undefined) return p.metricValues === undefined ? undefined : 'profile.metricValues without profile.metrics';
  if (
    !Array.isArray(p.metrics) ||
    p.metrics.length === 0 ||
    !p.metrics.every(
      (m) => isObj(m) && typeof m.id === 'string' && typeof m.label === 'string' && typeof m.total === 'number' && isObj(m.event),
    )
  )
    return 'profile.metrics is malformed';
  const ids = p.metrics.map((m) => (m as { id: string }).id);
  if (new Set(ids).size !== ids.length) return 'profile.metrics names one metric twice';
  const shown = p.metric ?? ids[0];
  if (!ids.includes(shown as string)) return `profile.metric "${String(p.metric)}" is not one of its metrics`;
  const vals = p.metricValues ?? {};
  if (!isObj(vals)) return 'profile.metricValues is malformed';
  for (const id of ids) {
    if (id === shown) continue;
    const v = vals[id];
    if (!isObj(v)) return `profile.metricValues has no values for "${id}"`;
    const lengths: [string, number | undefined][] = [
      ['functionSelf', nf],
      ['functionCum', nf],
      ['lineSelf', nl],
      ['lineCum', nl],
      ['treeSelf', nt],
      ['treeTotal', nt],
      ['stackCounts', ns],
    ];
    for (const [k, len] of lengths) {
      if (k === 'stackCounts' && len === undefined && v[k] === undefined) continue;
      if (!isNumArray(v[k]) || (v[k] as number[]).length !== len) return `profile.metricValues["${id}"].${k} is malformed`;
    }
  }
  return undefined;
}

/** Parses and validates session text; `path` only names the file in errors. */
export function parseSession(text: string, path?: string): SessionFile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new SessionError(`not a Go Perf Lens session (not valid JSON: ${(e as Error).message})`, path);
  }
  if (!isObj(v) || v.format !== SESSION_FORMAT) {
    throw new SessionError(`not a Go Perf Lens session (the "format" field is not "${SESSION_FORMAT}")`, path);
  }
  if (v.version !== 1 && v.version !== SESSION_VERSION) {
    const newer = typeof v.version === 'number' && v.version > SESSION_VERSION;
    throw new SessionError(
      `session version ${String(v.version)} is not supported: this build reads version ${SESSION_VERSION}${newer ? ' (the file comes from a newer Go Perf Lens; update it)' : ''}`,
      path,
    );
  }
  if (typeof v.createdMs !== 'number') throw new SessionError('corrupt session: "createdMs" is missing', path);
  const problem = checkProfile(v.profile);
  if (problem) throw new SessionError(`corrupt session: ${problem}`, path);
  const session = v as unknown as SessionFile;
  // Written before block and mutex profiles were told apart: their generic metrics get their kind's ids.
  return { ...session, profile: distinguishContention(session.profile) };
}

/** True when the text looks like a session (cheap sniff for front ends choosing a reader). */
export function looksLikeSession(head: Uint8Array | string): boolean {
  const s = typeof head === 'string' ? head.slice(0, 200) : Buffer.from(head.subarray(0, 200)).toString('latin1');
  return /^\s*\{/.test(s) && s.includes(SESSION_FORMAT);
}

/** Writes a session file atomically (temp file + rename), so a reader never sees half a file. */
export function saveSession(path: string, session: SessionFile): void {
  const tmp = `${path}.tmp${process.pid}`;
  fs.writeFileSync(tmp, serializeSession(session));
  fs.renameSync(tmp, path);
}

/**
 * saveSession for a thread others wait on (the extension host): the text is written a slice at
 * a time, with the event loop running between slices (util/jsonInSlices), then renamed into place.
 */
export async function saveSessionInSlices(path: string, session: SessionFile): Promise<void> {
  const tmp = `${path}.tmp${process.pid}`;
  await writeJsonInSlices(tmp, session);
  await fs.promises.rename(tmp, path);
}

export function loadSession(path: string): SessionFile {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new SessionError(`cannot read the session: ${(e as Error).message}`, path);
  }
  return parseSession(text, path);
}
