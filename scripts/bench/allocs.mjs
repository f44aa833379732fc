// Cost of allocation heat (`go-perf-lens allocs`: one uprobe on runtime.mProf_Malloc) on a
// program that does nothing but allocate (the allocs fixture's loop: 64-byte objects as fast as
// it can), beside BCC's funccount-bpfcc on the same function (one plain uprobe per sampled
// allocation), in the same run, at the runtime's default MemProfileRate (512 KiB) and at 64 KiB
// (8× the probe hits). Rounds alternate none / ours / funccount, so drift hits all alike; the
// figure is the median of each. Two measures: throughput (allocations/s), which on a shared
// 2-core machine mostly follows what else runs, and the program's own CPU time per allocation
// (utime + stime from /proc/PID/stat over the allocations it counted), which also holds the
// uprobes' cost (the kernel runs them on the program's threads) and little else. Needs root and BCC.
// Usage: node scripts/bench/allocs.mjs [--quick]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const { buildGoFixture, newestGo } = require(path.join(root, 'out', 'test', 'support', 'goToolchains.js'));
const CLI = path.join(root, 'out', 'src', 'cli.js');
const FUNCCOUNT = '/usr/sbin/funccount-bpfcc';
const quick = process.argv.includes('--quick');
const secs = quick ? 3 : 5;
const rounds = quick ? 1 : 3;

if (process.getuid() !== 0) {
  console.log('allocs bench needs root (BCC): skipped');
  process.exit(0);
}

const procs = new Set();
function start(cmd, args) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.add(p);
  p.lines = [];
  p.waiters = [];
  const feed = (d) => {
    for (const l of d.toString().split('\n').filter(Boolean)) {
      p.lines.push(l);
      p.waiters = p.waiters.filter((w) => (w.re.test(l) ? (w.res(l), false) : true));
    }
  };
  p.stdout.on('data', feed);
  p.stderr.on('data', feed);
  p.wait = (re) =>
    new Promise((res) => {
      if (p.lines.some((l) => re.test(l))) res();
      else p.waiters.push({ re, res });
    });
  p.done = new Promise((res) =>
    p.on('close', (c) => {
      procs.delete(p);
      res(c);
    }),
  );
  return p;
}
process.on('exit', () => {
  for (const p of procs) p.kill('SIGKILL');
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** CPU time (ns) the process has used, user + system. */
function cpuNs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 1e7; // utime, stime in clock ticks of 10 ms
}

/**
 * Over the next `seconds`: the median of the program's per-second allocation rates, and its CPU
 * ns per allocation (from the second full rate line on: the first may straddle the change).
 */
async function rate(prog, seconds) {
  const from = prog.lines.length;
  let cpu0 = 0,
    n = 0,
    seen = 0;
  const onLine = () => {
    const rl = prog.lines.slice(from).filter((l) => l.startsWith('rate '));
    if (rl.length === seen) return;
    seen = rl.length;
    if (seen === 1) cpu0 = cpuNs(prog.pid);
    else n += Number(rl[seen - 1].split(' ')[1]);
  };
  const timer = setInterval(onLine, 20);
  await sleep(seconds * 1000 + 300);
  clearInterval(timer);
  onLine();
  const cpu = cpuNs(prog.pid) - cpu0;
  const rates = prog.lines
    .slice(from)
    .filter((l) => l.startsWith('rate '))
    .map((l) => Number(l.split(' ')[1]));
  return { rate: median(rates.slice(1)), nsPerAlloc: n > 0 ? cpu / n : NaN };
}

async function withTool(prog, cmd, args, ready) {
  const t = start(cmd, args);
  await t.wait(ready);
  const r = await rate(prog, secs);
  t.kill('SIGINT');
  await t.done;
  return { ...r, lines: t.lines };
}

const bin = buildGoFixture('allocs', newestGo());
for (const memRate of [524288, 65536]) {
  const prog = start(bin, [String(memRate), 'loop']);
  await prog.wait(/^ready/);
  await sleep(1500);
  const none = [];
  const ours = [];
  const ref = [];
  let samples = 0;
  for (let i = 0; i < rounds; i++) {
    none.push(await rate(prog, secs));
    const o = await withTool(
      prog,
      process.execPath,
      [CLI, 'allocs', '--pid', String(prog.pid), '--duration', '120', '--json'],
      /^attached/,
    );
    ours.push(o);
    samples = JSON.parse(o.lines.find((l) => l.startsWith('{'))).samples;
    ref.push(await withTool(prog, FUNCCOUNT, ['-p', String(prog.pid), `${bin}:runtime.mProf_Malloc`], /^Tracing/));
  }
  prog.kill('SIGKILL');
  const base = median(none.map((x) => x.rate));
  const baseNs = median(none.map((x) => x.nsPerAlloc));
  const hitsPerSec = (base * 64) / memRate;
  const row = (name, xs) => {
    const r = median(xs.map((x) => x.rate));
    const ns = median(xs.map((x) => x.nsPerAlloc));
    console.log(
      `  ${name}: ${(r / 1e6).toFixed(2)} M allocs/s (${((1 - r / base) * 100).toFixed(1)}% fewer); ${ns.toFixed(1)} CPU ns per allocation (+${((ns / baseNs - 1) * 100).toFixed(1)}%)`,
    );
    return ns / baseNs - 1;
  };
  console.log(
    `MemProfileRate ${memRate} B: untraced ${(base / 1e6).toFixed(2)} M allocs/s, ${baseNs.toFixed(1)} CPU ns per allocation (≈${Math.round(hitsPerSec)} sampled/s; last run sampled ${samples})`,
  );
  const a = row('go-perf-lens allocs', ours);
  const b = row('funccount-bpfcc runtime.mProf_Malloc', ref);
  console.log(
    `  ratio of added CPU per allocation (ours / funccount's): ${Math.abs(b) < 1e-4 ? 'n/a' : (a / b).toFixed(2)} (throughput rounds: none ${none.map((x) => (x.rate / 1e6).toFixed(2)).join('/')}, ours ${ours.map((x) => (x.rate / 1e6).toFixed(2)).join('/')}, funccount ${ref.map((x) => (x.rate / 1e6).toFixed(2)).join('/')} M/s)`,
  );
}
