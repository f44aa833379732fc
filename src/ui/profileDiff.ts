/**
 * A profile against a pinned baseline. Sample counts differ between recordings, so we
 * compare shares of each profile's own total: a line that went from 2% to 5% of the CPU is
 * hotter by 3 percentage points. Both self and cumulative (with callees) shares are compared,
 * per function and per line.
 *
 * Noise: a share measured from n samples is a binomial proportion, so the difference of two
 * shares has a standard error of sqrt(p(1−p)(1/n₁ + 1/n₀)) (p pooled). A change smaller than
 * NOISE_Z standard errors is what two recordings of the same program differ by anyway; it is
 * marked not significant, and so is any change that would print as ±0.0 pp. NOISE_Z is 3 rather
 * than 2 because a file shows dozens of lines at once: at 2, one line in twenty would light up
 * by chance. Pure: no vscode import.
 */
import { noiseSamples } from '../model/metrics';
import type { Profile } from '../model/profile';

/** Standard errors a change must exceed to be shown (see above). */
export const NOISE_Z = 3;
/** Changes below this share print as "±0.0 pp": never shown. */
export const MIN_SHOWN_DELTA = 0.0005;

export interface ShareDelta {
  current: number;
  baseline: number;
  /** current − baseline, in shares (0.03 = +3 pp). */
  delta: number;
  /** False when |delta| is within sampling noise (see NOISE_Z) or rounds to 0.0 pp. */
  significant: boolean;
}

export interface SelfCumDelta {
  self: ShareDelta;
  cum: ShareDelta;
}

export interface ProfileDiff {
  /** By function name. */
  functions: Map<string, SelfCumDelta>;
  /** By recorded file name, then 1-based line. */
  lines: Map<string, Map<number, SelfCumDelta>>;
  /** The largest significant |delta| of any line, per basis: the top of the tint scale. */
  maxLineDelta: { self: number; cum: number };
}

function zero(): SelfCumDelta {
  return {
    self: { current: 0, baseline: 0, delta: 0, significant: false },
    cum: { current: 0, baseline: 0, delta: 0, significant: false },
  };
}

/** Whether a change of share between two recordings of n₁ and n₀ samples is more than sampling noise. */
export function isSignificant(current: number, baseline: number, n1: number, n0: number): boolean {
  const delta = current - baseline;
  if (Math.abs(delta) < MIN_SHOWN_DELTA) return false;
  const p = (current * n1 + baseline * n0) / Math.max(n1 + n0, 1);
  const se = Math.sqrt(Math.max(p * (1 - p), 0) * (1 / Math.max(n1, 1) + 1 / Math.max(n0, 1)));
  return Math.abs(delta) > NOISE_Z * se;
}

/**
 * Both profiles must show the same metric (ProfileSession compares only then). Shares are of
 * each one's total; the noise test counts the samples those shares rest on (noiseSamples: for
 * bytes, the sampled allocations, not the bytes).
 */
export function diffProfiles(current: Profile, baseline: Profile): ProfileDiff {
  const ct = Math.max(current.totalSamples, 1);
  const bt = Math.max(baseline.totalSamples, 1);
  const cn = Math.max(noiseSamples(current), 1);
  const bn = Math.max(noiseSamples(baseline), 1);
  const finish = (d: ShareDelta): void => {
    d.delta = d.current - d.baseline;
    d.significant = isSignificant(d.current, d.baseline, cn, bn);
  };
  const functions = new Map<string, SelfCumDelta>();
  const fnEntry = (name: string): SelfCumDelta => {
    let e = functions.get(name);
    if (!e) functions.set(name, (e = zero()));
    return e;
  };
  for (const f of current.functions) {
    const e = fnEntry(f.name);
    e.self.current += f.selfSamples / ct;
    e.cum.current += f.cumSamples / ct;
  }
  for (const f of baseline.functions) {
    const e = fnEntry(f.name);
    e.self.baseline += f.selfSamples / bt;
    e.cum.baseline += f.cumSamples / bt;
  }
  for (const e of functions.values()) {
    finish(e.self);
    finish(e.cum);
  }
  const lines = new Map<string, Map<number, SelfCumDelta>>();
  const lineEntry = (file: string, line1: number): SelfCumDelta => {
    let m = lines.get(file);
    if (!m) lines.set(file, (m = new Map()));
    let d = m.get(line1);
    if (!d) m.set(line1, (d = zero()));
    return d;
  };
  // Inlined copies of a line are distinct samples: they add up (as in HeatIndex).
  for (const l of current.lines) {
    const e = lineEntry(l.file, l.line1);
    e.self.current += l.selfSamples / ct;
    e.cum.current += l.cumSamples / ct;
  }
  for (const l of baseline.lines) {
    const e = lineEntry(l.file, l.line1);
    e.self.baseline += l.selfSamples / bt;
    e.cum.baseline += l.cumSamples / bt;
  }
  const maxLineDelta = { self: 0, cum: 0 };
  for (const m of lines.values()) {
    for (const d of m.values()) {
      finish(d.self);
      finish(d.cum);
      if (d.self.significant) maxLineDelta.self = Math.max(maxLineDelta.self, Math.abs(d.self.delta));
      if (d.cum.significant) maxLineDelta.cum = Math.max(maxLineDelta.cum, Math.abs(d.cum.delta));
    }
  }
  return { functions, lines, maxLineDelta };
}

/** 1..3: how strongly to tint a change, on a log scale from the smallest shown change to the largest. */
export function diffLevel(absDelta: number, maxAbsDelta: number): number {
  const lo = MIN_SHOWN_DELTA;
  const hi = Math.max(maxAbsDelta, lo * 1.0001);
  if (absDelta >= hi) return 3;
  return Math.min(3, Math.max(1, Math.ceil((3 * Math.log(Math.max(absDelta, lo) / lo)) / Math.log(hi / lo))));
}
