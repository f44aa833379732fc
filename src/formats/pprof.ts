/**
 * pprof's profile.proto, encoded and decoded with protobufjs. The schema is defined here with
 * protobufjs' reflection API (field numbers as profile.proto publishes them), and the decoded
 * form resolves the string table, so callers deal in names rather than indices.
 */
import type * as protobufTypes from 'protobufjs';
import * as zlib from 'node:zlib';
import { UserError } from '../util/userError';
import { FormatError } from '../util/byteReader';

function buildSchema(): { profile: protobufTypes.Type } {
  // Loaded on first use: reading a perf.data or a session never needs protobufjs (~5 ms to load).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const protobuf = require('protobufjs') as typeof protobufTypes;
  const root = new protobuf.Root();
  const ns = root.define('perftools.profiles');
  const F = (name: string, id: number, type: string, repeated = false): protobufTypes.Field =>
    new protobuf.Field(
      name,
      id,
      type,
      repeated ? 'repeated' : undefined,
      undefined,
      repeated && type !== 'string' && /^(u?int|s?fixed)(32|64)|bool$/.test(type) ? { packed: true } : undefined,
    );
  const valueType = new protobuf.Type('ValueType').add(F('type', 1, 'int64')).add(F('unit', 2, 'int64'));
  const label = new protobuf.Type('Label')
    .add(F('key', 1, 'int64'))
    .add(F('str', 2, 'int64'))
    .add(F('num', 3, 'int64'))
    .add(F('numUnit', 4, 'int64'));
  const sample = new protobuf.Type('Sample')
    .add(F('locationId', 1, 'uint64', true))
    .add(F('value', 2, 'int64', true))
    .add(F('label', 3, 'Label', true));
  const mapping = new protobuf.Type('Mapping')
    .add(F('id', 1, 'uint64'))
    .add(F('memoryStart', 2, 'uint64'))
    .add(F('memoryLimit', 3, 'uint64'))
    .add(F('fileOffset', 4, 'uint64'))
    .add(F('filename', 5, 'int64'))
    .add(F('buildId', 6, 'int64'))
    .add(F('hasFunctions', 7, 'bool'))
    .add(F('hasFilenames', 8, 'bool'))
    .add(F('hasLineNumbers', 9, 'bool'))
    .add(F('hasInlineFrames', 10, 'bool'));
  const line = new protobuf.Type('Line')
    .add(F('functionId', 1, 'uint64'))
    .add(F('line', 2, 'int64'))
    .add(F('column', 3, 'int64'));
  const location = new protobuf.Type('Location')
    .add(F('id', 1, 'uint64'))
    .add(F('mappingId', 2, 'uint64'))
    .add(F('address', 3, 'uint64'))
    .add(F('line', 4, 'Line', true))
    .add(F('isFolded', 5, 'bool'));
  const fn = new protobuf.Type('Function')
    .add(F('id', 1, 'uint64'))
    .add(F('name', 2, 'int64'))
    .add(F('systemName', 3, 'int64'))
    .add(F('filename', 4, 'int64'))
    .add(F('startLine', 5, 'int64'));
  const profile = new protobuf.Type('Profile')
    .add(F('sampleType', 1, 'ValueType', true))
    .add(F('sample', 2, 'Sample', true))
    .add(F('mapping', 3, 'Mapping', true))
    .add(F('location', 4, 'Location', true))
    .add(F('function', 5, 'Function', true))
    .add(F('stringTable', 6, 'string', true))
    .add(F('dropFrames', 7, 'int64'))
    .add(F('keepFrames', 8, 'int64'))
    .add(F('timeNanos', 9, 'int64'))
    .add(F('durationNanos', 10, 'int64'))
    .add(F('periodType', 11, 'ValueType'))
    .add(F('period', 12, 'int64'))
    .add(F('comment', 13, 'int64', true))
    .add(F('defaultSampleType', 14, 'int64'));
  for (const t of [valueType, label, sample, mapping, line, location, fn, profile]) ns.add(t);
  root.resolveAll();
  return { profile };
}

let schema: { profile: protobufTypes.Type } | undefined;
function profileType(): protobufTypes.Type {
  schema ??= buildSchema();
  return schema.profile;
}

