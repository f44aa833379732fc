/**
 * The one place that holds the loaded profile (and an optional pinned baseline), with one
 * change event. Decorations, code lenses, hovers, the tree, the status bar and the webviews
 * all redraw from it. It persists itself in the extension's storage, so a window reload
 * brings the same heat back.
 *
 * It also holds the one switch for what the heat means: of a profile with several metrics
 * (allocated bytes, in-use bytes, blocked time…), `current` shows the chosen one, so every
 * view follows it, and the baseline is compared on that same metric, or not at all when it
 * lacks it (`baselineLacksMetric`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { metricsOf, shownMetric, withMetric } from '../model/metrics';
import type { FunctionLatency, MetricInfo, Profile, SchedLatency, SyscallStat } from '../model/profile';
import { makeSession, saveSession, saveSessionInSlices, type SessionFile } from '../model/session';
import { UserError } from '../util/userError';
import type { ConfigWatcher } from './config';
import { parseModulePath, type ModuleRoot, type PathMapper } from './pathMapper';
import { ProfileView } from './profileView';
import { notComparedText } from './summaryText';

/** A profile whose recording ended less than this long ago counts as just recorded. */
const FRESH_MS = 120_000;

export interface LoadedProfile {
  profile: Profile;
  /** What the user calls it: "main (PID 1234)", "cpu.pb.gz". */
  label: string;
}

export class ProfileSession implements vscode.Disposable {
  private currentProfile: LoadedProfile | undefined;
  private baselineProfile: LoadedProfile | undefined;
  /** The profile the baseline was pinned from: while it is still the current one there is nothing to compare. */
  private baselinePinnedFrom: Profile | undefined;
  private cachedView: ProfileView | undefined;
  /** The metric the user chose last ("Show heat for…"): shown in every profile that has it. */
  private chosenMetric: string | undefined;
  /** The current profile and the baseline as shown (the chosen metric's values); cleared on every change. */
  private shownCurrent: LoadedProfile | undefined;
  private shownBaseline: LoadedProfile | undefined;
  /** The path mapper of the last view, kept across the refreshes of a recording shown live (same settings, files found once). */
  private liveMapper: PathMapper | undefined;
  /** The current profile came back from the last window's storage. */
  private restored = false;
  /** While a recording shows its heat as it comes: what was loaded before it (put back if it is thrown away). */
  private live: { before: LoadedProfile | undefined; beforeRestored: boolean } | undefined;
  private readonly emitter = new vscode.EventEmitter<void>();
  /** Fires after the profile, the baseline, or a setting that changes what is drawn, changed. */
  readonly onDidChange = this.emitter.event;
  private readonly subs: vscode.Disposable[] = [];
  private persistTimer: NodeJS.Timeout | undefined;
  /** The last write of the store (writes are chained, so an older one never lands last). */
  private persisting: Promise<unknown> = Promise.resolve();
  /** go.mod files of the workspace, found asynchronously when the folders change (not on every redraw). */
  private modules: ModuleRoot[] = [];
  private modulesGeneration = 0;
  goroot: string | undefined;

  constructor(
    private readonly config: ConfigWatcher,
    /** Folder for the persisted session (context.storageUri or globalStorageUri). */
    private readonly storageDir: string | undefined,
  ) {
    this.subs.push(
      config.onDidChange(() => this.invalidate(false)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.scanModules()),
    );
    this.scanModules();
  }

  private localFolders(): string[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  }

  /** Finds the workspace's go.mod files off the redraw path; redraws when they are known. */
  private scanModules(): void {
    const gen = ++this.modulesGeneration;
    void findModules(this.localFolders()).then((found) => {
      if (gen !== this.modulesGeneration) return;
      this.modules = found;
      this.invalidate(false);
    });
  }

  /** The current profile showing the chosen metric (what every view draws). */
  get current(): LoadedProfile | undefined {
    const cur = this.currentProfile;
    if (!cur) return undefined;
    if (!this.shownCurrent) {
      const p = this.chosenMetric !== undefined ? withMetric(cur.profile, this.chosenMetric) : undefined;
      this.shownCurrent = p && p !== cur.profile ? { ...cur, profile: p } : cur;
    }
    return this.shownCurrent;
  }

