/**
 * How a profile's stacks were taken and how many samples' callers are unknown, in words:
 * "frame pointers (perf record -g); unknown caller: 11.20% (420 of 3750 samples)". The report,
 * the CLI and the status bar say it beside every recording, so a share of unknown callers is
 * never folded in silently.
 */
import type { Profile } from './profile';

export function unknownCallerShare(p: Profile): number | undefined {
  if (p.missingCallerSamples === undefined) return undefined;
  return p.totalSamples > 0 ? p.missingCallerSamples / p.totalSamples : 0;
}

/** undefined when the profile says neither (a pprof file, an aggregate-only profile). */
export function stacksText(p: Profile): string | undefined {
  const parts: string[] = [];
  if (p.stackMethod) parts.push(p.stackMethod);
  const share = unknownCallerShare(p);
  if (share !== undefined)
    parts.push(`unknown caller: ${(100 * share).toFixed(2)}% (${p.missingCallerSamples} of ${p.totalSamples} samples)`);
  return parts.length ? parts.join('; ') : undefined;
}
