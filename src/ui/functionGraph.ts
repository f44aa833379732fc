/**
 * Questions the hot-functions tree and the flame graph ask of the call tree: which functions
 * are hottest, whom each calls and who calls it, with sample counts. Built once per profile
 * from the model's flat CallTree. Pure: no vscode import.
 */
import type { Profile } from '../model/profile';

export interface Edge {
  /** Index into Profile.functions. */
  fn: number;
  /** Samples of the call edge: the callee's subtree totals under this caller. */
  samples: number;
}

export class FunctionGraph {
  private readonly calleesOf = new Map<number, Edge[]>();
  private readonly callersOf = new Map<number, Edge[]>();
  private readonly byName = new Map<string, number>();

  constructor(readonly profile: Profile) {
    profile.functions.forEach((f, i) => this.byName.set(f.name, i));
    const { parents, functions, totalSamples } = profile.callTree;
    const callees = new Map<number, Map<number, number>>();
    const callers = new Map<number, Map<number, number>>();
    for (let i = 0; i < parents.length; i++) {
      const p = parents[i]!;
      if (p < 0) continue;
      const caller = functions[p]!;
      const callee = functions[i]!;
      // Recursion (f calls f) would count a subtree twice in f's own row; leave it out.
      if (caller === callee) continue;
      add(callees, caller, callee, totalSamples[i]!);
      add(callers, callee, caller, totalSamples[i]!);
    }
    for (const [k, m] of callees) this.calleesOf.set(k, sortEdges(m));
    for (const [k, m] of callers) this.callersOf.set(k, sortEdges(m));
  }

  indexOf(name: string): number | undefined {
    return this.byName.get(name);
  }

  /** Function indexes by self samples, then cumulative, hottest first; functions with no samples left out. */
  hottest(): number[] {
    const fns = this.profile.functions;
    return fns
      .map((_, i) => i)
      .filter((i) => fns[i]!.selfSamples > 0 || fns[i]!.cumSamples > 0)
      .sort(
        (a, b) =>
          fns[b]!.selfSamples - fns[a]!.selfSamples || fns[b]!.cumSamples - fns[a]!.cumSamples || fns[a]!.name.localeCompare(fns[b]!.name),
      );
  }

  callees(fn: number): readonly Edge[] {
    return this.calleesOf.get(fn) ?? [];
  }

  callers(fn: number): readonly Edge[] {
    return this.callersOf.get(fn) ?? [];
  }
}

function add(m: Map<number, Map<number, number>>, a: number, b: number, n: number): void {
  let inner = m.get(a);
  if (!inner) m.set(a, (inner = new Map()));
  inner.set(b, (inner.get(b) ?? 0) + n);
}

function sortEdges(m: Map<number, number>): Edge[] {
  return [...m].map(([fn, samples]) => ({ fn, samples })).sort((x, y) => y.samples - x.samples || x.fn - y.fn);
}
