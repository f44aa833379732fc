/**
 * The flame graph, drawn on a canvas by our own code: x is a frame's share of its parent,
 * y its depth (roots at the top, icicle style). A click zooms into a frame (Escape or "Reset"
 * zooms out); Ctrl/Cmd+click or a double-click asks the extension to open the frame's source in
 * another editor group. Frames are coloured by whose code they are (the workspace's, the
 * standard library, the runtime, other modules) or, against a baseline, by how much their call
 * path's share changed (red hotter, blue cooler, as pprof's -diff_base). Colours follow the theme
 * as soon as it changes. Zoom, search and scroll are kept in the webview's state.
 * Only frames wider than half a pixel are drawn, and a too-narrow frame's whole subtree is
 * skipped (children follow their parent in pre-order), so 100,000 nodes stay responsive.
 */
import type { FlameInit, FlameViewState, FromFlameGraph, ToFlameGraph } from './messages';
import { formatMetricAmount, metricFigure } from '../ui/metricText';
import { formatDuration } from '../ui/format';

interface SavedState {
  profileKey: string;
  zoomNode: number;
  view: FlameViewState;
}

declare function acquireVsCodeApi(): {
  postMessage(m: FromFlameGraph): void;
  getState(): SavedState | undefined;
  setState(s: SavedState): void;
};
const vscode = acquireVsCodeApi();

const ROW = 18;
const canvas = document.getElementById('flame') as HTMLCanvasElement;
const ctx = canvas.getContext('2d')!;
const status = document.getElementById('status')!;
const search = document.getElementById('search') as HTMLInputElement;
const reset = document.getElementById('reset') as HTMLButtonElement;
const colorBySelect = document.getElementById('colorBy') as HTMLSelectElement;
const legend = document.getElementById('legend')!;
const tip = document.getElementById('tip')!;

let names: string[] = [];
let kinds: number[] = [];
let profileKey = '';
/** The generation of the tree on show (messages.ts): pages of another one are stale, and requests carry it. */
let gen = 0;
let baselineLabel: string | undefined;
let diffs: Float64Array | undefined;
let maxAbsDiff = 0;
let colorBy: 'kind' | 'diff' = 'kind';
let eventLabel = '';
let nanosPerSample: number | undefined;
let amount: FlameInit['amount'];
let totalSamples = 0;
let n = 0;
let received = 0;
let parents = new Int32Array(0);
let functions = new Int32Array(0);
let totals = new Float64Array(0);
let selfs = new Float64Array(0);
// Layout, computed once all pages are in: x offset (in samples), depth, subtree end.
let xs = new Float64Array(0);
let depth = new Int32Array(0);
let end = new Int32Array(0);
let rootTotal = 0;
let maxDepth = 0;
let zoom = { x0: 0, x1: 1, node: -1 };
/** Whether the tree on show is all in and laid out (finish ran for it). */
let laidOut = false;
/** A zoom the extension asked for before the whole tree was in (applied by finish). */
let pendingZoom = -1;
/** The status line when zoomed out and no search is on (totals and how to use the graph). */
let summary = '';
let matches: Uint8Array | undefined;
let hits: { node: number; x: number; y: number; w: number }[] = [];

window.addEventListener('message', (ev: MessageEvent<ToFlameGraph>) => {
  const m = ev.data;
  if (m.type === 'init' || m.type === 'clear') gen = m.gen;
  else if (m.gen !== gen) return;
  switch (m.type) {
    case 'init':
      names = m.names;
      kinds = m.kinds;
      profileKey = m.profileKey;
      baselineLabel = m.baselineLabel;
      diffs = baselineLabel !== undefined ? new Float64Array(m.nodeCount) : undefined;
      eventLabel = m.eventLabel;
      nanosPerSample = m.nanosPerSample;
      amount = m.amount;
      totalSamples = m.totalSamples;
      n = m.nodeCount;
      received = 0;
      parents = new Int32Array(n);
      functions = new Int32Array(n);
      totals = new Float64Array(n);
      selfs = new Float64Array(n);
      pendingZoom = -1;
      laidOut = false;
      status.textContent = `Loading ${n.toLocaleString()} frames…`;
      if (n === 0) finish();
      break;
    case 'nodes':
      parents.set(m.parents, m.start);
      functions.set(m.functions, m.start);
      totals.set(m.totalSamples, m.start);
      selfs.set(m.selfSamples, m.start);
      if (diffs && m.diff) diffs.set(m.diff, m.start);
      received = m.start + m.parents.length;
      status.textContent = `Loading ${received.toLocaleString()} / ${n.toLocaleString()} frames…`;
      vscode.postMessage({ type: 'more', gen, from: received });
      break;
    case 'zoom':
      if (laidOut) zoomTo(m.node);
      else pendingZoom = m.node;
      break;
    case 'done':
      finish();
      break;
    case 'clear':
      n = 0;
      laidOut = false;
      pendingZoom = -1;
      hits = [];
      status.textContent = m.message;
      legend.textContent = '';
      draw();
      break;
  }
});

