/**
 * The flame-graph webview panel: one per window, redrawn from the ProfileSession. The call
 * tree goes over in pages (FLAME_PAGE_SIZE nodes, the next page when the webview asks), the
 * page has a strict CSP with a nonce, and clicking a frame opens the function's source.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { FLAME_PAGE_SIZE, type FromFlameGraph, type ToFlameGraph } from '../webview/messages';
import { nanosPerSample } from './heatIndex';
import type { ProfileSession } from './profileSession';
import { eventLabel } from './summaryText';

export class FlameGraphPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly subs: vscode.Disposable[] = [];
  private ready = false;
  /** Nodes the webview has acknowledged (it asks for the next page after storing one). */
  private nodesAcked = 0;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly session: ProfileSession,
    /** Opens a function (by name) in an editor; the panel keeps focus. */
    private readonly openFunction: (name: string) => Promise<void>,
  ) {
    this.subs.push(session.onDidChange(() => this.sendAll()));
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    const scripts = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    this.panel = vscode.window.createWebviewPanel('goPerfLens.flameGraph', 'Flame graph', vscode.ViewColumn.Beside, {
      enableScripts: true,
      localResourceRoots: [media, scripts],
      retainContextWhenHidden: false,
    });
    this.panel.iconPath = vscode.Uri.joinPath(media, 'goPerfLens.svg');
    this.ready = false;
    this.panel.webview.html = this.html(this.panel.webview, media, scripts);
    this.panel.webview.onDidReceiveMessage((m: FromFlameGraph) => this.onMessage(m), undefined, this.subs);
    this.panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
    });
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
<header><input id="search" type="search" placeholder="Search functions" aria-label="Search functions"><button id="reset" title="Zoom out (Escape)">Reset zoom</button><span id="status">Waiting for the profile…</span></header>
<div id="wrap"><canvas id="flame" role="img" aria-label="Flame graph"></canvas></div>
<div id="tip" hidden></div>
<script nonce="${nonce}" src="${js}"></script>
</body></html>`;
  }

  private post(m: ToFlameGraph): void {
    void this.panel?.webview.postMessage(m);
  }

  private sendAll(): void {
    if (!this.panel || !this.ready) return;
    const cur = this.session.current;
    if (!cur) {
      this.post({ type: 'clear', message: 'No profile loaded. Run "Go Perf Lens: Profile Go process" or open a profile.' });
      return;
    }
    const p = cur.profile;
    const init: ToFlameGraph = { type: 'init', names: p.functions.map((f) => f.name), nodeCount: p.callTree.parents.length, totalSamples: p.totalSamples, eventLabel: eventLabel(p) };
    const nps = nanosPerSample(p);
    if (nps !== undefined) init.nanosPerSample = nps;
    this.nodesAcked = 0;
    this.post(init);
    this.sendPage(0);
  }

  private sendPage(from: number): void {
    const t = this.session.current?.profile.callTree;
    if (!t) return;
    if (from >= t.parents.length) {
      this.post({ type: 'done' });
      return;
    }
    const to = Math.min(from + FLAME_PAGE_SIZE, t.parents.length);
    this.post({
      type: 'nodes',
      start: from,
      parents: t.parents.slice(from, to),
      functions: t.functions.slice(from, to),
      totalSamples: t.totalSamples.slice(from, to),
      selfSamples: t.selfSamples.slice(from, to),
    });
  }

  private onMessage(m: FromFlameGraph): void {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.sendAll();
        break;
      case 'more':
        this.nodesAcked = m.from;
        this.sendPage(m.from);
        break;
      case 'open': {
        const p = this.session.current?.profile;
        const fn = p?.callTree.functions[m.node];
        const name = fn !== undefined ? p?.functions[fn]?.name : undefined;
        if (name) void this.openFunction(name);
        break;
      }
    }
  }

  /** For tests: is the panel open, has its script started, how much of the tree has it stored. */
  status(): { open: boolean; ready: boolean; nodesAcked: number; nodeCount: number } {
    return { open: !!this.panel, ready: this.ready, nodesAcked: this.nodesAcked, nodeCount: this.session.current?.profile.callTree.parents.length ?? 0 };
  }

  dispose(): void {
    this.panel?.dispose();
    for (const s of this.subs) s.dispose();
  }
}
