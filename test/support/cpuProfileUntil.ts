/**
 * CPU profiles from a Go program's net/http/pprof endpoint, fetched until one holds what a test
 * needs: on a loaded machine the program gets little CPU in a profile's seconds and the profile has
 * few samples, so a condition on the samples decides, not the clock.
 */
import { decodePprof, PprofProfile } from '../../src/formats/pprof';

/**
 * Fetches `${base}/debug/pprof/profile?seconds=N` profiles one after another until `enough` holds
 * for one; returns that one (its bytes and decoded). Throws after `limitMs` with what the last
 * one held, so a program that never gets CPU fails clearly instead of hanging.
 */
export async function cpuProfileUntil(
  base: string,
  seconds: number,
  enough: (pp: PprofProfile) => boolean,
  limitMs = 120000,
): Promise<{ bytes: Uint8Array; pp: PprofProfile }> {
  const end = Date.now() + limitMs;
  for (let n = 1; ; n++) {
    const bytes = new Uint8Array(await (await fetch(`${base}/debug/pprof/profile?seconds=${seconds}`)).arrayBuffer());
    const pp = decodePprof(bytes);
    if (enough(pp)) return { bytes, pp };
    if (Date.now() > end)
      throw new Error(`${n} profiles of ${seconds} s in ${limitMs} ms, none enough: the last had ${pp.samples.length} samples`);
  }
}

/** The profile's sample count (its `samples` values added up). */
export function pprofSampleCount(pp: PprofProfile): number {
  const vi = pp.sampleTypes.findIndex((t) => t.type === 'samples');
  return pp.samples.reduce((n, s) => n + (s.values[vi] ?? 0), 0);
}

/** Whether some sample's innermost frame is in a file whose name ends with `suffix`. */
export function hasLeafIn(pp: PprofProfile, suffix: string): boolean {
  const fnById = new Map(pp.functions.map((f) => [f.id, f]));
  const locById = new Map(pp.locations.map((l) => [l.id, l]));
  return pp.samples.some((s) => {
    const inner = locById.get(s.locationIds[0]!)?.lines[0];
    return inner !== undefined && (fnById.get(inner.functionId)?.filename ?? '').endsWith(suffix);
  });
}
