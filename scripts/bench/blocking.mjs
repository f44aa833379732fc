// Cost of blocking heat (`go-perf-lens blocking`: uprobes on runtime.gopark and runtime.execute,
// paired by goroutine) on the example service under the load generator, beside BCC's
// funccount-bpfcc on the same two functions (plain counting uprobes), in the same run: requests/s
// with nothing attached, with ours, with funccount (rounds alternate, so drift hits all alike).
// Ours runs with the budget raised (--max-hits 10000000) so that it stays attached; the probe
// rate it reports says where the default budget (20,000 hits/s) would have stopped it.
// Two measures: requests/s, which on a shared 2-core machine mostly follows what else runs, and
// the service's own CPU time per request (utime + stime from /proc/PID/stat), which also holds the
// uprobes' cost (the kernel runs them on the service's threads) and little else.
// Needs root and BCC. Usage: node scripts/bench/blocking.mjs [--quick]
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
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
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = /listening on (\S+)/.exec(buf);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (c) => reject(new Error(`service exited ${c}`)));
  });
  return { proc, url: `http://${addr}` };
}

/** CPU time (ns) the process has used, user + system. */
function cpuNs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 1e7; // utime, stime in clock ticks of 10 ms
}

let svcPid = 0;

/** Requests/s under the load generator, and the service's CPU ns per request meanwhile. */
function runLoad(url, seconds) {
  const cpu0 = cpuNs(svcPid);
  const r = spawnSync(loadBin, ['-url', url, '-duration', `${seconds}s`, '-c', '2'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`load failed: ${r.stderr}`);
  const res = JSON.parse(r.stdout.trim());
  return { rps: res.rps, nsPerReq: (cpuNs(svcPid) - cpu0) / (res.rps * seconds) };
}

/** Starts a tool, waits for `ready` on its stdout or stderr, runs the load, stops it with SIGINT. */
async function loadWith(url, cmd, args, ready) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const seen = new Promise((resolve, reject) => {
    const on = (d) => {
      text += d;
      if (ready.test(text)) resolve();
    };
    p.stdout.on('data', on);
    p.stderr.on('data', on);
    p.on('exit', (c) => reject(new Error(`${cmd} exited ${c}: ${text}`)));
  });
  await seen;
  const r = await new Promise((resolve) => setImmediate(() => resolve(runLoad(url, secs))));
  const ended = new Promise((res) => p.on('close', res));
  p.kill('SIGINT');
  await ended;
  return { ...r, text };
}

const svc = await startService();
svcPid = svc.proc.pid;
const none = [],
  ours = [],
  ref = [];
const hits = [];
try {
  runLoad(svc.url, 2); // warm up
  for (let i = 0; i < rounds; i++) {
    none.push(runLoad(svc.url, secs));
    const o = await loadWith(
      svc.url,
      process.execPath,
      [CLI, 'blocking', '--pid', String(svc.proc.pid), '--duration', '120', '--max-hits', '10000000', '--json'],
      /^attached/m,
    );
    ours.push(o);
    const json = JSON.parse(o.text.split('\n').find((l) => l.startsWith('{')));
    hits.push(Math.round(json.waits / json.duration_s));
    ref.push(await loadWith(svc.url, FUNCCOUNT, ['-r', '-p', String(svc.proc.pid), `${svcBin}:^runtime\\.(gopark|execute)$`], /Tracing/));
  }
} finally {
  svc.proc.kill();
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const baseRps = median(none.map((x) => x.rps));
const baseNs = median(none.map((x) => x.nsPerReq));
console.log(
  `blocking heat on the example service (${rounds} x ${secs} s each, alternating, medians; load generator -c 2 on the same 2 cores)`,
);
console.log(
  `nothing attached:               ${baseRps.toFixed(0)} req/s, ${(baseNs / 1e3).toFixed(1)} µs CPU per request (rounds ${none.map((x) => x.rps.toFixed(0)).join('/')} req/s)`,
);
const row = (name, xs, extra = '') => {
  const r = median(xs.map((x) => x.rps));
  const ns = median(xs.map((x) => x.nsPerReq));
  console.log(
    `${name}${r.toFixed(0)} req/s (${((1 - r / baseRps) * 100).toFixed(1)}% fewer), ${(ns / 1e3).toFixed(1)} µs CPU per request (+${((ns / baseNs - 1) * 100).toFixed(1)}%)${extra}`,
  );
  return ns / baseNs - 1;
};
const a = row('go-perf-lens blocking:          ', ours, ` [${hits.join(', ')} paired waits/s]`);
const b = row('funccount-bpfcc gopark+execute: ', ref);
console.log(`ratio of added CPU per request (ours / funccount's): ${Math.abs(b) < 1e-4 ? 'n/a' : (a / b).toFixed(2)}`);
