/**
 * The latency panel's page body: per-function latency, goroutine scheduling latency and
 * syscalls, each with its histogram as an <img> (data: URI). Pure: no vscode import.
 */
import type { HistogramBucket, Profile } from '../model/profile';
import { formatCount, formatDuration, formatRate } from './format';
import { histogramSvg, svgDataUri } from './histogramSvg';
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
    const d = (ns: number): string => (l.calls > 0 ? formatDuration(ns) : '—');
    out.push(
      `<h3><code>${esc(l.function)}</code></h3>${img(l.buckets, `latency of ${l.function}`)}`,
      `<table><tr><th>calls</th><th>rate</th><th>p50</th><th>p90</th><th>p99</th><th>unmatched</th></tr><tr><td>${formatCount(l.calls)}</td><td>${rate !== undefined ? formatRate(rate) + '/s' : '—'}</td><td>${d(l.p50Nanos)}</td><td>${d(l.p90Nanos)}</td><td>${d(l.p99Nanos)}</td><td>${formatCount(l.unmatched)}</td></tr></table>`,
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

