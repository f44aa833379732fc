/**
 * "The hottest line of my code": each sample is charged to the innermost frame that is the
 * workspace's own code (the line in your code that led to the time, library and runtime callees
 * included — what you would change), and the line with the most samples wins. Profiles without
 * their stacks (aggregates only) fall back to the line of your code with the most samples of
 * its own. Pure: no vscode import.
 */
import type { LocationFrame, Profile } from '../model/profile';
import type { CodeKinds } from './codeKind';

export interface HotLine {
  /** The file name recorded in the binary. */
  file: string;
  line1: number;
  function: string;
  samples: number;
  /** How the samples were counted. */
  basis: 'first-own-frame' | 'self';
}

export function hottestOwnLine(profile: Profile, kinds: CodeKinds): HotLine | undefined {
  const fns = profile.functions;
  const st = profile.stacks;
  let best: HotLine | undefined;
  const consider = (file: string | undefined, line1: number, fn: string, samples: number, basis: HotLine['basis']): void => {
    if (!file || line1 <= 0 || samples <= 0) return;
    if (!best || samples > best.samples || (samples === best.samples && `${file}:${line1}` < `${best.file}:${best.line1}`))
      best = { file, line1, function: fn, samples, basis };
  };
  if (st && st.stacks.length) {
    // A location's first frame of the workspace's code, found once however many stacks hold it.
    const ownFrames = new Map<number, LocationFrame | null>();
    const ownFrameOf = (loc: number): LocationFrame | null => {
      let f = ownFrames.get(loc);
      if (f === undefined) {
        f = st.locations[loc]?.frames.find((x) => kinds.kindOf(fns[x.function]?.name ?? '') === 'mine') ?? null;
        ownFrames.set(loc, f);
      }
      return f;
    };
    const counts = new Map<string, { file: string; line1: number; fn: string; n: number }>();
    st.stacks.forEach((stack, s) => {
      const n = st.counts[s] ?? 0;
      for (const loc of stack) {
        const frame = ownFrameOf(loc);
        if (!frame) continue;
        const stat = fns[frame.function]!;
        const file = frame.file ?? stat.file;
        if (!file) break;
        const key = `${file}\0${frame.line1}`;
        const e = counts.get(key);
        if (e) e.n += n;
        else counts.set(key, { file, line1: frame.line1, fn: stat.name, n });
        break;
      }
    });
    for (const e of counts.values()) consider(e.file, e.line1, e.fn, e.n, 'first-own-frame');
    if (best) return best;
  }
  for (const l of profile.lines) if (kinds.kindOf(l.function) === 'mine') consider(l.file, l.line1, l.function, l.selfSamples, 'self');
  return best;
}
