/**
 * The "Hot functions" tree. Root rows are functions, sorted by cumulative or self share (or, with
 * a baseline to compare with, by the size of the change); "My code" keeps the workspace's own
 * functions as roots and folds the standard library, the runtime and other modules into one
 * expandable row each; a search keeps the rows whose name holds the text. Below a function, rows
 * are call paths (callees, or callers, by toggle) whose numbers nest: a child counts the samples
 * of its parent's path that go through it (CallPaths). While a recording refreshes it every second,
 * rows keep their order unless a rank really changed (stableRanking).
 */
import * as vscode from 'vscode';
import type { CallPath } from './callPaths';
import { CODE_KIND_LABEL, type CodeKind } from './codeKind';
import { formatPercent, formatShareChange } from './format';
import type { ProfileSession } from './profileSession';
import type { ProfileView } from './profileView';
import { stableRanking } from './stableRanking';
import { functionDescription } from './summaryText';

export interface FunctionNode {
  /** Index into Profile.functions of the current profile (the row's own function). */
  fn: number;
  name: string;
  /** The call path this row stands for (roots: the function alone). */
  path?: CallPath;
  /** A folded group of functions ("Standard library") instead of a function. */
  group?: { kind: CodeKind; fns: number[] };
  parent?: FunctionNode;
}

export type TreeMode = 'callees' | 'callers';
export type TreeSort = 'cumulative' | 'self';
export type TreeFilter = 'all' | 'mine';

/**
 * Where every stack starts (Go's TOPFRAME functions): runtime.goexit lies below every goroutine's
 * first frame, so its cumulative share is the share of all goroutine samples and answers no
 * question; pprof drops it from its stacks. Without a search, and with no samples of their own,
 * they are no function rows at the top; they stay in "My code"'s runtime row, the call paths and
 * the flame graph.
 */
const STACK_BOTTOMS = new Set(['runtime.goexit', 'runtime.mstart', 'runtime.rt0_go']);

/** Enough roots for any real question; more would only slow the view down. */
const MAX_ROOTS = 500;
/** Functions at or above this cumulative share are roots even past MAX_ROOTS. */
const MIN_CUM_SHARE_ROOT = 0.005;
const FOLDED: readonly CodeKind[] = ['std', 'runtime', 'other'];