export interface PprofValueType {
  type: string;
  unit: string;
}
export interface PprofLabel {
  key: string;
  str?: string;
  num?: number;
  numUnit?: string;
}
export interface PprofSample {
  locationIds: number[];
  values: number[];
  labels: PprofLabel[];
}
export interface PprofMapping {
  id: number;
  memoryStart: number;
  memoryLimit: number;
  fileOffset: number;
  filename: string;
  buildId: string;
  hasFunctions: boolean;
  hasFilenames: boolean;
  hasLineNumbers: boolean;
  hasInlineFrames: boolean;
}
export interface PprofLine {
  functionId: number;
  line: number;
  column: number;
}
/** `lines` innermost first (Location.line[0] is the innermost inlined frame). */
export interface PprofLocation {
  id: number;
  mappingId: number;
  address: number;
  lines: PprofLine[];
  isFolded: boolean;
}
export interface PprofFunction {
  id: number;
  name: string;
  systemName: string;
  filename: string;
  startLine: number;
}

/** A profile.proto message with its string table resolved. Ids are as in the file (1-based). */
export interface PprofProfile {
  sampleTypes: PprofValueType[];
  samples: PprofSample[];
  mappings: PprofMapping[];
  locations: PprofLocation[];
  functions: PprofFunction[];
  dropFrames: string;
  keepFrames: string;
  timeNanos: number;
  durationNanos: number;
  periodType?: PprofValueType;
  period: number;
  comments: string[];
  defaultSampleType: string;
}

type Raw = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === 'number' ? v : v === undefined || v === null ? 0 : Number(v));
const arr = (v: unknown): Raw[] => (Array.isArray(v) ? (v as Raw[]) : []);

/** True for gzip data (pprof files are usually gzipped). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The most a gzipped profile may inflate to. Real profiles are far smaller (Go's own are a few
 * MB); a few MB of gzip can hold gigabytes of zeros, which would take the machine's memory.
 */
export const MAX_PPROF_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

/**
 * Decodes a profile.proto message, gunzipping first when the bytes are gzip. Inflating stops as
 * soon as the output passes maxDecompressedBytes (zlib works in 16 KiB steps and checks after
 * each), so a gzip bomb costs at most that much memory.
 */
export function decodePprof(input: Uint8Array, maxDecompressedBytes = MAX_PPROF_DECOMPRESSED_BYTES): PprofProfile {
  let bytes = input;
  if (isGzip(bytes)) {
    try {
      bytes = zlib.gunzipSync(bytes, { maxOutputLength: maxDecompressedBytes });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        const mb = Math.round(maxDecompressedBytes / (1024 * 1024));
        throw new UserError(
          `the pprof profile is larger than ${mb} MB when decompressed (from ${input.length} bytes of gzip): reading stopped there, to protect this machine's memory`,
          'real profiles are far smaller; if you trust this one, decompress it yourself (gunzip -c FILE > FILE.pb) and open that',
          'input-too-large',
        );
      }
      throw new FormatError(`corrupt gzip data: ${(e as Error).message}`, 'pprof (gzip)', 0);
    }
  }
  const T = profileType();
  let raw: Raw;
  try {
    raw = T.toObject(T.decode(bytes), { longs: Number, arrays: true, defaults: false }) as Raw;
  } catch (e) {
    throw new FormatError(`not a valid profile.proto message: ${(e as Error).message}`, 'pprof profile', 0);
  }
  const strings = (raw.stringTable as string[] | undefined) ?? [];
  if (strings.length > 0 && strings[0] !== '') {
    throw new FormatError('string_table[0] must be the empty string (is this a pprof profile?)', 'pprof profile', 0);
  }
  const str = (v: unknown): string => {
    const i = num(v);
    if (i < 0 || i >= Math.max(1, strings.length))
      throw new FormatError(`string index ${i} outside the string table (${strings.length})`, 'pprof profile', 0);
    return strings[i] ?? '';
  };
  const vt = (v: Raw): PprofValueType => ({ type: str(v.type), unit: str(v.unit) });
  const p: PprofProfile = {
    sampleTypes: arr(raw.sampleType).map(vt),
    samples: arr(raw.sample).map((s) => ({
      locationIds: ((s.locationId as unknown[]) ?? []).map(num),
      values: ((s.value as unknown[]) ?? []).map(num),
      labels: arr(s.label).map((l) => {
        const out: PprofLabel = { key: str(l.key) };
        if (l.str !== undefined) out.str = str(l.str);
        if (l.num !== undefined) out.num = num(l.num);
        if (l.numUnit !== undefined) out.numUnit = str(l.numUnit);
        return out;
      }),
    })),
    mappings: arr(raw.mapping).map((m) => ({
      id: num(m.id),
      memoryStart: num(m.memoryStart),
      memoryLimit: num(m.memoryLimit),
      fileOffset: num(m.fileOffset),
      filename: str(m.filename),
      buildId: str(m.buildId),
      hasFunctions: m.hasFunctions === true,
      hasFilenames: m.hasFilenames === true,
      hasLineNumbers: m.hasLineNumbers === true,
      hasInlineFrames: m.hasInlineFrames === true,
    })),
    locations: arr(raw.location).map((l) => ({
      id: num(l.id),
      mappingId: num(l.mappingId),
      address: num(l.address),
      isFolded: l.isFolded === true,
      lines: arr(l.line).map((ln) => ({ functionId: num(ln.functionId), line: num(ln.line), column: num(ln.column) })),
    })),
    functions: arr(raw.function).map((f) => ({
      id: num(f.id),
      name: str(f.name),
      systemName: str(f.systemName),
      filename: str(f.filename),
      startLine: num(f.startLine),
    })),
    dropFrames: str(raw.dropFrames),
    keepFrames: str(raw.keepFrames),
    timeNanos: num(raw.timeNanos),
    durationNanos: num(raw.durationNanos),
    period: num(raw.period),
    comments: ((raw.comment as unknown[]) ?? []).map(str),
    defaultSampleType: str(raw.defaultSampleType),
  };
  if (raw.periodType) p.periodType = vt(raw.periodType as Raw);
  for (const s of p.samples) {
    if (s.values.length !== p.sampleTypes.length) {
      throw new FormatError(`a sample has ${s.values.length} value(s) for ${p.sampleTypes.length} sample type(s)`, 'pprof profile', 0);
    }
  }
  return p;
}

