/**
 * The eBPF sampler's wire result for tests that feed ingest by hand: the given stacks, counted
 * whole (nothing lost or cut), with the rest of the fields at plain defaults.
 */
import type { WireBpfStack, WireProfileResult } from '../../src/ingest/fromBpfProfile';

export function wireProfileResult(
  stacks: WireBpfStack[],
  extra: Partial<Omit<WireProfileResult, 'stats'>> = {},
  stats: Partial<WireProfileResult['stats']> = {},
): WireProfileResult {
  const samples = stacks.reduce((n, s) => n + s.count, 0);
  return {
    samples,
    samplesPerSecond: [samples],
    elapsedSec: 1,
    stacks,
    stats: {
      samples,
      userStackErrors: 0,
      kernelStackErrors: 0,
      ringFull: 0,
      spUnreadable: 0,
      kernelModeSamples: 0,
      noUserRegs: 0,
      ...stats,
    },
    received: samples,
    unreceived: 0,
    userDepth: 127,
    ringBytes: 1 << 20,
    endedBy: 'duration',
    pid: 1,
    event: 'cpu-clock',
    fallbackReason: null,
    freqHz: 999,
    cpus: 2,
    loadBias: 0,
    textLo: 0,
    textHi: 0,
    attachMs: 0,
    kernelStacks: false,
    ...extra,
  };
}

/** Equal stacks merged, their counts summed, in the order first seen: what a sampler sending everything at once would send. */
export function mergeStacks(stacks: readonly WireBpfStack[]): WireBpfStack[] {
  const merged = new Map<string, WireBpfStack>();
  for (const st of stacks) {
    const k = JSON.stringify([st.user, st.spWord ?? null, st.kernel ?? null, st.userStackError ?? null]);
    const m = merged.get(k);
    if (m) m.count += st.count;
    else merged.set(k, { ...st });
  }
  return [...merged.values()];
}
