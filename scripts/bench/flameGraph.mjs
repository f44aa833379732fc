// The flame-graph webview (dist/webview/flameGraphMain.js) on a 100,000-node call tree, in
// headless Chromium: time to take in the paged tree and draw it, to zoom into a frame, and to
// search — against a reference measured in the same page: drawing every node of the same
// tree on the same canvas without culling (what a naive renderer does on each redraw).
// Needs playwright-core in GPL_TOOLS (scripts/setup.sh) and Debian's chromium. Writes a
// screenshot to test-results/flame-graph-100k.png.
/* global window, document, MouseEvent, KeyboardEvent -- the page.evaluate() bodies run in the page */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const tools = process.env.GPL_TOOLS ?? '/var/cache/go-perf-lens';
const { chromium } = require(path.join(tools, 'node_modules', 'playwright-core'));
const bundle = fs.readFileSync(path.join(root, 'dist', 'webview', 'flameGraphMain.js'), 'utf8');
const css = fs.readFileSync(path.join(root, 'media', 'flameGraph.css'), 'utf8');
const NODES = 100_000;
const PAGE = 20_000; // FLAME_PAGE_SIZE

const html = `<!DOCTYPE html><html><head><style>${css}</style></head><body class="vscode-dark" style="--vscode-editor-background:#1e1e1e;--vscode-editor-foreground:#d4d4d4;--vscode-editor-font-family:monospace;--vscode-editor-font-size:12">
<header><input id="search" type="search"><button id="reset">Reset zoom</button><select id="colorBy"><option value="kind">kind</option><option value="diff">diff</option></select><span id="legend"></span></header><div id="status"></div>
<div id="wrap" style="width:1400px"><canvas id="flame"></canvas></div><div id="tip" hidden></div>
<script>
// A deterministic pre-order tree: each node's children split (part of) its samples.
let seed = 7; const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const N = ${NODES}, parents = new Array(N), functions = new Array(N), totals = new Array(N), selfs = new Array(N);
const names = Array.from({ length: 3000 }, (_, i) => 'example.com/svc/pkg' + (i % 40) + '.(*T' + i + ').Method' + i);
parents[0] = -1; functions[0] = 0;
const stack = [0]; for (let i = 1; i < N; i++) {
  while (stack.length > 1 && (stack.length > 60 || rnd() < 0.35)) stack.pop();
  parents[i] = stack[stack.length - 1]; functions[i] = 1 + Math.floor(rnd() * (names.length - 1)); stack.push(i);
}
const kids = Array.from({ length: N }, () => []); for (let i = 1; i < N; i++) kids[parents[i]].push(i);
for (let i = N - 1; i >= 0; i--) { selfs[i] = 1 + Math.floor(rnd() * 20); totals[i] = selfs[i] + kids[i].reduce((s, k) => s + totals[k], 0); }
window.__t = {};
const GEN = 1; // the tree's generation: the page drops messages of another one (src/webview/messages.ts)
const send = (m) => window.postMessage(m, '*');
function page(from) {
  if (from >= N) { send({ type: 'done', gen: GEN }); setTimeout(() => { window.__t.drawn = performance.now(); }, 0); return; }
  const to = Math.min(from + ${PAGE}, N);
  send({ type: 'nodes', gen: GEN, start: from, parents: parents.slice(from, to), functions: functions.slice(from, to), totalSamples: totals.slice(from, to), selfSamples: selfs.slice(from, to) });
}
window.acquireVsCodeApi = () => ({ getState() { return undefined; }, setState() {}, postMessage(m) {
  if (m.type === 'ready') { window.__t.start = performance.now(); send({ type: 'init', gen: GEN, profileKey: 'bench', names, kinds: names.map(() => 0), nodeCount: N, totalSamples: totals[0], eventLabel: 'CPU time', nanosPerSample: 1001001 }); page(0); }
  else if (m.type === 'more') page(m.from);
  else if (m.type === 'open') window.__opened = m.node;
} });
window.__naive = () => { // the reference: every node, every redraw
  const c = document.getElementById('flame'), ctx = c.getContext('2d'), W = 1400, scale = W / totals[0];
  const x = new Float64Array(N), next = new Float64Array(N), depth = new Int32Array(N);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) { const p = parents[i]; if (p < 0) { x[i] = 0; depth[i] = 0; } else { x[i] = next[p]; next[p] += totals[i]; depth[i] = depth[p] + 1; } next[i] = x[i]; }
  ctx.clearRect(0, 0, c.width, c.height); ctx.font = '12px monospace';
  for (let i = 0; i < N; i++) { ctx.fillStyle = 'hsl(' + (functions[i] % 45) + ',65%,38%)'; ctx.fillRect(x[i] * scale, depth[i] * 18, totals[i] * scale, 17); ctx.fillStyle = '#ddd'; ctx.fillText(names[functions[i]], x[i] * scale + 3, depth[i] * 18 + 9); }
  return performance.now() - t0;
};
</script><script>${bundle}</script></body></html>`;