function finish(): void {
  xs = new Float64Array(n);
  depth = new Int32Array(n);
  end = new Int32Array(n);
  const next = new Float64Array(n);
  rootTotal = 0;
  maxDepth = 0;
  for (let i = 0; i < n; i++) {
    const p = parents[i]!;
    if (p < 0) {
      xs[i] = rootTotal;
      rootTotal += totals[i]!;
      depth[i] = 0;
    } else {
      xs[i] = next[p]!;
      next[p] = next[p]! + totals[i]!;
      depth[i] = depth[p]! + 1;
    }
    next[i] = xs[i]!;
    if (depth[i]! > maxDepth) maxDepth = depth[i]!;
  }
  // Subtree end (exclusive): a node's subtree is [i, end[i]) in pre-order.
  for (let i = n - 1; i >= 0; i--) {
    if (end[i] === 0) end[i] = i + 1;
    const p = parents[i]!;
    if (p >= 0 && end[i]! > end[p]!) end[p] = end[i]!;
  }
  maxAbsDiff = 0;
  if (diffs) for (let i = 0; i < n; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(diffs[i]!));
  zoom = { x0: 0, x1: Math.max(rootTotal, 1), node: -1 };
  colorBySelect.disabled = !diffs;
  colorBy = diffs ? 'diff' : 'kind';
  // Coming back to the same profile (the page was reloaded): zoom, search and scroll as they were.
  const saved = vscode.getState();
  if (saved && saved.profileKey === profileKey) {
    if (saved.zoomNode >= 0 && saved.zoomNode < n) zoomTo(saved.zoomNode, false);
    search.value = saved.view.search;
    if (diffs) colorBy = saved.view.colorBy;
  }
  if (pendingZoom >= 0 && pendingZoom < n) zoomTo(pendingZoom, false);
  pendingZoom = -1;
  laidOut = true;
  colorBySelect.value = colorBy;
  const inAll = amount
    ? `${amount.label}: ${formatMetricAmount(totalSamples, amount)} in all`
    : `${totalSamples.toLocaleString()} samples of ${eventLabel}`;
  summary = `${n.toLocaleString()} frames · ${inAll}${baselineLabel !== undefined ? `, compared with ${baselineLabel}` : ''}. Click a frame to zoom in; Ctrl/Cmd+click or double-click opens its source beside; Escape zooms out.`;
  applySearch();
  draw();
  if (saved && saved.profileKey === profileKey) document.scrollingElement!.scrollTop = saved.view.scrollTop;
  saveState();
}

/** Saves the view in the webview's state and tells the extension (tests read it from there). */
function saveState(): void {
  const view: FlameViewState = {
    zoomed: zoom.node >= 0 ? (names[functions[zoom.node]!] ?? '') : '',
    search: search.value,
    scrollTop: Math.round(document.scrollingElement?.scrollTop ?? 0),
    colorBy,
    status: status.textContent ?? '',
    frame: zoom.node >= 0 ? frameText(zoom.node) : '',
  };
  vscode.setState({ profileKey, zoomNode: zoom.node, view });
  // Also on the page itself, for end-to-end tests that read the DOM.
  document.body.dataset.zoomed = view.zoomed;
  document.body.dataset.frames = String(n);
  vscode.postMessage({ type: 'state', ...view });
}

/** Kind colours: hue and saturation per kind (0 mine, 1 std, 2 runtime, 3 other), lightness by theme. */
const KIND_STYLE: readonly { hue: number; sat: number; label: string }[] = [
  { hue: 22, sat: 85, label: 'my code' },
  { hue: 205, sat: 60, label: 'standard library' },
  { hue: 0, sat: 0, label: 'runtime' },
  { hue: 145, sat: 45, label: 'other modules' },
];

