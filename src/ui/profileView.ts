/**
 * Everything the editor derives from the loaded profile for one set of settings: the path
 * mapping, the heat index, the function graph, the diff against a baseline and where each
 * function is declared. Built lazily by ProfileSession and thrown away whenever the profile
 * or the settings change. Pure apart from `exists`/`readText` callbacks: no vscode import.
 */
import type { FunctionLatency, Profile } from '../model/profile';
import { CallPaths } from './callPaths';
import { CodeKinds } from './codeKind';
import { FunctionGraph } from './functionGraph';
import { FunctionLabels } from './funcLabels';
import { HeatIndex } from './heatIndex';
import { PathMapper, type MappedPath, type PathMapperOptions } from './pathMapper';
import { diffProfiles, type ProfileDiff, type SelfCumDelta } from './profileDiff';

export interface FunctionLocation {
  fn: number;
  /** Local file, when the model knows the decl file and it maps to one. */
  path?: string;
  line1?: number;
}

export class ProfileView {
  readonly mapper: PathMapper;
  readonly heat: HeatIndex;
  readonly diff: ProfileDiff | undefined;
  /** Whose code each function is (the workspace's modules, std, runtime, other). */
  readonly kinds: CodeKinds;
  private labelsCache: FunctionLabels | undefined;
  private graphCache: FunctionGraph | undefined;
  private pathsCache: CallPaths | undefined;
  private diffByLocalFile: Map<string, Map<number, SelfCumDelta>> | undefined;
  /** Local file → indexes of functions declared or sampled in it (built on first use). */
  private functionsByFile: Map<string, Set<number>> | undefined;
  private readonly latencyByName = new Map<string, FunctionLatency>();

  /** `mapper`: one made for these options already (it caches what it found: a live refresh reuses it). */
  constructor(
    readonly profile: Profile,
    mapperOptions: PathMapperOptions,
    readonly baseline?: Profile,
    mapper?: PathMapper,
  ) {
    this.mapper = mapper ?? new PathMapper(mapperOptions);
    const resolve = (f: string): string | undefined => this.mapper.resolve(f)?.path;
    this.heat = new HeatIndex(profile, resolve);
    this.diff = baseline ? diffProfiles(profile, baseline) : undefined;
    this.kinds = new CodeKinds(mapperOptions.modules.map((m) => m.modulePath));
    for (const lat of profile.latency ?? []) this.latencyByName.set(lat.function, lat);
  }

  /**
   * Callers and callees of each function, by name too. Built on first use: a recording shown live
   * makes a view every second, and most of its refreshes never ask.
   */
  get graph(): FunctionGraph {
    return (this.graphCache ??= new FunctionGraph(this.profile));
  }

  private filesIndex(): Map<string, Set<number>> {
    if (this.functionsByFile) return this.functionsByFile;
    const byFile = (this.functionsByFile = new Map<string, Set<number>>());
    const add = (recorded: string | undefined, fn: number): void => {
      const path = recorded === undefined ? undefined : this.mapper.resolve(recorded)?.path;
      if (path === undefined) return;
      let s = byFile.get(path);
      if (!s) byFile.set(path, (s = new Set()));
      s.add(fn);
    };
    const byName = new Map<string, number>();
    this.profile.functions.forEach((f, i) => {
      byName.set(f.name, i);
      if (f.file) add(f.file, i);
    });
    for (const l of this.profile.lines) {
      const i = byName.get(l.function);
      if (i !== undefined) add(l.file, i);
    }
    return byFile;
  }

  /** Package-qualified row labels, full import paths where they collide. */
  get labels(): FunctionLabels {
    return (this.labelsCache ??= new FunctionLabels(this.profile.functions.map((f) => f.name)));
  }

  /** Call paths for the tree's rows (numbers that nest). */
  get paths(): CallPaths {
    return (this.pathsCache ??= new CallPaths(this.profile.callTree));
  }

  /** The baseline difference of each line of a local file (undefined without a baseline to compare with). */
  lineDiffs(localFile: string): ReadonlyMap<number, SelfCumDelta> | undefined {
    if (!this.diff) return undefined;
    if (!this.diffByLocalFile) {
      this.diffByLocalFile = new Map();
      for (const [recorded, lines] of this.diff.lines) {
        const local = this.mapper.resolve(recorded)?.path;
        if (local === undefined) continue;
        let m = this.diffByLocalFile.get(local);
        if (!m) this.diffByLocalFile.set(local, (m = new Map()));
        for (const [line1, d] of lines) if (!m.has(line1)) m.set(line1, d);
      }
    }
    return this.diffByLocalFile.get(localFile);
  }

  resolve(recordedFile: string): MappedPath | undefined {
    return this.mapper.resolve(recordedFile);
  }

  functionsIn(localFile: string): number[] {
    return [...(this.filesIndex().get(localFile) ?? [])];
  }

  latencyOf(name: string): FunctionLatency | undefined {
    return this.latencyByName.get(name);
  }

  latencies(): FunctionLatency[] {
    return [...this.latencyByName.values()];
  }

  /** Where function `fn` is declared, as far as the model says. */
  locate(fn: number): FunctionLocation {
    const f = this.profile.functions[fn];
    const loc: FunctionLocation = { fn };
    if (f?.file) {
      const m = this.mapper.resolve(f.file);
      if (m) loc.path = m.path;
      if (f.line1) loc.line1 = f.line1;
    }
    if (!loc.path && f) {
      // No decl file: fall back to the file holding most of its self samples.
      let best: { file: string; n: number } | undefined;
      for (const l of this.profile.lines) {
        if (l.function === f.name && (!best || l.cumSamples > best.n)) best = { file: l.file, n: l.cumSamples };
      }
      const m = best && this.mapper.resolve(best.file);
      if (m) loc.path = m.path;
    }
    return loc;
  }
}