  /** The current profile as it was loaded (for identity: history, pinning), whatever metric is shown. */
  get loaded(): LoadedProfile | undefined {
    return this.currentProfile;
  }

  /** The baseline on the metric shown; as loaded when it lacks that metric (see baselineLacksMetric). */
  get baseline(): LoadedProfile | undefined {
    const b = this.baselineProfile;
    if (!b) return undefined;
    if (!this.shownBaseline) {
      const id = this.metric?.id;
      const p = id !== undefined ? withMetric(b.profile, id) : undefined;
      this.shownBaseline = p && p !== b.profile ? { ...b, profile: p } : b;
    }
    return this.shownBaseline;
  }

  /** The metrics of the current profile (one for a CPU profile). */
  get metrics(): MetricInfo[] {
    const cur = this.currentProfile;
    return cur ? metricsOf(cur.profile) : [];
  }

  /** The metric the heat shows. */
  get metric(): MetricInfo | undefined {
    const cur = this.current;
    return cur && shownMetric(cur.profile);
  }

  /** Shows metric `id` of the current profile everywhere (and in later profiles that have it). */
  setMetric(id: string): void {
    const cur = this.currentProfile;
    if (!cur) throw new UserError('no profile is loaded', 'open or record a profile first', 'no-profile');
    const m = metricsOf(cur.profile).find((x) => x.id === id);
    if (!m)
      throw new UserError(
        `"${cur.label}" has no metric "${id}"`,
        `choose one of: ${metricsOf(cur.profile)
          .map((x) => x.label)
          .join(', ')}`,
        'no-such-metric',
      );
    this.chosenMetric = id;
    this.invalidate(true);
  }

  /** True when a baseline is pinned but does not measure the metric shown: nothing is compared. */
  get baselineLacksMetric(): boolean {
    const b = this.baselineProfile;
    const id = this.metric?.id;
    return !!b && id !== undefined && !metricsOf(b.profile).some((m) => m.id === id);
  }

  /** Why the pinned baseline is not compared, in words, when it lacks the metric shown; else undefined. */
  get notComparedReason(): string | undefined {
    const b = this.baselineProfile;
    const m = this.metric;
    return b && m && this.baselineLacksMetric ? notComparedText(b.label, metricsOf(b.profile), m) : undefined;
  }

  set(loaded: LoadedProfile | undefined): void {
    this.live = undefined;
    this.currentProfile = loaded;
    this.restored = false;
    this.invalidate(true);
  }

  /**
   * The profile so far of a recording under way (live heat): drawn like any profile, but neither
   * stored nor a "fresh recording" until set() brings the whole one. endLive() puts back what
   * was loaded before the recording.
   */
  showLive(loaded: LoadedProfile): void {
    this.live ??= { before: this.currentProfile, beforeRestored: this.restored };
    this.currentProfile = loaded;
    this.restored = false;
    const mapper = this.cachedView?.mapper ?? this.liveMapper;
    this.invalidate(false);
    this.liveMapper = mapper;
  }

  /** The recording shown live ended without a profile (discarded, failed): the one before it comes back. */
  endLive(): void {
    if (!this.live) return;
    const { before, beforeRestored } = this.live;
    this.live = undefined;
    this.currentProfile = before;
    this.restored = beforeRestored;
    this.invalidate(false);
  }

  /** What the store keeps as the current profile: never a recording's profile so far. */
  private get storedCurrent(): LoadedProfile | undefined {
    return this.live ? this.live.before : this.current;
  }

  /** True while the current profile is a recording's profile so far (showLive). */
  get isLive(): boolean {
    return this.live !== undefined;
  }

  /** True when the current profile was just recorded (not restored from the last window, not an old file, not still recording). */
  get isFreshRecording(): boolean {
    const p = this.currentProfile?.profile;
    if (!p || this.restored || this.live || p.startTimeMs === undefined) return false;
    return Date.now() - (p.startTimeMs + p.durationNanos / 1e6) < FRESH_MS;
  }

