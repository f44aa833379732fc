// What a `perf record --call-graph dwarf` recording (unwound by our Go frame tables) costs beside
// `perf record -g` (frame pointers, the product's default) on the same target: the example
// service's requests/s under the load generator with no profiler, with each recording (rounds
// alternate, so drift in the machine hits all three alike; medians), the file bytes per second,
// and the share of samples whose callers are unknown in each (our ingest of each file).
// Needs root and perf. Usage: node scripts/bench/dwarfRecording.mjs [--quick]
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const out = (p) => path.join(root, 'out', p);
const quick = process.argv.includes('--quick');
const secs = quick ? 4 : 8;
const rounds = quick ? 1 : 3;
const FREQ = 999;

const { buildGoFixture, newestGo } = require(out('test/support/goToolchains.js'));
const { buildGoPackage } = require(out('test/support/profileTargets.js'));
const { parsePerfData } = require(out('src/formats/perfData.js'));
const { ingestPerfData } = require(out('src/ingest/fromPerfData.js'));
const { loadBinary } = require(out('src/ingest/loadBinary.js'));
const tc = newestGo();
const svcBin = buildGoFixture('exampleservice', tc);
const loadBin = buildGoPackage('exampleservice', './cmd/load', tc);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-bench-dwarf-'));

async function startService() {
  const proc = spawn(svcBin, ['-addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const addr = await new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = /listening on (\S+)/.exec(buf);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (c) => reject(new Error(`service exited ${c}`)));
  });
  return { proc, url: `http://${addr}` };
}

function runLoad(url, seconds) {
  const r = spawnSync(loadBin, ['-url', url, '-duration', `${seconds}s`, '-c', '2'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`load failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()).rps;
}

/** rps under one recording of `mode` ('fp' or 'dwarf'), and the file it wrote. */
async function recorded(svc, mode, file) {
  const rec = spawn(
    'perf',
    ['record', '-q', '-g', '--call-graph', mode, '-F', String(FREQ), '-e', 'cpu-clock', '-p', String(svc.proc.pid), '-o', file],
    { stdio: 'ignore' },
  );
  await new Promise((r) => setTimeout(r, 300));
  const load = spawn(loadBin, ['-url', svc.url, '-duration', `${secs}s`, '-c', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let s = '';
  load.stdout.on('data', (d) => {
    s += d;
  });
  const rps = await new Promise((r, j) =>
    load.on('exit', (c) => (c === 0 ? r(JSON.parse(s.trim()).rps) : j(new Error(`load exited ${c}`)))),
  );
  rec.kill('SIGINT');
  await new Promise((r) => rec.on('exit', r));
  return rps;
}

const svc = await startService();
const none = [],
  fp = [],
  dwarf = [];
const size = { fp: 0, dwarf: 0 };
const unknown = { fp: [], dwarf: [] };
const bin = loadBinary(svcBin);
try {
  runLoad(svc.url, 2); // warm up
  for (let i = 0; i < rounds; i++) {
    none.push(runLoad(svc.url, secs));
    for (const mode of ['fp', 'dwarf']) {
      const file = path.join(tmp, `${mode}.data`);
      (mode === 'fp' ? fp : dwarf).push(await recorded(svc, mode, file));
      size[mode] += fs.statSync(file).size;
      const p = ingestPerfData(parsePerfData(fs.readFileSync(file)), bin);
      unknown[mode].push((100 * (p.missingCallerSamples ?? 0)) / Math.max(1, p.totalSamples));
      fs.rmSync(file);
    }
  }
} finally {
  svc.proc.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
}
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const a = median(none),
  f = median(fp),
  d = median(dwarf);
const lossF = (100 * (a - f)) / a,
  lossD = (100 * (a - d)) / a;
const mbps = (bytes) => (bytes / (rounds * secs) / 1e6).toFixed(2);
console.log(
  `perf --call-graph dwarf (8 KB dumps) beside perf -g fp at ${FREQ} Hz on the example service (${rounds} x ${secs} s, alternating, medians; load generator -c 2 on the same cores)`,
);
console.log(`no profiler:          ${none.map((x) => x.toFixed(0)).join(', ')} req/s`);
console.log(
  `perf -g (fp):         ${fp.map((x) => x.toFixed(0)).join(', ')} req/s → loss ${lossF.toFixed(1)}%; ${mbps(size.fp)} MB/s of perf.data; unknown callers ${unknown.fp.map((x) => x.toFixed(1)).join(', ')}%`,
);
console.log(
  `perf dwarf + pcsp:    ${dwarf.map((x) => x.toFixed(0)).join(', ')} req/s → loss ${lossD.toFixed(1)}%; ${mbps(size.dwarf)} MB/s of perf.data; unknown callers ${unknown.dwarf.map((x) => x.toFixed(1)).join(', ')}% (cut stacks, mostly at runtime.systemstack)`,
);
console.log(
  `ratio dwarf/fp: loss ${Math.abs(lossF) < 0.05 ? 'n/a (fp loss ≈ 0)' : `${(lossD / lossF).toFixed(2)}x`}, file size ${(size.dwarf / Math.max(1, size.fp)).toFixed(1)}x`,
);
