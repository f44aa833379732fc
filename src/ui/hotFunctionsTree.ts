/**
 * The "Hot functions" tree: functions by self share; children are callees (or callers, by
 * toggle) with the samples of that call edge. With a baseline pinned, rows carry deltas.
 */
import * as vscode from 'vscode';
import { formatDeltaPercent, formatPercent } from './format';
import { shortFuncName } from './funcDecl';
import type { ProfileSession } from './profileSession';
import { functionDescription } from './summaryText';

export interface FunctionNode {
  /** Index into Profile.functions of the current profile. */
  fn: number;
  name: string;
  /** For child rows: the samples of the edge to the parent row. */
  edgeSamples?: number;
  parent?: FunctionNode;
}

export type TreeMode = 'callees' | 'callers';

/** Enough roots by self share for any real question; more would only slow the view down. */
const MAX_ROOTS = 500;
/** Functions at or above this cumulative share are roots even past MAX_ROOTS (a handler with no self time). */
const MIN_CUM_SHARE_ROOT = 0.005;

export class HotFunctionsTree implements vscode.TreeDataProvider<FunctionNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<FunctionNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private modeValue: TreeMode = 'callees';
  private roots: FunctionNode[] | undefined;
  private readonly sub: vscode.Disposable;

  constructor(private readonly session: ProfileSession) {
    this.sub = session.onDidChange(() => this.refresh());
    void vscode.commands.executeCommand('setContext', 'goPerfLens.treeMode', this.modeValue);
  }

  get mode(): TreeMode {
    return this.modeValue;
  }

  setMode(mode: TreeMode): void {
    this.modeValue = mode;
    void vscode.commands.executeCommand('setContext', 'goPerfLens.treeMode', mode);
    this.refresh();
  }

  private refresh(): void {
    this.roots = undefined;
    this.emitter.fire(undefined);
  }

  getChildren(node?: FunctionNode): FunctionNode[] {
    const view = this.session.view();
    if (!view) return [];
    const fns = view.profile.functions;
    if (!node) {
      const minCum = MIN_CUM_SHARE_ROOT * view.profile.totalSamples;
      this.roots ??= view.graph
        .hottest()
        .filter((fn, rank) => rank < MAX_ROOTS || fns[fn]!.cumSamples >= minCum)
        .map((fn) => ({ fn, name: fns[fn]!.name }));
      return this.roots;
    }
    const edges = this.modeValue === 'callees' ? view.graph.callees(node.fn) : view.graph.callers(node.fn);
    return edges.map((e) => ({ fn: e.fn, name: fns[e.fn]!.name, edgeSamples: e.samples, parent: node }));
  }

  getParent(node: FunctionNode): FunctionNode | undefined {
    return node.parent;
  }

  getTreeItem(node: FunctionNode): vscode.TreeItem {
    const view = this.session.view();
    const item = new vscode.TreeItem(shortFuncName(node.name));
    if (!view) return item;
    const profile = view.profile;
    const stat = profile.functions[node.fn]!;
    const total = Math.max(profile.totalSamples, 1);
    const edges = this.modeValue === 'callees' ? view.graph.callees(node.fn) : view.graph.callers(node.fn);
    item.collapsibleState = edges.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
    item.id = node.parent ? undefined : `fn:${node.name}`;
    let description = node.edgeSamples !== undefined ? `${formatPercent(node.edgeSamples / total)} ${this.modeValue === 'callees' ? 'in call' : 'from caller'}` : functionDescription(profile, stat);
    const d = view.diff?.functions.get(node.name);
    if (d && node.edgeSamples === undefined) description += ` · Δ ${formatDeltaPercent(d.self.delta)}`;
    item.description = description;
    item.tooltip = new vscode.MarkdownString(`\`${node.name}\`\n\n${functionDescription(profile, stat)}${stat.file ? `\n\n${stat.file}${stat.line1 ? `:${stat.line1}` : ''}` : ''}`);
    item.contextValue = 'goPerfLens.function';
    item.iconPath = new vscode.ThemeIcon(stat.selfSamples / total >= 0.05 ? 'flame' : 'symbol-function');
    item.command = { command: 'goPerfLens.openFunction', title: 'Open function', arguments: [node.name] };
    return item;
  }

  /**
   * The root row of a function (for reveal from a code lens). A function with samples that is
   * not a root (past the cap) becomes one at the end, so every lens can reveal its function.
   */
  rootOf(name: string): FunctionNode | undefined {
    const roots = this.getChildren();
    const found = roots.find((n) => n.name === name);
    if (found) return found;
    const view = this.session.view();
    const fn = view?.graph.indexOf(name);
    const stat = fn === undefined ? undefined : view!.profile.functions[fn];
    if (fn === undefined || !stat || (stat.selfSamples === 0 && stat.cumSamples === 0)) return undefined;
    const node: FunctionNode = { fn, name };
    roots.push(node);
    this.emitter.fire(undefined);
    return node;
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}