function frameColor(i: number, name: string, dark: boolean, ancestor: boolean): string {
  if (colorBy === 'diff' && diffs) {
    const d = diffs[i]!;
    if (d === 0 || maxAbsDiff === 0) return `hsl(0, 0%, ${dark ? (ancestor ? 22 : 32) : ancestor ? 84 : 78}%)`;
    // Strength on a square-root scale, so small but real changes still show.
    const t = Math.sqrt(Math.min(1, Math.abs(d) / maxAbsDiff));
    const hue = d > 0 ? 0 : 215;
    return `hsl(${hue}, ${Math.round(35 + 50 * t)}%, ${dark ? Math.round(30 + 15 * t) : Math.round(82 - 22 * t)}%)`;
  }
  const k = KIND_STYLE[kinds[functions[i]!] ?? 2]!;
  // A small lightness wobble by name keeps neighbouring frames of one kind apart.
  const wobble = (hueOf(name) % 7) - 3;
  const light = dark ? (ancestor ? 24 : 36) + wobble : (ancestor ? 84 : 72) + wobble;
  return `hsl(${k.hue + ((hueOf(name) >> 3) % 9) - 4}, ${k.sat}%, ${light}%)`;
}

function drawLegend(): void {
  legend.textContent = '';
  const items: { color: string; label: string }[] =
    colorBy === 'diff' && diffs
      ? [
          { color: 'hsl(0, 80%, 55%)', label: 'hotter than the baseline' },
          { color: 'hsl(215, 80%, 55%)', label: 'cooler' },
          { color: 'hsl(0, 0%, 55%)', label: 'no change beyond sampling noise' },
        ]
      : KIND_STYLE.map((k) => ({ color: `hsl(${k.hue}, ${k.sat}%, 50%)`, label: k.label }));
  for (const it of items) {
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = it.color;
    legend.append(sw, document.createTextNode(` ${it.label} `));
  }
}

function hueOf(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) | 0;
  return Math.abs(h);
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function draw(): void {
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.parentElement!.clientWidth;
  const height = Math.max((maxDepth + 1) * ROW, 40);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.width = Math.floor(width * dpr);
  canvas.height = Math.floor(height * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  hits = [];
  drawLegend();
  if (n === 0) return;
  const fg = cssVar('--vscode-editor-foreground', '#ccc');
  const dark = document.body.classList.contains('vscode-dark') || document.body.classList.contains('vscode-high-contrast');
  ctx.font = `${cssVar('--vscode-editor-font-size', '12px').replace(/^(\d+)$/, '$1px')} ${cssVar('--vscode-editor-font-family', 'monospace')}`;
  ctx.textBaseline = 'middle';
  const scale = width / (zoom.x1 - zoom.x0);
  const zoomDepth = zoom.node >= 0 ? depth[zoom.node]! : 0;
  let i = 0;
  while (i < n) {
    const x = (xs[i]! - zoom.x0) * scale;
    const w = totals[i]! * scale;
    // Outside the zoom window or too narrow: skip the whole subtree.
    if (w < 0.5 || x + w < 0 || x > width) {
      i = end[i]!;
      continue;
    }
    // Ancestors of the zoomed node are drawn full width above it; skip other shallow frames.
    const d = depth[i]! - zoomDepth;
    const y = depth[i]! * ROW;
    const name = names[functions[i]!] ?? '?';
    const highlighted = matches ? matches[i] === 1 : false;
    ctx.fillStyle = highlighted ? (dark ? 'hsl(280, 70%, 55%)' : 'hsl(280, 80%, 70%)') : frameColor(i, name, dark, d < 0);
    const cx = Math.max(x, 0);
    const cw = Math.min(x + w, width) - cx;
    ctx.fillRect(cx, y, Math.max(cw - 0.5, 0.5), ROW - 1);
    if (cw > 30) {
      ctx.fillStyle = fg;
      const label = fit(name, cw - 6);
      if (label) ctx.fillText(label, cx + 3, y + ROW / 2);
    }
    hits.push({ node: i, x: cx, y, w: cw });
    i++;
  }
}

const widthCache = new Map<string, number>();
function fit(text: string, width: number): string {
  const charW = widthCache.get(ctx.font) ?? ctx.measureText('m').width;
  widthCache.set(ctx.font, charW);
  const max = Math.floor(width / charW);
  if (max < 3) return '';
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

function nodeAt(ev: MouseEvent): number {
  const r = canvas.getBoundingClientRect();
  const x = ev.clientX - r.left;
  const y = ev.clientY - r.top;
  for (let k = hits.length - 1; k >= 0; k--) {
    const h = hits[k]!;
    if (y >= h.y && y < h.y + ROW && x >= h.x && x < h.x + h.w) return h.node;
  }
  return -1;
}

/**
 * A frame in words: its function, then its share and amount with its own (self) part — in the
 * metric's unit and words for other metrics than CPU ("131 MB alloc (self 131 MB)", "blocked
 * 132 ms (self 0 ns)", "50 contentions"), else samples and the time they stand for — and against
 * a baseline, the change.
 */
function frameText(i: number): string {
  const t = totals[i]!;
  const share = totalSamples > 0 ? ((100 * t) / totalSamples).toFixed(1) : '0';
  const time = nanosPerSample !== undefined ? ` ≈ ${formatDuration(t * nanosPerSample)}` : '';
  // A frame's amount is what it had over the whole profile, not a rate (duration 0).
  let text = amount
    ? `${names[functions[i]!]}\n${share}% · ${metricFigure(t, amount, 0)} (self ${formatMetricAmount(selfs[i]!, amount)})`
    : `${names[functions[i]!]}\n${share}% · ${t.toLocaleString()} samples${time} (self ${selfs[i]!.toLocaleString()})`;
  if (diffs) {
    const d = diffs[i]!;
    const before = totalSamples > 0 ? (100 * t) / totalSamples - 100 * d : 0;
    text +=
      d === 0
        ? '\nno change against the baseline beyond sampling noise'
        : `\nbaseline ${before.toFixed(1)}% → ${share}% (${d > 0 ? '+' : '−'}${Math.abs(100 * d).toFixed(1)} pp)`;
  }
  return text;
}

/** The tooltip of a frame: frameText and how to use it. */
function describe(i: number): string {
  return `${frameText(i)}\nclick: zoom · Ctrl/Cmd+click or double-click: open source`;
}

function zoomTo(i: number, redraw = true): void {
  zoom = { x0: xs[i]!, x1: xs[i]! + Math.max(totals[i]!, 1e-9), node: i };
  if (redraw) {
    showStatus();
    draw();
    saveState();
  }
}

/** The status line: the search's share while searching, else the zoomed frame, else the totals. */
function showStatus(): void {
  if (matches) return;
  status.textContent = zoom.node >= 0 ? `Zoomed into ${frameText(zoom.node).replace(/\n/g, ' · ')} — Escape zooms out.` : summary;
}

canvas.addEventListener('click', (ev) => {
  const i = nodeAt(ev);
  if (i < 0) return;
  if (ev.ctrlKey || ev.metaKey) vscode.postMessage({ type: 'open', gen, node: i });
  else zoomTo(i);
});
canvas.addEventListener('dblclick', (ev) => {
  const i = nodeAt(ev);
  if (i >= 0) vscode.postMessage({ type: 'open', gen, node: i });
});

canvas.addEventListener('mousemove', (ev) => {
  const i = nodeAt(ev);
  if (i < 0) {
    tip.hidden = true;
    return;
  }
  tip.textContent = describe(i);
  tip.hidden = false;
  tip.style.left = `${Math.min(ev.clientX + 12, window.innerWidth - tip.offsetWidth - 4)}px`;
  tip.style.top = `${ev.clientY + 14}px`;
});
canvas.addEventListener('mouseleave', () => (tip.hidden = true));

function zoomOut(): void {
  zoom = { x0: 0, x1: Math.max(rootTotal, 1), node: -1 };
  showStatus();
  draw();
  saveState();
}
reset.addEventListener('click', zoomOut);
window.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') zoomOut();
});

