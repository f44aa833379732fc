/**
 * Hand-built pprof profiles for the tests: a test names the fields it is about, and every other
 * field is profile.proto's empty value (what decodePprof reads for an absent field).
 */
import type { PprofFunction, PprofLocation, PprofMapping, PprofProfile, PprofSample, PprofValueType } from '../../src/formats/pprof';

/** A profile with `fields` set and every other field empty (no periodType unless given). */
export function pprofProfile(fields: Partial<PprofProfile>): PprofProfile {
  return {
    sampleTypes: [],
    samples: [],
    mappings: [],
    locations: [],
    functions: [],
    dropFrames: '',
    keepFrames: '',
    timeNanos: 0,
    durationNanos: 0,
    period: 0,
    comments: [],
    defaultSampleType: '',
    ...fields,
  };
}

/** A sample without labels. */
export function pprofSample(locationIds: number[], values: number[]): PprofSample {
  return { locationIds, values, labels: [] };
}

/** A location at one line of function `fn`, with no mapping or address (as a symbolized profile may have). */
export function lineLocation(id: number, fn: number, line: number): PprofLocation {
  return { id, mappingId: 0, address: 0, isFolded: false, lines: [{ functionId: fn, line, column: 0 }] };
}

/** A function whose system name is its name (a Go function's). */
export function goFunction(id: number, name: string, filename: string, startLine: number): PprofFunction {
  return { id, name, systemName: name, filename, startLine };
}

/** Mapping 1: an executable at 0x400000-0x500000 whose functions, files, lines and inline frames are all symbolized. */
export function symbolizedMapping(filename: string, buildId: string): PprofMapping {
  return {
    id: 1,
    memoryStart: 0x400000,
    memoryLimit: 0x500000,
    fileOffset: 0,
    filename,
    buildId,
    hasFunctions: true,
    hasFilenames: true,
    hasLineNumbers: true,
    hasInlineFrames: true,
  };
}

/** The sample types of a Go heap (and allocs) profile, in runtime/pprof's order (a new array each call). */
export function heapSampleTypes(): PprofValueType[] {
  return [
    { type: 'alloc_objects', unit: 'count' },
    { type: 'alloc_space', unit: 'bytes' },
    { type: 'inuse_objects', unit: 'count' },
    { type: 'inuse_space', unit: 'bytes' },
  ];
}

/** The sample types of a Go block or mutex profile (a new array each call). */
export function contentionSampleTypes(): PprofValueType[] {
  return [
    { type: 'contentions', unit: 'count' },
    { type: 'delay', unit: 'nanoseconds' },
  ];
}
