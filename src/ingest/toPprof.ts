/**
 * The model → pprof's profile.proto (export). Locations carry their inline chains innermost
 * first (Location.line[0] is the innermost frame, pprof's convention) and the mapping says it
 * has functions, files, lines and inline frames, so pprof never re-symbolizes them.
 */
import { contentionKindOfId, contentionSampleType } from '../model/contentionKind';
import { metricsOf, shownMetric, valuesOf } from '../model/metrics';
import type { MetricInfo, Profile } from '../model/profile';
import type { PprofLocation, PprofProfile, PprofSample, PprofValueType } from '../formats/pprof';

/** Function name of the one location that holds samples with no frame in the binary. */
export const UNATTRIBUTED_FUNCTION = '[not in the Go binary]';
export const COMMENT_PREFIX = 'go-perf-lens ';
/** Our comment naming a contention profile's kind ("block", "mutex"): its sample types do not say it. */
export const CONTENTION_COMMENT = 'contention';

/** The pprof value type of one sample's weight, from the event. */
export function weightType(p: Profile): PprofValueType {
  if (p.event.unit === 'nanoseconds') return { type: 'cpu', unit: 'nanoseconds' };
  if (p.event.unit === 'cycles') return { type: 'cycles', unit: 'count' };
  return { type: 'events', unit: 'count' };
}

/** pprof's sample type of a metric (the inverse of pprofMetrics' names). */
function sampleTypeOf(m: MetricInfo): PprofValueType {
  const type = m.id === 'cpu' ? 'samples' : m.id === 'cpu_time' ? 'cpu' : contentionSampleType(m.id);
  return { type, unit: m.event.unit === 'bytes' ? 'bytes' : m.event.unit === 'nanoseconds' ? 'nanoseconds' : 'count' };
}

/**
 * A profile of metrics other than CPU (a heap profile, a blocking recording) is written with
 * one sample type per metric, as Go writes them; CPU profiles as samples and their weight (the
 * period times the count).
 */
export function toPprof(p: Profile): PprofProfile {
  const metrics = metricsOf(p);
  const several = !metrics.every((m) => m.measures === 'cpu');
  const all = several ? metrics.map((m) => valuesOf(p, m.id)!) : [];
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
      samples.push({
        locationIds: st.map((l) => l + 1),
        values: several ? all.map((v) => v.stackCounts?.[i] ?? 0) : values(p.stacks!.counts[i]!),
        labels: [],
      }),
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
      const v = several ? all.map((x) => x.treeSelf[i]!) : values(t.selfSamples[i]!);
      if (several ? v.some((x) => x > 0) : t.selfSamples[i]! > 0) samples.push({ locationIds: path.slice(), values: v, labels: [] });
    }
  }
  const outside = several ? metrics.map((m) => m.unattributed ?? 0) : [p.unattributedSamples];
  if (outside.some((n) => n > 0)) {
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
    samples.push({ locationIds: [locations.length], values: several ? outside : values(p.unattributedSamples), labels: [] });
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
  const shown = sampleTypeOf(shownMetric(p));
  // Our own comments say what a CPU sample was; other metrics are what their sample types say.
  const comments = several ? [] : [`${COMMENT_PREFIX}event: ${p.event.name}`];
  comments.push(`${COMMENT_PREFIX}lost: ${p.lostSamples}`);
  if (!several && p.event.fallbackReason) comments.push(`${COMMENT_PREFIX}fallback: ${p.event.fallbackReason}`);
  const kind = metrics.map((m) => contentionKindOfId(m.id)).find((k) => k !== undefined);
  if (kind) comments.push(`${COMMENT_PREFIX}${CONTENTION_COMMENT}: ${kind}`);
  return {
    sampleTypes: several ? metrics.map(sampleTypeOf) : [{ type: 'samples', unit: 'count' }, weight],
    samples,
    mappings,
    locations,
    functions,
    dropFrames: '',
    keepFrames: '',
    timeNanos: p.startTimeMs !== undefined ? Math.round(p.startTimeMs * 1e6) : 0,
    durationNanos: p.durationNanos,
    periodType: several ? shown : weight,
    period: several ? 1 : period,
    comments,
    defaultSampleType: several ? shown.type : 'samples',
  };
}