function applySearch(): void {
  const q = search.value.trim().toLowerCase();
  if (!q) {
    matches = undefined;
    showStatus();
    return;
  }
  const nameHit = names.map((s) => s.toLowerCase().includes(q));
  matches = new Uint8Array(n);
  let samples = 0;
  let coveredUntil = -1;
  for (let i = 0; i < n; i++) {
    if (nameHit[functions[i]!]) {
      matches[i] = 1;
      // Count each matching subtree once (nested matches are inside it).
      if (i >= coveredUntil) {
        samples += totals[i]!;
        coveredUntil = end[i]!;
      }
    }
  }
  const share = `${totalSamples > 0 ? ((100 * samples) / totalSamples).toFixed(1) : '0'}%`;
  status.textContent = amount
    ? `“${search.value}”: ${share} of ${amount.label} (${formatMetricAmount(samples, amount)})`
    : `“${search.value}”: ${share} of samples`;
}

let searchTimer: number | undefined;
search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = window.setTimeout(() => {
    applySearch();
    draw();
    saveState();
  }, 120);
});

colorBySelect.addEventListener('change', () => {
  colorBy = colorBySelect.value === 'diff' && diffs ? 'diff' : 'kind';
  draw();
  saveState();
});

let scrollTimer: number | undefined;
window.addEventListener('scroll', () => {
  clearTimeout(scrollTimer);
  scrollTimer = window.setTimeout(saveState, 150);
});

new ResizeObserver(() => draw()).observe(canvas.parentElement!);
// VS Code changes the body's classes and CSS variables when the colour theme changes: redraw at once.
new MutationObserver(() => draw()).observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
vscode.postMessage({ type: 'ready' });
