/**
 * A panel with the eBPF results in three tabs: per-function latency, goroutine scheduling
 * latency and syscalls, each with its histogram. Static HTML (no script at all), rebuilt on
 * change; its links run only the commands in PANEL_COMMANDS (open a syscall site, record).
 */
import * as vscode from 'vscode';
import { CodeKinds } from './codeKind';
import { latencyPanelBody, PANEL_COMMANDS } from './latencyPanelHtml';
import type { ProfileSession } from './profileSession';

export class LatencyPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly sub: vscode.Disposable;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly session: ProfileSession,
  ) {
    this.sub = session.onDidChange(() => this.render());
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    this.panel = vscode.window.createWebviewPanel('goPerfLens.latency', 'Latency', vscode.ViewColumn.Beside, {
      enableScripts: false,
      enableCommandUris: [...PANEL_COMMANDS],
      localResourceRoots: [media],
    });
    this.panel.onDidDispose(() => (this.panel = undefined));
    this.render();
  }

  private render(): void {
    if (!this.panel) return;
    const w = this.panel.webview;
    const css = w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'flameGraph.css'));
    w.html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${w.cspSource}; img-src data:;">
<link rel="stylesheet" href="${css}"><title>Latency</title></head><body>${latencyPanelBody(this.session.current?.profile, this.session.view()?.kinds ?? new CodeKinds([]))}</body></html>`;
  }

  dispose(): void {
    this.panel?.dispose();
    this.sub.dispose();
  }
}