  /** `pinnedFrom`: the current profile the baseline is a copy of (no difference is drawn until another profile comes). */
  setBaseline(loaded: LoadedProfile | undefined, pinnedFrom?: Profile): void {
    this.baselineProfile = loaded;
    // Pinned from the profile as shown: the same recording as the one loaded.
    const from = pinnedFrom !== undefined && pinnedFrom === this.shownCurrent?.profile ? this.currentProfile?.profile : pinnedFrom;
    this.baselinePinnedFrom = loaded ? from : undefined;
    this.invalidate(true);
  }

  /** True when a baseline is pinned, the current profile is another recording and both measure the metric shown: views show the difference. */
  get comparing(): boolean {
    return (
      !!this.baselineProfile &&
      !!this.currentProfile &&
      this.baselinePinnedFrom !== this.currentProfile.profile &&
      !this.baselineLacksMetric
    );
  }

  /** Adds (or replaces) latency results of traced functions in the current profile. */
  addLatency(results: readonly FunctionLatency[]): void {
    const cur = this.currentProfile;
    if (!cur) return;
    const names = new Set(results.map((r) => r.function));
    cur.profile.latency = [...(cur.profile.latency ?? []).filter((l) => !names.has(l.function)), ...results];
    this.invalidate(true);
  }

  setSchedAndSyscalls(sched: SchedLatency | undefined, syscalls: SyscallStat[] | undefined): void {
    const cur = this.currentProfile;
    if (!cur) return;
    if (sched) cur.profile.sched = sched;
    if (syscalls) cur.profile.syscalls = syscalls;
    this.invalidate(true);
  }

  /** The derived view for the current settings and metric; undefined without a profile. */
  view(): ProfileView | undefined {
    const current = this.current;
    if (!current) return undefined;
    if (!this.cachedView) {
      const mapperOptions = {
        workspaceFolders: this.localFolders(),
        modules: this.modules,
        mappings: this.config.value.pathMappings,
        exists: (p: string) => {
          try {
            return fs.statSync(p).isFile();
          } catch {
            return false;
          }
        },
        ...(this.goroot ? { goroot: this.goroot } : {}),
      };
      this.cachedView = new ProfileView(
        current.profile,
        mapperOptions,
        this.comparing ? this.baseline?.profile : undefined,
        this.liveMapper,
      );
    }
    return this.cachedView;
  }

  private invalidate(profileChanged: boolean): void {
    this.cachedView = undefined;
    this.shownCurrent = undefined;
    this.shownBaseline = undefined;
    this.liveMapper = undefined;
    void vscode.commands.executeCommand('setContext', 'goPerfLens.hasProfile', !!this.currentProfile);
    void vscode.commands.executeCommand('setContext', 'goPerfLens.hasBaseline', !!this.baselineProfile);
    if (profileChanged) this.schedulePersist();
    this.emitter.fire();
  }

  /** Redraw everything (e.g. after GOROOT became known). */
  refresh(): void {
    this.invalidate(false);
  }

  // Persistence: one session file per slot; written a little after the last change.
  private schedulePersist(): void {
    if (!this.storageDir) return;
    clearTimeout(this.persistTimer);
    this.persistTimer = setTimeout(() => void this.persistNow(), 500);
  }

  /** Writes the store now (asynchronously); resolves to the current profile's session file, if there is one. */
  persistNow(): Promise<string | undefined> {
    clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    const dir = this.storageDir;
    if (!dir) return Promise.resolve(undefined);
    const slots = [
      ['current', this.storedCurrent],
      ['baseline', this.baselineProfile],
    ] as const;
    // What to write is taken now; it is written after any earlier write has finished, a slice at
    // a time (the session of a long recording is megabytes of JSON: one JSON.stringify would hold
    // every extension of the window while it runs).
    const sessions = slots.map(
      ([slot, loaded]) =>
        [slot, loaded && ({ ...makeSession(loaded.profile, 'go-perf-lens extension'), label: loaded.label } as SessionFile)] as const,
    );
    const write = this.persisting
      .then(async () => {
        await fs.promises.mkdir(dir, { recursive: true });
        for (const [slot, session] of sessions) {
          const file = path.join(dir, `${slot}.session.json`);
          if (session === undefined) await fs.promises.rm(file, { force: true });
          else await saveSessionInSlices(file, session);
        }
      })
      .catch((e: unknown) => {
        console.error(`Go Perf Lens: could not persist the session: ${(e as Error).message}`);
      });
    this.persisting = write;
    return write.then(() => (sessions[0]?.[1] !== undefined ? path.join(dir, 'current.session.json') : undefined));
  }

