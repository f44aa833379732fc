/**
 * The flame graph, drawn on a canvas by our own code: x is a frame's share of its parent,
 * y its depth (roots at the top, icicle style). Zoom by clicking a frame (Escape or "Reset"
 * zooms out), search highlights matching frames, clicking also opens the frame's source.
 * Only frames wider than half a pixel are drawn, and a too-narrow frame's whole subtree is
 * skipped (children follow their parent in pre-order), so 100,000 nodes stay responsive.
 */
import type { FromFlameGraph, ToFlameGraph } from './messages';

declare function acquireVsCodeApi(): { postMessage(m: FromFlameGraph): void };
const vscode = acquireVsCodeApi();

const ROW = 18;
const canvas = document.getElementById('flame') as HTMLCanvasElement;
const ctx = canvas.getContext('2d')!;
const status = document.getElementById('status')!;
const search = document.getElementById('search') as HTMLInputElement;
const reset = document.getElementById('reset') as HTMLButtonElement;
const tip = document.getElementById('tip')!;

let names: string[] = [];
let eventLabel = '';
let nanosPerSample: number | undefined;
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
let matches: Uint8Array | undefined;
let hits: { node: number; x: number; y: number; w: number }[] = [];

window.addEventListener('message', (ev: MessageEvent<ToFlameGraph>) => {
  const m = ev.data;
  switch (m.type) {
    case 'init':
      names = m.names;
      eventLabel = m.eventLabel;
      nanosPerSample = m.nanosPerSample;
      totalSamples = m.totalSamples;
      n = m.nodeCount;
      received = 0;
      parents = new Int32Array(n);
      functions = new Int32Array(n);
      totals = new Float64Array(n);
      selfs = new Float64Array(n);
      status.textContent = `Loading ${n.toLocaleString()} frames…`;
      if (n === 0) finish();
      break;
    case 'nodes':
      parents.set(m.parents, m.start);
      functions.set(m.functions, m.start);
      totals.set(m.totalSamples, m.start);
      selfs.set(m.selfSamples, m.start);
      received = m.start + m.parents.length;
      status.textContent = `Loading ${received.toLocaleString()} / ${n.toLocaleString()} frames…`;
      vscode.postMessage({ type: 'more', from: received });
      break;
    case 'done':
      finish();
      break;
    case 'clear':
      n = 0;
      hits = [];
      status.textContent = m.message;
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
  zoom = { x0: 0, x1: Math.max(rootTotal, 1), node: -1 };
  status.textContent = `${n.toLocaleString()} frames · ${totalSamples.toLocaleString()} samples of ${eventLabel}. Click a frame to zoom in and open its source; Escape zooms out.`;
  applySearch();
  draw();
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
    const y = (depth[i]!) * ROW;
    const name = names[functions[i]!] ?? '?';
    const hue = 10 + (hueOf(name) % 45);
    const highlighted = matches ? matches[i] === 1 : false;
    ctx.fillStyle = highlighted ? (dark ? 'hsl(200, 70%, 45%)' : 'hsl(200, 80%, 65%)') : `hsl(${hue}, ${dark ? 65 : 80}%, ${d < 0 ? (dark ? 25 : 80) : dark ? 38 : 68}%)`;
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

function describe(i: number): string {
  const t = totals[i]!;
  const share = totalSamples > 0 ? ((100 * t) / totalSamples).toFixed(1) : '0';
  const time = nanosPerSample !== undefined ? ` ≈ ${formatNanos(t * nanosPerSample)}` : '';
  return `${names[functions[i]!]}\n${share}% · ${t.toLocaleString()} samples${time} (self ${selfs[i]!.toLocaleString()})`;
}

function formatNanos(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(1)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${Math.round(ns)} ns`;
}

canvas.addEventListener('click', (ev) => {
  const i = nodeAt(ev);
  if (i < 0) return;
  zoom = { x0: xs[i]!, x1: xs[i]! + Math.max(totals[i]!, 1e-9), node: i };
  draw();
  vscode.postMessage({ type: 'open', node: i });
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
  draw();
}
reset.addEventListener('click', zoomOut);
window.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') zoomOut();
});

function applySearch(): void {
  const q = search.value.trim().toLowerCase();
  if (!q) {
    matches = undefined;
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
  status.textContent = `“${search.value}”: ${totalSamples > 0 ? ((100 * samples) / totalSamples).toFixed(1) : '0'}% of samples`;
}

let searchTimer: number | undefined;
search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = window.setTimeout(() => {
    applySearch();
    draw();
  }, 120);
});

new ResizeObserver(() => draw()).observe(canvas.parentElement!);
vscode.postMessage({ type: 'ready' });
