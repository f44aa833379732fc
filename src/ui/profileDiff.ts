/**
 * A profile against a pinned baseline. Sample counts differ between recordings, so we
 * compare shares of each profile's own total: a line that went from 2% to 5% of the CPU is
 * hotter by 3 percentage points. Pure: no vscode import.
 */
import type { Profile } from '../model/profile';

export interface ShareDelta {
  current: number;
  baseline: number;
  /** current − baseline, in shares (0.03 = +3 pp). */
  delta: number;
}

export interface ProfileDiff {
  /** By function name: self and cumulative share deltas. */
  functions: Map<string, { self: ShareDelta; cum: ShareDelta }>;
  /** By recorded file name, then 1-based line: self share delta. */
  lines: Map<string, Map<number, ShareDelta>>;
}

export function diffProfiles(current: Profile, baseline: Profile): ProfileDiff {
  const ct = Math.max(current.totalSamples, 1);
  const bt = Math.max(baseline.totalSamples, 1);
  const functions = new Map<string, { self: ShareDelta; cum: ShareDelta }>();
  const get = (name: string): { self: ShareDelta; cum: ShareDelta } => {
    let e = functions.get(name);
    if (!e) functions.set(name, (e = { self: { current: 0, baseline: 0, delta: 0 }, cum: { current: 0, baseline: 0, delta: 0 } }));
    return e;
  };
  for (const f of current.functions) {
    const e = get(f.name);
    e.self.current += f.selfSamples / ct;
    e.cum.current += f.cumSamples / ct;
  }
  for (const f of baseline.functions) {
    const e = get(f.name);
    e.self.baseline += f.selfSamples / bt;
    e.cum.baseline += f.cumSamples / bt;
  }
  for (const e of functions.values()) {
    e.self.delta = e.self.current - e.self.baseline;
    e.cum.delta = e.cum.current - e.cum.baseline;
  }
  const lines = new Map<string, Map<number, ShareDelta>>();
  const lineEntry = (file: string, line1: number): ShareDelta => {
    let m = lines.get(file);
    if (!m) lines.set(file, (m = new Map()));
    let d = m.get(line1);
    if (!d) m.set(line1, (d = { current: 0, baseline: 0, delta: 0 }));
    return d;
  };
  for (const l of current.lines) lineEntry(l.file, l.line1).current += l.selfSamples / ct;
  for (const l of baseline.lines) lineEntry(l.file, l.line1).baseline += l.selfSamples / bt;
  for (const m of lines.values()) for (const d of m.values()) d.delta = d.current - d.baseline;
  return { functions, lines };
}
