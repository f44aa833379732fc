// Line-heat decoration computation for one editor on a 5,000-line file (target: ≤ 5 ms per
// editor update). Measures our pure computation (out/src/ui/heatIndex.js, no vscode) against
// two references measured in the same run: a naive implementation that scans the whole
// profile's line table on every update (what a module without an index does), and reading
// and splitting the 5,000-line source file itself (the least any per-editor update costs).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const { HeatIndex, computeLineHeat } = require(path.join(root, 'out', 'src', 'ui', 'heatIndex.js'));
const { formatLineFigure } = require(path.join(root, 'out', 'src', 'ui', 'format.js'));

// A big profile: 400 files; the one in the editor has 5,000 lines, every other one hot
// (2,500 hot lines, with inlined duplicates), the rest of the profile 150,000 more line entries.
const FILE_LINES = 5000;
const target = path.join(os.tmpdir(), 'gpl-bench-big.go');
fs.writeFileSync(target, Array.from({ length: FILE_LINES }, (_, i) => `\tx${i} := compute(${i}) // line ${i + 1}`).join('\n'));
let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const lines = [];
for (let l = 1; l <= FILE_LINES; l += 2) {
  const n = Math.floor(rand() * 2000) + 1;
  lines.push({ file: target, line1: l, selfSamples: n, cumSamples: n * 2, function: `main.f${l >> 6}` });
  if (l % 10 === 1)
    lines.push({ file: target, line1: l, selfSamples: 3, cumSamples: 3, function: `main.f${l >> 6}`, inlinedInto: ['main.caller'] });
}
for (let f = 0; f < 399; f++)
  for (let l = 1; l <= 375; l++)
    lines.push({ file: `/src/pkg${f}/file.go`, line1: l, selfSamples: Math.floor(rand() * 50), cumSamples: 60, function: `pkg${f}.g` });
const totalSamples = lines.reduce((n, l) => n + l.selfSamples, 0);
const profile = {
  version: 1,
  source: 'bench',
  event: { name: 'cpu-clock', unit: 'nanoseconds', periodPerSample: 1001001 },
  durationNanos: 1e10,
  totalSamples,
  lostSamples: 0,
  unattributedSamples: 0,
  functions: [],
  lines,
  callTree: { parents: [], functions: [], callLines: [], totalSamples: [], selfSamples: [] },
};
const opts = { basis: 'self', showFigure: true, amount: 'samples', threshold: 0.00001 };

// The naive way: every update scans the profile for this file's lines, groups them, formats.
function naive() {
  const byLine = new Map();
  for (const l of profile.lines) {
    if (l.file !== target) continue;
    byLine.set(l.line1, (byLine.get(l.line1) ?? 0) + l.selfSamples);
  }
  let max = 0;
  for (const l of profile.lines) max = Math.max(max, l.selfSamples / totalSamples);
  const out = [];
  for (const [line1, n] of byLine) {
    const share = n / totalSamples;
    if (share < opts.threshold) continue;
    out.push({
      line1,
      level: Math.min(5, Math.max(1, Math.ceil((5 * Math.log(share / opts.threshold)) / Math.log(max / opts.threshold)))),
      figure: formatLineFigure(n, totalSamples, 'samples'),
    });
  }
  return out.sort((a, b) => a.line1 - b.line1);
}
function readFile() {
  return fs.readFileSync(target, 'utf8').split('\n').length;
}

function median(fn, runs = 41) {
  for (let i = 0; i < 5; i++) fn();
  const t = [];
  for (let i = 0; i < runs; i++) {
    const s = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  return t.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

const s0 = process.hrtime.bigint();
const index = new HeatIndex(profile, (f) => f);
const buildMs = Number(process.hrtime.bigint() - s0) / 1e6;
const fileLines = index.linesOf(target);
const ours = median(() => computeLineHeat(fileLines, profile, opts, index.maxShare.self));
const cached = median(() => index.heatFor(target, opts));
const naiveMs = median(naive);
const readMs = median(readFile);
const drawn = computeLineHeat(fileLines, profile, opts, index.maxShare.self).length;
if (drawn !== naive().length) throw new Error(`ours drew ${drawn} lines, the naive reference ${naive().length}`);

console.log(
  `profile: ${lines.length.toLocaleString()} line entries, ${totalSamples.toLocaleString()} samples; editor file: ${FILE_LINES} lines, ${drawn} hot`,
);
console.log(`index build (once per profile):        ${buildMs.toFixed(2)} ms`);
console.log(`ours, per editor update (uncached):     ${ours.toFixed(3)} ms   (target ≤ 5 ms: ${ours <= 5 ? 'met' : 'MISSED'})`);
console.log(`ours, repeated update (cached):         ${cached.toFixed(4)} ms`);
console.log(`reference: naive scan per update:       ${naiveMs.toFixed(3)} ms   ratio ours/naive = ${(ours / naiveMs).toFixed(3)}`);
console.log(`reference: read + split the 5k-line file: ${readMs.toFixed(3)} ms   ratio ours/read = ${(ours / readMs).toFixed(3)}`);
fs.rmSync(target, { force: true });
