/**
 * The diff flame graph's colours: for each node of the current call tree, how the share of
 * samples of its call path (the function names from the root down) changed against the
 * baseline's call tree, as pprof's -diff_base does. Paths are matched by function names, so two
 * recordings of the same binary (or of a rebuilt one) line up. Changes within sampling noise
 * are 0. Pure: no vscode import.
 */
import type { Profile } from '../model/profile';
import { noiseSamples } from '../model/metrics';
import { isSignificant } from './profileDiff';

/** Path ids: (parent path id, function name id) → id, shared by both trees so equal paths get equal ids. */
class PathIds {
  private readonly names = new Map<string, number>();
  private readonly ids = new Map<string, number>();

  nameId(name: string): number {
    let id = this.names.get(name);
    if (id === undefined) this.names.set(name, (id = this.names.size));
    return id;
  }

  pathIds(p: Profile): Int32Array {
    const t = p.callTree;
    const nameIds = p.functions.map((f) => this.nameId(f.name));
    const out = new Int32Array(t.parents.length);
    for (let i = 0; i < t.parents.length; i++) {
      const parent = t.parents[i]!;
      const key = `${parent < 0 ? -1 : out[parent]},${nameIds[t.functions[i]!]}`;
      let id = this.ids.get(key);
      if (id === undefined) this.ids.set(key, (id = this.ids.size));
      out[i] = id;
    }
    return out;
  }
}

export function flameDiff(current: Profile, baseline: Profile): number[] {
  const ids = new PathIds();
  const cur = ids.pathIds(current);
  const base = ids.pathIds(baseline);
  const baseSamples = new Map<number, number>();
  baseline.callTree.totalSamples.forEach((n, i) => baseSamples.set(base[i]!, (baseSamples.get(base[i]!) ?? 0) + n));
  const ct = Math.max(current.totalSamples, 1);
  const bt = Math.max(baseline.totalSamples, 1);
  const cn = Math.max(noiseSamples(current), 1);
  const bn = Math.max(noiseSamples(baseline), 1);
  return current.callTree.totalSamples.map((n, i) => {
    const after = n / ct;
    const before = (baseSamples.get(cur[i]!) ?? 0) / bt;
    return isSignificant(after, before, cn, bn) ? after - before : 0;
  });
}
