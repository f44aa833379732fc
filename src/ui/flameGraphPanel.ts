/**
 * The flame-graph webview panel: one per window, in the editor area where it is opened, redrawn
 * from the ProfileSession when the profile or the baseline changes (not on other settings, which
 * would lose the zoom). The call tree goes over in pages (FLAME_PAGE_SIZE nodes, the next page
 * when the webview asks, answered only for the tree on show: ui/flameFeed.ts), the page has a strict CSP with a nonce, and it keeps its zoom, search
 * and scroll while hidden. A click zooms; Ctrl/Cmd+click or a double-click opens the function's
 * source in another editor group, so the graph stays in view. "Show in flame graph" on a hot
 * function opens it zoomed into that function's heaviest call path.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { FlameKind, FlameViewState, FromFlameGraph, ToFlameGraph } from '../webview/messages';
import { CODE_KINDS } from './codeKind';
import type { FlameGraphStatus } from './extensionApi';
import { flameDiff } from './flameDiff';
import { FlameFeed, type FlameInitFields } from './flameFeed';
import { shownMetric } from '../model/metrics';
import { nanosPerSample } from './heatIndex';
import { isSampleMetric } from './metricText';
import type { Profile } from '../model/profile';
import type { ProfileSession } from './profileSession';
import { eventLabel } from './summaryText';

/** How long a new page may take to say it is ready before it is opened again (once). */
const READY_WAIT_MS = 10_000;