/** Encodes to profile.proto bytes (not compressed; see gzipPprof). */
export function encodePprof(p: PprofProfile): Uint8Array {
  const strings: string[] = [''];
  const index = new Map<string, number>([['', 0]]);
  const s = (v: string): number => {
    let i = index.get(v);
    if (i === undefined) {
      i = strings.length;
      strings.push(v);
      index.set(v, i);
    }
    return i;
  };
  const vt = (v: PprofValueType) => ({ type: s(v.type), unit: s(v.unit) });
  const msg: Raw = {
    sampleType: p.sampleTypes.map(vt),
    sample: p.samples.map((x) => ({
      locationId: x.locationIds,
      value: x.values,
      label: x.labels.map((l) => ({
        key: s(l.key),
        ...(l.str !== undefined ? { str: s(l.str) } : {}),
        ...(l.num !== undefined ? { num: l.num } : {}),
        ...(l.numUnit !== undefined ? { numUnit: s(l.numUnit) } : {}),
      })),
    })),
    mapping: p.mappings.map((m) => ({
      id: m.id,
      memoryStart: m.memoryStart,
      memoryLimit: m.memoryLimit,
      fileOffset: m.fileOffset,
      filename: s(m.filename),
      buildId: s(m.buildId),
      hasFunctions: m.hasFunctions,
      hasFilenames: m.hasFilenames,
      hasLineNumbers: m.hasLineNumbers,
      hasInlineFrames: m.hasInlineFrames,
    })),
    location: p.locations.map((l) => ({
      id: l.id,
      mappingId: l.mappingId,
      address: l.address,
      isFolded: l.isFolded,
      line: l.lines.map((ln) => ({ functionId: ln.functionId, line: ln.line, ...(ln.column ? { column: ln.column } : {}) })),
    })),
    function: p.functions.map((f) => ({
      id: f.id,
      name: s(f.name),
      systemName: s(f.systemName),
      filename: s(f.filename),
      startLine: f.startLine,
    })),
    dropFrames: s(p.dropFrames),
    keepFrames: s(p.keepFrames),
    timeNanos: p.timeNanos,
    durationNanos: p.durationNanos,
    period: p.period,
    comment: p.comments.map(s),
    defaultSampleType: s(p.defaultSampleType),
  };
  if (p.periodType) msg.periodType = vt(p.periodType);
  msg.stringTable = strings;
  const T = profileType();
  return T.encode(T.fromObject(msg)).finish();
}

export function gzipPprof(p: PprofProfile): Uint8Array {
  return zlib.gzipSync(encodePprof(p));
}
