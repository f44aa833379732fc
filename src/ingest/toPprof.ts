/**
 * The model → pprof's profile.proto (export). Locations carry their inline chains innermost
 * first (Location.line[0] is the innermost frame, pprof's convention) and the mapping says it
 * has functions, files, lines and inline frames, so pprof never re-symbolizes them.
 */
import type { Profile } from '../model/profile';
import type { PprofLocation, PprofProfile, PprofSample, PprofValueType } from '../formats/pprof';

/** Function name of the one location that holds samples with no frame in the binary. */
export const UNATTRIBUTED_FUNCTION = '[not in the Go binary]';
export const COMMENT_PREFIX = 'go-perf-lens ';

/** The pprof value type of one sample's weight, from the event. */
export function weightType(p: Profile): PprofValueType {
  if (p.event.unit === 'nanoseconds') return { type: 'cpu', unit: 'nanoseconds' };
  if (p.event.unit === 'cycles') return { type: 'cycles', unit: 'count' };
  return { type: 'events', unit: 'count' };
}

export function toPprof(p: Profile): PprofProfile {
  const weight = weightType(p);
  const period = Math.round(p.event.periodPerSample) || 1;
  const functions = p.functions.map((f, i) => ({
    id: i + 1,
    name: f.name,
    systemName: f.name,
    filename: f.file ?? '',
    startLine: f.line1 ?? 0,
  }));
  const locations: PprofLocation[] = [];
  const samples: PprofSample[] = [];
  const values = (n: number): number[] => [n, n * period];
  let minAddr = Infinity,
    maxAddr = -Infinity;

  // pprof's Line has no file of its own: a frame in another file than its function's gets a
  // Function of the same name with that file.
  const extra = new Map<string, number>();
  const functionIdOf = (f: { function: number; file?: string }): number => {
    if (f.file === undefined) return f.function + 1;
    const key = `${f.function}\0${f.file}`;
    let id = extra.get(key);
    if (id === undefined) {
      const base = p.functions[f.function]!;
      id = functions.length + 1;
      functions.push({ id, name: base.name, systemName: base.name, filename: f.file, startLine: 0 });
      extra.set(key, id);
    }
    return id;
  };
  if (p.stacks) {
    for (const [i, l] of p.stacks.locations.entries()) {
      const address = l.address ? Number.parseInt(l.address, 16) : 0;
      if (address) {
        minAddr = Math.min(minAddr, address);
        maxAddr = Math.max(maxAddr, address);
      }
      locations.push({
        id: i + 1,
        mappingId: address ? 1 : 0,
        address,
        isFolded: false,
        lines: l.frames.map((f) => ({ functionId: functionIdOf(f), line: f.line1, column: 0 })),
      });
    }
    p.stacks.stacks.forEach((st, i) =>
      samples.push({ locationIds: st.map((l) => l + 1), values: values(p.stacks!.counts[i]!), labels: [] }),
    );
  } else {
    // Aggregates only: one location per call-tree node (its function, the line it calls from).
    const t = p.callTree;
    const path: number[] = [];
    for (let i = 0; i < t.parents.length; i++) {
      const callLineOfChild = t.callLines.findIndex((_, j) => t.parents[j] === i);
      locations.push({
        id: i + 1,
        mappingId: 0,
        address: 0,
        isFolded: false,
        lines: [{ functionId: t.functions[i]! + 1, line: callLineOfChild >= 0 ? t.callLines[callLineOfChild]! : 0, column: 0 }],
      });
      path.length = 0;
      for (let n = i; n >= 0; n = t.parents[n]!) path.push(n + 1);
      if (t.selfSamples[i]! > 0) samples.push({ locationIds: path.slice(), values: values(t.selfSamples[i]!), labels: [] });
    }
  }
  if (p.unattributedSamples > 0) {
    functions.push({
      id: functions.length + 1,
      name: UNATTRIBUTED_FUNCTION,
      systemName: UNATTRIBUTED_FUNCTION,
      filename: '',
      startLine: 0,
    });
    locations.push({
      id: locations.length + 1,
      mappingId: 0,
      address: 0,
      isFolded: false,
      lines: [{ functionId: functions.length, line: 0, column: 0 }],
    });
    samples.push({ locationIds: [locations.length], values: values(p.unattributedSamples), labels: [] });
  }

  const b = p.binary;
  const mappings =
    b && Number.isFinite(minAddr)
      ? [
          {
            id: 1,
            memoryStart: minAddr,
            memoryLimit: maxAddr + 1,
            fileOffset: 0,
            filename: b.path,
            buildId: b.buildId ?? b.goBuildId ?? '',
            hasFunctions: true,
            hasFilenames: true,
            hasLineNumbers: true,
            hasInlineFrames: true,
          },
        ]
      : [];
  const comments = [`${COMMENT_PREFIX}event: ${p.event.name}`, `${COMMENT_PREFIX}lost: ${p.lostSamples}`];
  if (p.event.fallbackReason) comments.push(`${COMMENT_PREFIX}fallback: ${p.event.fallbackReason}`);
  return {
    sampleTypes: [{ type: 'samples', unit: 'count' }, weight],
    samples,
    mappings,
    locations,
    functions,
    dropFrames: '',
    keepFrames: '',
    timeNanos: p.startTimeMs !== undefined ? Math.round(p.startTimeMs * 1e6) : 0,
    durationNanos: p.durationNanos,
    periodType: weight,
    period,
    comments,
    defaultSampleType: 'samples',
  };
}
