// Cost of blocking heat (`go-perf-lens blocking`: uprobes on runtime.gopark and runtime.execute,
// paired by goroutine) on the example service under the load generator, beside BCC's
// funccount-bpfcc on the same two functions (plain counting uprobes), in the same run: requests/s
// with nothing attached, with ours, with funccount (rounds alternate, so drift hits all alike).
// Ours runs with the budget raised (--max-hits 10000000) so that it stays attached; the probe
// rate it reports says where the default budget (20,000 hits/s) would have stopped it.
// Needs root and BCC. Usage: node scripts/bench/blocking.mjs [--quick]
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const out = (p) => path.join(root, 'out', p);
const quick = process.argv.includes('--quick');
const secs = quick ? 4 : 6;
const rounds = quick ? 1 : 3;
const CLI = out('src/cli.js');
const FUNCCOUNT = '/usr/sbin/funccount-bpfcc';

if (process.getuid() !== 0) {
  console.log('blocking bench needs root (BCC): skipped');
  process.exit(0);
}

const { buildGoFixture, newestGo } = require(out('test/support/goToolchains.js'));
const { buildGoPackage } = require(out('test/support/profileTargets.js'));
const tc = newestGo();
const svcBin = buildGoFixture('exampleservice', tc);
const loadBin = buildGoPackage('exampleservice', './cmd/load', tc);

async function startService() {
  const proc = spawn(svcBin, ['-addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const addr = await new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout.on('data', (d) => { buf += d; const m = /listening on (\S+)/.exec(buf); if (m) resolve(m[1]); });
    proc.on('exit', (c) => reject(new Error(`service exited ${c}`)));
  });
  return { proc, url: `http://${addr}` };
}

function runLoad(url, seconds) {
  const r = spawnSync(loadBin, ['-url', url, '-duration', `${seconds}s`, '-c', '2'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`load failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()).rps;
}

/** Starts a tool, waits for `ready` on its stdout or stderr, runs the load, stops it with SIGINT. */
async function loadWith(url, cmd, args, ready) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const seen = new Promise((resolve, reject) => {
    const on = (d) => { text += d; if (ready.test(text)) resolve(); };
    p.stdout.on('data', on);
    p.stderr.on('data', on);
    p.on('exit', (c) => reject(new Error(`${cmd} exited ${c}: ${text}`)));
  });
  await seen;
  const rps = await new Promise((resolve) => setImmediate(() => resolve(runLoad(url, secs))));
  const ended = new Promise((r) => p.on('close', r));
  p.kill('SIGINT');
  await ended;
  return { rps, text };
}

const svc = await startService();
const none = [], ours = [], ref = [];
let hits = [];
try {
  runLoad(svc.url, 2); // warm up
  for (let i = 0; i < rounds; i++) {
    none.push(runLoad(svc.url, secs));
    const o = await loadWith(svc.url, process.execPath, [CLI, 'blocking', '--pid', String(svc.proc.pid), '--duration', '120', '--max-hits', '10000000', '--json'], /^attached/m);
    ours.push(o.rps);
    const json = JSON.parse(o.text.split('\n').find((l) => l.startsWith('{')));
    hits.push(Math.round(json.waits / json.duration_s));
    ref.push((await loadWith(svc.url, FUNCCOUNT, ['-r', '-p', String(svc.proc.pid), `${svcBin}:^runtime\\.(gopark|execute)$`], /Tracing/)).rps);
  }
} finally {
  svc.proc.kill();
}
const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
const a = mean(none), o = mean(ours), r = mean(ref);
const loss = (x) => (100 * (a - x)) / a;
console.log(`blocking heat on the example service (${rounds} x ${secs} s each, alternating; load generator -c 2 on the same 2 cores)`);
console.log(`nothing attached:                 ${none.map((x) => x.toFixed(0)).join(', ')} req/s (mean ${a.toFixed(0)})`);
console.log(`go-perf-lens blocking:            ${ours.map((x) => x.toFixed(0)).join(', ')} req/s (mean ${o.toFixed(0)}) → loss ${loss(o).toFixed(1)}%  [${hits.join(', ')} paired waits/s]`);
console.log(`funccount-bpfcc gopark+execute:   ${ref.map((x) => x.toFixed(0)).join(', ')} req/s (mean ${r.toFixed(0)}) → loss ${loss(r).toFixed(1)}%`);
console.log(`ratio (our loss / funccount's loss): ${Math.abs(loss(r)) < 0.05 ? 'n/a' : (loss(o) / loss(r)).toFixed(2)}`);
