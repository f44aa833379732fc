/**
 * The latency panel's page body: three tabs — function latency, goroutine scheduling, syscalls —
 * each with its histograms as <img> (data: URIs), and, where a tab has nothing yet, how to record
 * it. Tabs and the "show the runtime's idle waits" switch are plain HTML form controls styled by
 * CSS (the page runs no script); syscall sites and commands are command: links, which the panel
 * allows for exactly those commands. Pure: no vscode import.
 */
import type { HistogramBucket, Profile } from '../model/profile';
import { CodeKinds } from './codeKind';
import { formatCount, formatDuration, formatRate } from './format';
import { histogramSvg, svgDataUri } from './histogramSvg';
import { callsPerSecond } from './summaryText';
import { isRuntimeIdleWait, syscallSites, type SiteFrame } from './syscallSites';

/** The commands the page links to (LatencyPanel allows exactly these). */
export const PANEL_COMMANDS = ['goPerfLens.openSite', 'goPerfLens.profileProcess', 'goPerfLens.traceFunction'] as const;

function esc(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string);
}

function img(buckets: HistogramBucket[], alt: string, markers?: Record<string, number>): string {
  return buckets.some((b) => b.count > 0)
    ? `<img alt="${esc(alt)}" src="${svgDataUri(histogramSvg(buckets, { width: 420, height: 130, ...(markers ? { markers } : {}) }))}">`
    : '';
}

function commandLink(command: (typeof PANEL_COMMANDS)[number], args: unknown[], text: string, title: string): string {
  return `<a href="command:${command}?${encodeURIComponent(JSON.stringify(args))}" title="${esc(title)}">${text}</a>`;
}

function siteLink(at: SiteFrame): string {
  const base = at.file.split('/').pop() ?? at.file;
  return commandLink(
    'goPerfLens.openSite',
    [at.file, at.line1],
    `<code>${esc(at.function)}</code> (${esc(base)}:${at.line1})`,
    `Open ${at.file}:${at.line1}`,
  );
}

const RECORD_HOW = (what: string): string =>
  `Record it with ${commandLink('goPerfLens.profileProcess', [], 'Profile Go process', 'Pick a process, then what to record')} → “${what}”.`;