export class HotFunctionsTree implements vscode.TreeDataProvider<FunctionNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<FunctionNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly stateEmitter = new vscode.EventEmitter<void>();
  /** Fires when the mode, sort, filter or search changes (the view's description says them). */
  readonly onDidChangeState = this.stateEmitter.event;
  private modeValue: TreeMode = 'callees';
  private sortValue: TreeSort = 'cumulative';
  private filterValue: TreeFilter = 'all';
  private searchValue = '';
  private roots: FunctionNode[] | undefined;
  /** Each drawn row's tooltip text, for resolveTreeItem. */
  private readonly tooltips = new WeakMap<FunctionNode, string>();
  /**
   * The last order of each list (the roots, each folded group): function name → rank. Kept only
   * across profiles of one recording with the same settings (rankingOf says which).
   */
  private readonly lastRanks = new Map<string, Map<string, number>>();
  private rankingOf = '';
  private readonly sub: vscode.Disposable;

  constructor(private readonly session: ProfileSession) {
    this.sub = session.onDidChange(() => this.refresh());
    this.publish();
  }

  get mode(): TreeMode {
    return this.modeValue;
  }

  setMode(mode: TreeMode): void {
    this.modeValue = mode;
    this.changed();
  }

  setSort(sort: TreeSort): void {
    this.sortValue = sort;
    this.changed();
  }

  setFilter(filter: TreeFilter): void {
    this.filterValue = filter;
    this.changed();
  }

  get search(): string {
    return this.searchValue;
  }

  setSearch(text: string): void {
    this.searchValue = text.trim();
    this.changed();
  }

  /** The state in words, for the view's description: "callees · by cumulative · my code · “sha”". */
  describeState(): string {
    const parts = [this.modeValue === 'callees' ? 'callees (what each calls)' : 'callers (who calls each)'];
    parts.push(this.session.comparing ? 'by change' : `by ${this.sortValue}`);
    if (this.filterValue === 'mine') parts.push('my code');
    if (this.searchValue) parts.push(`“${this.searchValue}”`);
    return parts.join(' · ');
  }

  private changed(): void {
    this.publish();
    this.refresh();
    this.stateEmitter.fire();
  }

  private publish(): void {
    const set = (key: string, value: unknown): void => void vscode.commands.executeCommand('setContext', `goPerfLens.${key}`, value);
    set('treeMode', this.modeValue);
    set('treeSort', this.sortValue);
    set('treeFilter', this.filterValue);
    set('treeSearch', this.searchValue !== '');
  }

  private refresh(): void {
    this.roots = undefined;
    this.emitter.fire(undefined);
  }

  getChildren(node?: FunctionNode): FunctionNode[] {
    const view = this.session.view();
    if (!view) return [];
    if (!node) return (this.roots ??= this.buildRoots(view));
    if (node.group) return this.order(view, node.group.fns, node.name).map((fn) => this.fnRow(view, fn, node));
    const path = node.path ?? view.paths.root(node.fn);
    return view.paths
      .extend(path, this.modeValue)
      .map((p) => ({ fn: p.fns.at(-1)!, name: view.profile.functions[p.fns.at(-1)!]!.name, path: p, parent: node }));
  }

  private fnRow(view: ProfileView, fn: number, parent?: FunctionNode): FunctionNode {
    return { fn, name: view.profile.functions[fn]!.name, path: view.paths.root(fn), ...(parent ? { parent } : {}) };
  }

  /**
   * Function indexes sorted the way the tree is: by change against a baseline, else by the chosen
   * share, the order of the last refresh of the same recording kept where counts differ by noise.
   * `list` names the list (roots, a folded group) for that.
   */
  private order(view: ProfileView, fns: number[], list: string): number[] {
    const stats = view.profile.functions;
    const diff = view.diff;
    // Ties by name in code-unit order, as pprof sorts names: localeCompare's first call in the
    // host initializes ICU's collator, tens of ms on the host's thread when the first profile opens.
    const byName = (a: number, b: number): number => (stats[a]!.name < stats[b]!.name ? -1 : stats[a]!.name > stats[b]!.name ? 1 : 0);
    const self = this.sortValue === 'self';
    const count = (i: number): number => (self ? stats[i]!.selfSamples : stats[i]!.cumSamples);
    const second = (i: number): number => (self ? stats[i]!.cumSamples : stats[i]!.selfSamples);
    if (diff) {
      // Changes beyond sampling noise first, each group by the size of the change.
      const key = (i: number): number => {
        const d = diff.functions.get(stats[i]!.name)?.cum;
        return d ? Math.abs(d.delta) + (d.significant ? 2 : 0) : 0;
      };
      return fns.sort((a, b) => key(b) - key(a) || second(b) - second(a) || byName(a, b));
    }
    const ranks = this.ranksFor(view, list);
    const ordered = stableRanking(fns, count, (a, b) => second(b) - second(a) || byName(a, b), ranks && ((i) => ranks.get(stats[i]!.name)));
    const next = new Map<string, number>();
    ordered.forEach((fn, rank) => next.set(stats[fn]!.name, rank));
    this.lastRanks.set(list, next);
    return ordered;
  }

  /**
   * The last ranks of `list` when the view is another refresh of the profile they were taken from:
   * the same recording (process and start), sort, filter and search. Otherwise none, and a plain sort.
   */
  private ranksFor(view: ProfileView, list: string): ReadonlyMap<string, number> | undefined {
    const p = view.profile;
    const recording = p.startTimeMs !== undefined && p.target?.pid !== undefined ? `${p.target.pid}@${p.startTimeMs}` : undefined;
    const ranking = `${recording}|${this.sortValue}|${this.filterValue}|${this.searchValue}`;
    if (ranking !== this.rankingOf || recording === undefined) {
      this.rankingOf = ranking;
      this.lastRanks.clear();
    }
    return this.lastRanks.get(list);
  }

  private buildRoots(view: ProfileView): FunctionNode[] {
    const stats = view.profile.functions;
    const q = this.searchValue.toLowerCase();
    let fns = stats.map((_, i) => i).filter((i) => stats[i]!.selfSamples > 0 || stats[i]!.cumSamples > 0);
    if (q) fns = fns.filter((i) => stats[i]!.name.toLowerCase().includes(q) || view.labels.of(stats[i]!.name).toLowerCase().includes(q));
    const minCum = MIN_CUM_SHARE_ROOT * view.profile.totalSamples;
    const capped = (list: number[]): number[] =>
      this.order(view, q ? list : list.filter((i) => stats[i]!.selfSamples > 0 || !STACK_BOTTOMS.has(stats[i]!.name)), 'roots').filter(
        (fn, rank) => rank < MAX_ROOTS || stats[fn]!.cumSamples >= minCum,
      );
    if (this.filterValue === 'all') return capped(fns).map((fn) => this.fnRow(view, fn));
    const roots = capped(fns.filter((i) => view.kinds.kindOf(stats[i]!.name) === 'mine')).map((fn) => this.fnRow(view, fn));
    for (const kind of FOLDED) {
      const members = fns.filter((i) => view.kinds.kindOf(stats[i]!.name) === kind);
      if (members.length) roots.push({ fn: -1, name: `group:${kind}`, group: { kind, fns: members } });
    }
    return roots;
  }

  getParent(node: FunctionNode): FunctionNode | undefined {
    return node.parent;
  }

  /** Samples the row stands for (its path's samples; a group's self samples). */
  samplesOf(node: FunctionNode): number {
    const view = this.session.view();
    if (!view) return 0;
    if (node.group) return node.group.fns.reduce((n, i) => n + view.profile.functions[i]!.selfSamples, 0);
    return (node.path ?? view.paths.root(node.fn)).samples;
  }

  getTreeItem(node: FunctionNode): vscode.TreeItem {
    const view = this.session.view();
    if (!view) return new vscode.TreeItem(node.name);
    const profile = view.profile;
    const total = Math.max(profile.totalSamples, 1);
    if (node.group) {
      const item = new vscode.TreeItem(CODE_KIND_LABEL[node.group.kind], vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `group:${node.group.kind}`;
      const self = this.samplesOf(node);
      item.description = `self ${formatPercent(self / total)} · ${node.group.fns.length} functions`;
      item.tooltip = `${CODE_KIND_LABEL[node.group.kind]}: ${node.group.fns.length} functions with samples, ${formatPercent(self / total)} of the samples in their own code. Expand to see them.`;
      item.iconPath = new vscode.ThemeIcon(node.group.kind === 'runtime' ? 'gear' : node.group.kind === 'std' ? 'library' : 'package');
      return item;
    }
    const stat = profile.functions[node.fn]!;
    const label = view.labels.of(node.name);
    const item = new vscode.TreeItem(label);
    const path = node.path ?? view.paths.root(node.fn);
    const isRoot = !node.parent || !!node.parent.group;
    item.collapsibleState = view.paths.canExtend(path, this.modeValue)
      ? vscode.TreeItemCollapsibleState.Collapsed
      : vscode.TreeItemCollapsibleState.None;
    item.id = isRoot ? `fn:${node.name}${node.parent?.group ? `:${node.parent.group.kind}` : ''}` : undefined;
    let description: string;
    let tooltip: string;
    if (isRoot) {
      description = functionDescription(profile, stat);
      const d = view.diff?.functions.get(node.name);
      if (d)
        description = `${formatShareChange(d.cum.baseline, d.cum.current)}${d.cum.significant ? '' : ' · within noise'} · self ${formatPercent(stat.selfSamples / total)}`;
      tooltip = `${functionDescription(profile, stat)}: its own code (self) and everything it calls (cum), as shares of all samples.`;
    } else {
      const parentSamples = Math.max(this.samplesOf(node.parent!), 1);
      description = `${formatPercent(path.samples / total)} · ${formatPercent(path.samples / parentSamples)} of parent`;
      const chain = path.fns.map((f) => view.labels.of(profile.functions[f]!.name));
      const how = this.modeValue === 'callees' ? chain.join(' → ') : [...chain].reverse().join(' → ');
      tooltip = `${formatPercent(path.samples / total)} of all samples have the call path ${how} in their stack; that is ${formatPercent(path.samples / parentSamples)} of the parent row's samples.`;
    }
    item.description = description;
    this.tooltips.set(node, `\`${node.name}\`\n\n${tooltip}${stat.file ? `\n\n${stat.file}${stat.line1 ? `:${stat.line1}` : ''}` : ''}`);
    // Runtime internals get no "Trace latency" (see traceFunction.ts).
    item.contextValue = view.kinds.kindOf(node.name) === 'runtime' ? 'goPerfLens.runtimeFunction' : 'goPerfLens.function';
    item.iconPath = new vscode.ThemeIcon(stat.selfSamples / total >= 0.05 ? 'flame' : 'symbol-function');
    item.command = { command: 'goPerfLens.openFunction', title: 'Open function', arguments: [node.name] };
    return item;
  }

  /**
   * The row's Markdown tooltip, made when it is hovered: VS Code parses a Markdown tooltip on the
   * extension host for every row it is given, so hundreds of rows drawn at once would hold the
   * host for tens of milliseconds for tooltips nobody reads.
   */
  resolveTreeItem(item: vscode.TreeItem, node: FunctionNode): vscode.TreeItem {
    const text = this.tooltips.get(node);
    if (text !== undefined) item.tooltip = new vscode.MarkdownString(text);
    return item;
  }

  /**
   * The root row of a function (for reveal from a code lens). A function with samples that is
   * not a root (past the cap, filtered out) becomes one at the end, so every lens can reveal it.
   */
  rootOf(name: string): FunctionNode | undefined {
    const roots = this.getChildren();
    const found = roots.find((n) => n.name === name);
    if (found) return found;
    const view = this.session.view();
    const fn = view?.graph.indexOf(name);
    const stat = fn === undefined ? undefined : view!.profile.functions[fn];
    if (fn === undefined || !stat || (stat.selfSamples === 0 && stat.cumSamples === 0)) return undefined;
    const node = this.fnRow(view!, fn);
    roots.push(node);
    this.emitter.fire(undefined);
    return node;
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
    this.stateEmitter.dispose();
  }
}