export class FlameGraphPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly subs: vscode.Disposable[] = [];
  private ready = false;
  /** Waits for a new page's "ready" (watchStart); whether this opening was retried; how many times pages were. */
  private startTimer: NodeJS.Timeout | undefined;
  private retried = false;
  private reopened = 0;
  /** The tree on show, page by page, and which of the page's requests are still current. */
  private readonly feed = new FlameFeed();
  /** What was last sent: a redraw only when the profile or the baseline compared with changed. */
  private sent: { profile: Profile | undefined; baseline: Profile | undefined } | undefined;
  private pageState: FlameViewState | undefined;
  /** A function to zoom into once the page is ready for the tree (showFunction before the panel was open). */
  private pendingZoom: string | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly session: ProfileSession,
    /** Opens a function (by name) in an editor of the given column. */
    private readonly openFunction: (name: string, column: vscode.ViewColumn) => Promise<void>,
    /** A line for the extension's log. */
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.subs.push(session.onDidChange(() => this.sendIfChanged()));
  }

  /** Opens the panel in the active editor group, or brings it to the front. */
  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    this.retried = false;
    // The active editor group: the whole editor area when there is one group, not a narrow extra column.
    this.create({ viewColumn: vscode.ViewColumn.Active });
  }

  private create(where: { viewColumn: vscode.ViewColumn; preserveFocus?: boolean }): void {
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    const scripts = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    const panel = vscode.window.createWebviewPanel('goPerfLens.flameGraph', 'Flame graph', where, {
      enableScripts: true,
      localResourceRoots: [media, scripts],
      // Zoom, search and scroll stay as they were when the user comes back to the tab.
      retainContextWhenHidden: true,
    });
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(media, 'goPerfLens.svg');
    this.ready = false;
    this.sent = undefined;
    panel.webview.html = this.html(panel.webview, media, scripts);
    panel.webview.onDidReceiveMessage((m: FromFlameGraph) => this.onMessage(m), undefined, this.subs);
    panel.onDidDispose(() => {
      if (this.panel !== panel) return;
      clearTimeout(this.startTimer);
      this.panel = undefined;
      this.ready = false;
      this.sent = undefined;
      this.pageState = undefined;
    });
    this.watchStart();
  }

  /**
   * VS Code for the Web (code-server) serves every webview from one origin, and a new page's
   * service worker sometimes never takes control of it: the page then never loads and the tab
   * stays blank ("Found unexpected service worker controller… Waiting for controllerchange" in
   * the browser's console). A page that has not said it is ready within READY_WAIT_MS is closed
   * and opened again in its column, once per opening; a slow page that is merely late loses only
   * that wait.
   */
  private watchStart(): void {
    clearTimeout(this.startTimer);
    this.startTimer = setTimeout(() => {
      const panel = this.panel;
      if (!panel || this.ready || this.retried) return;
      this.retried = true;
      this.reopened++;
      this.log(`The flame graph's page did not start within ${READY_WAIT_MS / 1000} s: opening it again.`);
      const viewColumn = panel.viewColumn ?? vscode.ViewColumn.Active;
      panel.dispose();
      // Where it was, without taking the keyboard from wherever the user went meanwhile.
      this.create({ viewColumn, preserveFocus: true });
    }, READY_WAIT_MS);
  }

  private html(webview: vscode.Webview, media: vscode.Uri, scripts: vscode.Uri): string {
    const nonce = randomBytes(16).toString('base64');
    const css = webview.asWebviewUri(vscode.Uri.joinPath(media, 'flameGraph.css'));
    const js = webview.asWebviewUri(vscode.Uri.joinPath(scripts, 'flameGraphMain.js'));
    return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; script-src 'nonce-${nonce}'; img-src ${webview.cspSource} data:;">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css}">
<title>Flame graph</title></head>
<body>
<header><input id="search" type="search" placeholder="Search functions" aria-label="Search functions"><button id="reset" title="Zoom out (Escape)">Reset zoom</button>
<select id="colorBy" aria-label="Colour frames by" title="Colour frames by"><option value="kind">Colour: whose code</option><option value="diff">Colour: change against the baseline</option></select>
<span id="legend"></span></header>
<div id="status">Waiting for the profile…</div>
<div id="wrap"><canvas id="flame" role="img" aria-label="Flame graph"></canvas></div>
<div id="tip" hidden></div>
<script nonce="${nonce}" src="${js}"></script>
</body></html>`;
  }

  private post(m: ToFlameGraph): void {
    void this.panel?.webview.postMessage(m);
  }

  private sendIfChanged(): void {
    const profile = this.session.current?.profile;
    const baseline = this.session.comparing ? this.session.baseline?.profile : undefined;
    if (this.sent && this.sent.profile === profile && this.sent.baseline === baseline) return;
    this.sendAll();
  }

  private sendAll(): void {
    if (!this.panel || !this.ready) return;
    const cur = this.session.current;
    const baseline = this.session.comparing ? this.session.baseline : undefined;
    this.sent = { profile: cur?.profile, baseline: baseline?.profile };
    if (!cur) {
      this.post(this.feed.clear('No profile loaded. Run "Go Perf Lens: Profile Go process" or open a profile.'));
      return;
    }
    const p = cur.profile;
    const kinds = this.session.view()!.kinds;
    const init: FlameInitFields = {
      profileKey: `${cur.label}|${p.startTimeMs ?? ''}|${p.totalSamples}|${p.callTree.parents.length}|${baseline?.label ?? ''}`,
      names: p.functions.map((f) => f.name),
      kinds: p.functions.map((f) => CODE_KINDS.indexOf(kinds.kindOf(f.name)) as FlameKind),
      totalSamples: p.totalSamples,
      eventLabel: eventLabel(p),
    };
    const metric = shownMetric(p);
    const nps = nanosPerSample(p);
    // Other metrics than CPU samples: amounts in their own unit and words (allocated bytes, blocked time…).
    if (!isSampleMetric(metric)) init.amount = metric;
    else if (nps !== undefined) init.nanosPerSample = nps;
    if (baseline) init.baselineLabel = baseline.label;
    for (const m of this.feed.start(p.callTree, init, baseline ? flameDiff(p, baseline.profile) : undefined)) this.post(m);
    if (this.pendingZoom !== undefined) this.zoomTo(this.pendingZoom);
  }

  /**
   * Shows the graph zoomed into `name`'s heaviest call path (its call-tree node with the most of
   * the metric shown): "Show in flame graph" on a hot function. False when the profile has no such frame.
   */
  showFunction(name: string): boolean {
    const p = this.session.current?.profile;
    const fn = p ? p.functions.findIndex((f) => f.name === name) : -1;
    if (!p || fn < 0 || !p.callTree.functions.includes(fn)) return false;
    this.show();
    if (this.ready) this.zoomTo(name);
    else this.pendingZoom = name;
    return true;
  }

  private zoomTo(name: string): void {
    this.pendingZoom = undefined;
    const p = this.session.current?.profile;
    if (!p) return;
    const t = p.callTree;
    let best = -1;
    for (let i = 0; i < t.parents.length; i++)
      if (p.functions[t.functions[i]!]?.name === name && (best < 0 || t.totalSamples[i]! > t.totalSamples[best]!)) best = i;
    const m = best >= 0 ? this.feed.zoom(best) : undefined;
    if (m) this.post(m);
  }

  /** Another editor group than the graph's (the first one), or a new one beside it. */
  private otherColumn(): vscode.ViewColumn {
    const own = this.panel?.viewColumn;
    const other = vscode.window.tabGroups.all.find((g) => g.viewColumn !== own);
    return other?.viewColumn ?? vscode.ViewColumn.Beside;
  }

  private onMessage(m: FromFlameGraph): void {
    switch (m.type) {
      case 'ready':
        clearTimeout(this.startTimer);
        this.ready = true;
        this.sendAll();
        break;
      case 'more': {
        const answer = this.feed.more(m);
        if (answer) this.post(answer);
        break;
      }
      case 'open': {
        const node = this.feed.node(m);
        const p = this.session.current?.profile;
        const fn = node !== undefined ? p?.callTree.functions[node] : undefined;
        const name = fn !== undefined ? p?.functions[fn]?.name : undefined;
        if (name) void this.openFunction(name, this.otherColumn());
        break;
      }
      case 'state': {
        const { zoomed, search, scrollTop, colorBy, status, frame } = m;
        this.pageState = { zoomed, search, scrollTop, colorBy, status, frame };
        break;
      }
    }
  }

  /** For tests: is the panel open, has its script started, how much of the tree has it stored, where it is. */
  status(): FlameGraphStatus {
    const s: FlameGraphStatus = {
      open: !!this.panel,
      ready: this.ready,
      reopened: this.reopened,
      nodesAcked: this.feed.acked,
      nodeCount: this.session.current?.profile.callTree.parents.length ?? 0,
      groups: vscode.window.tabGroups.all.length,
    };
    if (this.panel?.viewColumn !== undefined) s.viewColumn = this.panel.viewColumn;
    if (this.pageState) s.state = this.pageState;
    return s;
  }

  dispose(): void {
    clearTimeout(this.startTimer);
    this.panel?.dispose();
    for (const s of this.subs) s.dispose();
  }
}