const browser = await chromium.launch({
  executablePath: process.env.GPL_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.setContent(html);
  await page.waitForFunction(() => window.__t.drawn !== undefined, undefined, { timeout: 120_000 });
  const load = await page.evaluate(() => window.__t.drawn - window.__t.start);
  const status = await page.locator('#status').textContent();
  if (!/100,000 frames/.test(status ?? '')) throw new Error(`the flame graph did not take in the tree: status "${status}"`);
  // Zoom: click a frame in the third row; time the click handler's redraw.
  const box = await page.locator('#flame').boundingBox();
  const zoom = await page.evaluate(
    ({ x, y }) => {
      const c = document.getElementById('flame');
      const t0 = performance.now();
      c.dispatchEvent(new MouseEvent('click', { clientX: x, clientY: y, bubbles: true }));
      return performance.now() - t0;
    },
    { x: box.x + 300, y: box.y + 2 * 18 + 8 },
  );
  // A click zooms; Ctrl+click asks the extension to open the frame's source.
  const opened = await page.evaluate(
    ({ x, y }) => {
      document.getElementById('flame').dispatchEvent(new MouseEvent('click', { clientX: x, clientY: y, ctrlKey: true, bubbles: true }));
      return window.__opened;
    },
    { x: box.x + 300, y: box.y + 2 * 18 + 8 },
  );
  if (typeof opened !== 'number') throw new Error('Ctrl+clicking a frame did not ask to open its source');
  await page.keyboard.press('Escape');
  const search = await page.evaluate(() => {
    const s = document.getElementById('search');
    s.value = 'Method12';
    const t0 = performance.now();
    s.dispatchEvent(new Event('input'));
    return new Promise((r) => setTimeout(() => r(performance.now() - t0 - 120), 200));
  });
  fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
  await page.screenshot({ path: path.join(root, 'test-results', 'flame-graph-100k.png') });
  const redraw = await page.evaluate(() => {
    const t0 = performance.now();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    return performance.now() - t0;
  });
  const naive = await page.evaluate(() => window.__naive());
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  console.log(`tree: ${NODES.toLocaleString()} nodes in ${Math.ceil(NODES / PAGE)} pages`);
  console.log(`ours: take in the pages, lay out and draw:  ${load.toFixed(1)} ms`);
  console.log(`ours: redraw (zoom out), culled:             ${redraw.toFixed(1)} ms`);
  console.log(`ours: click to zoom into a frame:            ${zoom.toFixed(1)} ms`);
  console.log(`ours: search 100k frames (after debounce):   ${Math.max(0, search).toFixed(1)} ms`);
  console.log(
    `reference: naive redraw of every node:       ${naive.toFixed(1)} ms   ratio ours/naive (redraw) = ${(redraw / naive).toFixed(3)}`,
  );
} finally {
  await browser.close();
}