export function latencyPanelBody(p: Profile | undefined, kinds: CodeKinds = new CodeKinds([])): string {
  if (!p) return `<p class="muted">No profile loaded. ${RECORD_HOW('CPU sampling')}</p>`;
  const lats = p.latency ?? [];
  const calls = lats.length ? `${lats.length}` : '—';
  const out: string[] = [];
  // CSS-only tabs: the checked radio shows its panel.
  out.push(
    '<div class="tabs">',
    `<input type="radio" name="tab" id="tab-latency" checked><label for="tab-latency">Function latency (${calls})</label>`,
    `<input type="radio" name="tab" id="tab-sched"><label for="tab-sched">Goroutine scheduling${p.sched ? '' : ' (—)'}</label>`,
    `<input type="radio" name="tab" id="tab-syscalls"><label for="tab-syscalls">Syscalls${p.syscalls ? ` (${p.syscalls.length})` : ' (—)'}</label>`,
  );

  out.push('<section class="panel" id="panel-latency"><h2>Function latency</h2>');
  if (!lats.length)
    out.push(
      `<p class="muted">No function traced yet: use “Trace latency of this function” on a func (code lens, editor or tree context menu), or ${RECORD_HOW('Latency of chosen functions')}</p>`,
    );
  else
    out.push(
      '<p class="muted">Wall-clock time per call, from entry to return: time spent waiting (locks, I/O, the scheduler) is included. p50 and p99 are marked on each histogram.</p>',
    );
  for (const l of lats) {
    const rate = callsPerSecond(l);
    const d = (ns: number): string => (l.calls > 0 ? formatDuration(ns) : '—');
    out.push(
      `<h3><code>${esc(l.function)}</code></h3>${img(l.buckets, `latency of ${l.function}`, l.calls > 0 ? { p50: l.p50Nanos, p99: l.p99Nanos } : undefined)}`,
      `<table><tr><th>calls</th><th>rate</th><th>p50</th><th>p90</th><th>p99</th><th>unmatched</th><th>traced for</th></tr><tr><td>${formatCount(l.calls)}</td><td>${rate !== undefined ? formatRate(rate) + '/s' : '—'}</td><td>${d(l.p50Nanos)}</td><td>${d(l.p90Nanos)}</td><td>${d(l.p99Nanos)}</td><td>${formatCount(l.unmatched)}</td><td>${l.durationNanos > 0 ? formatDuration(l.durationNanos) : '—'}</td></tr></table>`,
    );
  }
  out.push('</section>');

  out.push('<section class="panel" id="panel-sched"><h2>Goroutine scheduling latency</h2>');
  if (!p.sched)
    out.push(
      `<p class="muted">Not recorded: how long runnable goroutines wait for a thread. ${RECORD_HOW('Goroutine scheduling latency')}</p>`,
    );
  else {
    const s = p.sched;
    out.push(
      '<p class="muted">From the moment a goroutine becomes runnable to the moment it runs.</p>',
      img(s.buckets, 'scheduling latency', s.count > 0 ? { p50: s.p50Nanos, p99: s.p99Nanos } : undefined),
      `<table><tr><th>waits</th><th>p50</th><th>p90</th><th>p99</th><th>traced for</th></tr><tr><td>${formatCount(s.count)}</td><td>${formatDuration(s.p50Nanos)}</td><td>${formatDuration(s.p90Nanos)}</td><td>${formatDuration(s.p99Nanos)}</td><td>${s.durationNanos > 0 ? formatDuration(s.durationNanos) : '—'}</td></tr></table>`,
    );
    if (s.worst.length) {
      out.push('<h3>Worst waits</h3><table><tr><th>goroutine</th><th>worst wait</th><th>runs</th><th>created at</th></tr>');
      for (const w of s.worst) {
        const created = w.createdAt
          ? siteOrText(w.createdAt) + creationStackHtml(w.creationStack)
          : '<span class="muted">not recorded</span>';
        out.push(
          `<tr><td>${w.goid}</td><td>${formatDuration(w.waitNanos)}</td><td>${w.startFunction ? `<code>${esc(w.startFunction)}</code>` : '<span class="muted">—</span>'}</td><td>${created}</td></tr>`,
        );
      }
      out.push('</table>');
    }
  }
  out.push('</section>');

  out.push('<section class="panel" id="panel-syscalls"><h2>Syscalls</h2>');
  if (!p.syscalls?.length)
    out.push(
      `<p class="muted">Not recorded: which syscalls the program makes, how long they take and from where. ${RECORD_HOW('Syscalls')}</p>`,
    );
  else {
    const all = [...p.syscalls].sort((a, b) => b.totalNanos - a.totalNanos);
    const idle = all.filter((c) => isRuntimeIdleWait(c, kinds));
    const busy = all.filter((c) => !idle.includes(c));
    const window = all.find((c) => c.windowNanos)?.windowNanos;
    out.push(
      `<p class="muted">“Total” is summed over every thread: in a ${window ? formatDuration(window) : ''} window, 8 threads each blocked the whole time add up to ${window ? formatDuration(8 * window) : '8 × the window'}. “Threads” is that total divided by the window: how many threads were in the syscall, on average.</p>`,
    );
    // The switch comes before what it shows (CSS sibling selectors).
    if (idle.length)
      out.push(
        `<input type="checkbox" id="show-idle"><label for="show-idle" class="muted">Show the runtime’s idle waits (${idle.map((c) => esc(c.name)).join(', ')}: the scheduler parking threads and the netpoller waiting, with no frame of your code)</label>`,
      );
    out.push('<table><tr><th>syscall</th><th>count</th><th>total</th><th>threads</th><th>mean</th></tr>');
    const row = (c: (typeof all)[number], cls: string): string =>
      `<tr class="${cls}"><td>${esc(c.name)}</td><td>${formatCount(c.count)}</td><td>${formatDuration(c.totalNanos)}</td><td>${c.windowNanos ? (c.totalNanos / c.windowNanos).toFixed(1) : '—'}</td><td>${c.count ? formatDuration(c.totalNanos / c.count) : '—'}</td></tr>`;
    for (const c of busy) out.push(row(c, ''));
    for (const c of idle) out.push(row(c, 'idle'));
    out.push('</table>');
    for (const c of all.filter((x) => x.buckets.some((b) => b.count > 0)).slice(0, 10)) {
      const cls = idle.includes(c) ? ' class="idle"' : '';
      out.push(`<div${cls}><h3>${esc(c.name)}</h3>${img(c.buckets, `latency of ${c.name}`)}`);
      for (const site of syscallSites(c, kinds)) {
        const where = site.at ? siteLink(site.at) : '<span class="muted">the runtime</span>';
        out.push(
          `<div class="site">${formatCount(site.count)} × ${where}${site.via.length ? ` <span class="muted">via ${site.via.map(esc).join(' ← ')}</span>` : ''}</div>`,
        );
      }
      out.push('</div>');
    }
  }
  out.push('</section></div>');
  return out.join('\n');
}

/** The callers of the `go` statement (its own frame is the "created at" link), each a link. */
function creationStackHtml(stack: string[] | undefined): string {
  if (!stack) return ' <span class="muted">· no creating stack (created before tracing began, or its stack was not walkable)</span>';
  const callers = stack.slice(1);
  if (!callers.length) return '';
  return `<details class="creation-stack"><summary>called from ${callers.length} frame${callers.length === 1 ? '' : 's'}</summary>${callers.map((f) => `<div class="frame">${siteOrText(f)}</div>`).join('')}</details>`;
}

/** A symbolized "func (file:line)" as a link to the site; anything else as text. */
function siteOrText(text: string): string {
  const m = /^(.*) \((.*):(\d+)\)$/.exec(text);
  return m ? siteLink({ function: m[1]!, file: m[2]!, line1: Number(m[3]) }) : esc(text);
}