  /** Brings back what the last window had loaded (read on the ingest worker); silently ignores missing or unreadable files. */
  async restore(read: (file: string) => Promise<LoadedProfile>): Promise<void> {
    if (!this.storageDir) return;
    const readSlot = async (slot: string): Promise<LoadedProfile | undefined> => {
      const file = path.join(this.storageDir!, `${slot}.session.json`);
      try {
        await fs.promises.access(file);
      } catch {
        return undefined;
      }
      try {
        const loaded = await read(file);
        return { profile: loaded.profile, label: loaded.label === path.basename(file) ? slot : loaded.label };
      } catch (e) {
        console.error(`Go Perf Lens: ignoring the saved session: ${(e as Error).message}`);
        return undefined;
      }
    };
    const [current, baseline] = await Promise.all([readSlot('current'), readSlot('baseline')]);
    // A profile loaded meanwhile (a command, a test) is newer than the stored one.
    if (!this.currentProfile && !this.baselineProfile) {
      this.currentProfile = current;
      this.restored = true;
      this.baselineProfile = baseline;
      // The baseline pinned from the profile still loaded: the same recording, nothing to compare yet.
      const c = current?.profile;
      // Compared on the metric the current one shows (saved as shown; the baseline as loaded).
      const b = baseline && c ? (withMetric(baseline.profile, shownMetric(c).id) ?? baseline.profile) : undefined;
      this.baselinePinnedFrom =
        c && b && c.startTimeMs === b.startTimeMs && c.totalSamples === b.totalSamples && c.durationNanos === b.durationNanos
          ? c
          : undefined;
      this.invalidate(false);
    }
  }

  dispose(): void {
    // The window is closing: a change not yet written is written now, synchronously, as the
    // host may not run another callback (nothing else waits on this thread any more).
    if (this.persistTimer && this.storageDir) {
      clearTimeout(this.persistTimer);
      try {
        fs.mkdirSync(this.storageDir, { recursive: true });
        for (const [slot, loaded] of [
          ['current', this.storedCurrent],
          ['baseline', this.baselineProfile],
        ] as const) {
          const file = path.join(this.storageDir, `${slot}.session.json`);
          if (loaded)
            saveSession(file, { ...makeSession(loaded.profile, 'go-perf-lens extension'), label: loaded.label } as ReturnType<
              typeof makeSession
            >);
          else fs.rmSync(file, { force: true });
        }
      } catch (e) {
        console.error(`Go Perf Lens: could not persist the session: ${(e as Error).message}`);
      }
    }
    for (const s of this.subs) s.dispose();
    this.emitter.dispose();
  }
}

/** go.mod files at the top of each folder and a few levels below (skipping vendor, node_modules, dot-folders). */
export async function findModules(folders: readonly string[], maxDepth = 3): Promise<ModuleRoot[]> {
  const out: ModuleRoot[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isFile() && e.name === 'go.mod') {
        try {
          const mp = parseModulePath(await fs.promises.readFile(path.join(dir, e.name), 'utf8'));
          if (mp) out.push({ folder: dir, modulePath: mp });
        } catch {
          /* unreadable go.mod: skip */
        }
      }
    }
    if (depth >= maxDepth) return;
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'vendor' && e.name !== 'node_modules' && e.name !== 'testdata')
        await walk(path.join(dir, e.name), depth + 1);
    }
  };
  for (const f of folders) await walk(f, 0);
  return out;
}
