/**
 * A panel with the eBPF results: per-function latency, goroutine scheduling latency and
 * syscalls, each with its histogram. Static HTML (no script at all), rebuilt on change.
 */
import * as vscode from 'vscode';
import type { HistogramBucket, Profile } from '../model/profile';
import { formatCount, formatDuration } from './format';
import { histogramSvg, svgDataUri } from './histogramSvg';
import type { ProfileSession } from './profileSession';
import { callsPerSecond } from './summaryText';

function esc(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string);
}

function img(buckets: HistogramBucket[], alt: string): string {
  return buckets.some((b) => b.count > 0) ? `<img alt="${esc(alt)}" src="${svgDataUri(histogramSvg(buckets, { width: 420, height: 130 }))}">` : '';
}

export function latencyPanelBody(p: Profile | undefined): string {
  if (!p) return '<p class="muted">No profile loaded.</p>';
  const out: string[] = [];
  const lats = p.latency ?? [];
  out.push('<section><h2>Function latency</h2>');
  if (!lats.length) out.push('<p class="muted">No function traced yet: use "Trace latency of this function" on a func.</p>');
  for (const l of lats) {
    const rate = callsPerSecond(l);
    out.push(
      `<h3><code>${esc(l.function)}</code></h3>${img(l.buckets, `latency of ${l.function}`)}`,
      `<table><tr><th>calls</th><th>rate</th><th>p50</th><th>p90</th><th>p99</th><th>unmatched</th></tr><tr><td>${formatCount(l.calls)}</td><td>${rate !== undefined ? formatCount(rate) + '/s' : '—'}</td><td>${formatDuration(l.p50Nanos)}</td><td>${formatDuration(l.p90Nanos)}</td><td>${formatDuration(l.p99Nanos)}</td><td>${formatCount(l.unmatched)}</td></tr></table>`,
    );
  }
  out.push('</section>');
  if (p.sched) {
    const s = p.sched;
    out.push(
      '<section><h2>Goroutine scheduling latency</h2>',
      img(s.buckets, 'scheduling latency'),
      `<table><tr><th>waits</th><th>p50</th><th>p90</th><th>p99</th></tr><tr><td>${formatCount(s.count)}</td><td>${formatDuration(s.p50Nanos)}</td><td>${formatDuration(s.p90Nanos)}</td><td>${formatDuration(s.p99Nanos)}</td></tr></table>`,
    );
    if (s.worst.length) out.push(`<table><tr><th>goroutine</th><th>worst wait</th></tr>${s.worst.map((w) => `<tr><td>${w.goid}</td><td>${formatDuration(w.waitNanos)}</td></tr>`).join('')}</table>`);
    out.push('</section>');
  }
  if (p.syscalls?.length) {
    out.push('<section><h2>Syscalls</h2><table><tr><th>syscall</th><th>count</th><th>total</th><th>mean</th></tr>');
    for (const c of [...p.syscalls].sort((a, b) => b.totalNanos - a.totalNanos)) {
      out.push(`<tr><td>${esc(c.name)}</td><td>${formatCount(c.count)}</td><td>${formatDuration(c.totalNanos)}</td><td>${c.count ? formatDuration(c.totalNanos / c.count) : '—'}</td></tr>`);
    }
    out.push('</table>');
    for (const c of p.syscalls.filter((x) => x.buckets.some((b) => b.count > 0)).slice(0, 8)) {
      out.push(`<h3>${esc(c.name)}</h3>${img(c.buckets, `latency of ${c.name}`)}`);
      for (const site of c.topSites ?? []) out.push(`<div class="muted">${formatCount(site.count)} × ${site.frames.map(esc).join(' ← ')}</div>`);
    }
    out.push('</section>');
  }
  return out.join('\n');
}

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
    this.panel = vscode.window.createWebviewPanel('goPerfLens.latency', 'Latency', vscode.ViewColumn.Beside, { enableScripts: false, localResourceRoots: [media] });
    this.panel.onDidDispose(() => (this.panel = undefined));
    this.render();
  }

  private render(): void {
    if (!this.panel) return;
    const w = this.panel.webview;
    const css = w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'flameGraph.css'));
    w.html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${w.cspSource}; img-src data:;">
<link rel="stylesheet" href="${css}"><title>Latency</title></head><body>${latencyPanelBody(this.session.current?.profile)}</body></html>`;
  }

  dispose(): void {
    this.panel?.dispose();
    this.sub.dispose();
  }
}
