// Overhead of the eBPF CPU sampler (bpf/go_cpu_profile.c through the helper's `profile`) on its
// target, beside perf's, measured in the same run: the example service's requests/s under the
// load generator at 999 Hz with no profiler, with `perf record -F 999 -g --call-graph fp`, and
// with the eBPF sampler (rounds alternate, so drift in the machine hits all three alike).
// Prints both losses and their ratio. Needs root, perf and BCC.
// Usage: node scripts/bench/bpfprofile.mjs [--quick]
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
const { parseElf } = require(out('src/formats/elf.js'));
const tc = newestGo();
const svcBin = buildGoFixture('exampleservice', tc);
const loadBin = buildGoPackage('exampleservice', './cmd/load', tc);
const text = parseElf(fs.readFileSync(svcBin)).section('.text');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-bench-bpfprofile-'));

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
  return JSON.parse(r.stdout.trim());
}

function runLoadAsync(url, seconds) {
  const p = spawn(loadBin, ['-url', url, '-duration', `${seconds}s`, '-c', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let s = '';
  p.stdout.on('data', (d) => {
    s += d;
  });
  return new Promise((r, j) => p.on('exit', (c) => (c === 0 ? r(JSON.parse(s.trim())) : j(new Error(`load exited ${c}`)))));
}

/** The helper's `profile` on pid; resolves once attached, with a promise of its result. */
async function startSampler(pid, seconds) {
  const h = spawn(
    '/usr/bin/python3',
    [
      path.join(root, 'bpf', 'helper.py'),
      'profile',
      '--pid',
      String(pid),
      '--duration',
      String(seconds),
      '--freq',
      String(FREQ),
      '--textLo',
      String(Number(text.addr)),
      '--textHi',
      String(Number(text.addr) + text.size),
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let buf = '';
  let attached, result;
  const isAttached = new Promise((r) => {
    attached = r;
  });
  const done = new Promise((r) => {
    result = r;
  });
  h.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const m = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      if (m.type === 'progress' && m.phase === 'attached') attached(m);
      if (m.type === 'result') result(m.data);
      if (m.type === 'error') {
        attached(m);
        result(m);
      }
    }
  });
  h.on('exit', () => {
    attached({});
    result({});
  });
  const a = await isAttached;
  if (a.type === 'error') throw new Error(`sampler: ${a.message}`);
  return { done, attachMs: a.attachMs };
}

const svc = await startService();
const none = [],
  perf = [],
  bpf = [];
let bpfSamples = 0,
  bpfSecs = 0,
  attachMs = [];
try {
  runLoad(svc.url, 2); // warm up
  for (let i = 0; i < rounds; i++) {
    none.push(runLoad(svc.url, secs).rps);

    const file = path.join(tmp, 'overhead.data');
    const rec = spawn(
      'perf',
      ['record', '-q', '-g', '--call-graph', 'fp', '-F', String(FREQ), '-e', 'cpu-clock', '-p', String(svc.proc.pid), '-o', file],
      { stdio: 'ignore' },
    );
    await new Promise((r) => setTimeout(r, 300));
    perf.push((await runLoadAsync(svc.url, secs)).rps);
    rec.kill('SIGINT');
    await new Promise((r) => rec.on('exit', r));

    const s = await startSampler(svc.proc.pid, secs + 1);
    attachMs.push(s.attachMs);
    bpf.push((await runLoadAsync(svc.url, secs)).rps);
    const res = await s.done;
    bpfSamples += res.samples ?? 0;
    bpfSecs += res.elapsedSec ?? 0;
  }
} finally {
  svc.proc.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
}
const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
const a = mean(none),
  p = mean(perf),
  b = mean(bpf);
const lossP = (100 * (a - p)) / a,
  lossB = (100 * (a - b)) / a;
console.log(
  `overhead at ${FREQ} Hz on the example service (${rounds} x ${secs} s each, alternating; load generator -c 2 on the same 2 cores)`,
);
console.log(`no profiler:        ${none.map((x) => x.toFixed(0)).join(', ')} req/s (mean ${a.toFixed(0)})`);
console.log(`perf record -g fp:  ${perf.map((x) => x.toFixed(0)).join(', ')} req/s (mean ${p.toFixed(0)}) → loss ${lossP.toFixed(1)}%`);
console.log(
  `eBPF sampler:       ${bpf.map((x) => x.toFixed(0)).join(', ')} req/s (mean ${b.toFixed(0)}) → loss ${lossB.toFixed(1)}%  [${bpfSamples} samples in ${bpfSecs.toFixed(1)} s; attach ${attachMs.join(', ')} ms]`,
);
const ratio = Math.abs(lossP) < 0.05 ? 'n/a (perf loss ≈ 0)' : `${(lossB / lossP).toFixed(2)}x perf's loss`;
console.log(`ratio (eBPF sampler loss / perf loss): ${ratio}; throughput eBPF/perf: ${(b / p).toFixed(3)}`);
