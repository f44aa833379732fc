// Cost of allocation heat (`go-perf-lens allocs`: one uprobe on runtime.mProf_Malloc) on a
// program that does nothing but allocate (the allocs fixture's loop: 64-byte objects as fast as
// it can), beside BCC's funccount-bpfcc on the same function (one plain uprobe per sampled
// allocation), in the same run, at the runtime's default MemProfileRate (512 KiB) and at 64 KiB
// (8× the probe hits). Rounds alternate none / ours / funccount, so drift hits all alike; the
// figure is the median of each. Needs root and BCC.
// Usage: node scripts/bench/allocs.mjs [--quick]
import { spawn } from 'node:child_process';
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
  p.wait = (re) => new Promise((res) => {
    if (p.lines.some((l) => re.test(l))) res(); else p.waiters.push({ re, res });
  });
  p.done = new Promise((res) => p.on('close', (c) => { procs.delete(p); res(c); }));
  return p;
}
process.on('exit', () => { for (const p of procs) p.kill('SIGKILL'); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median of the program's per-second allocation rates printed during the next `seconds`. */
async function rate(prog, seconds) {
  const from = prog.lines.length;
  await sleep(seconds * 1000 + 300);
  const rates = prog.lines.slice(from).filter((l) => l.startsWith('rate ')).map((l) => Number(l.split(' ')[1]));
  return median(rates.slice(1)); // the first second may straddle the change
}

async function withTool(prog, cmd, args, ready) {
  const t = start(cmd, args);
  await t.wait(ready);
  const r = await rate(prog, secs);
  t.kill('SIGINT');
  await t.done;
  return { rate: r, lines: t.lines };
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
    const o = await withTool(prog, process.execPath, [CLI, 'allocs', '--pid', String(prog.pid), '--duration', '120', '--json'], /^attached/);
    ours.push(o.rate);
    samples = JSON.parse(o.lines.find((l) => l.startsWith('{'))).samples;
    ref.push((await withTool(prog, FUNCCOUNT, ['-p', String(prog.pid), `${bin}:runtime.mProf_Malloc`], /^Tracing/)).rate);
  }
  prog.kill('SIGKILL');
  const base = median(none);
  const loss = (r) => (1 - r / base) * 100;
  const hitsPerSec = (base * 64) / memRate;
  console.log(`MemProfileRate ${memRate} B: ${(base / 1e6).toFixed(2)} M allocs/s untraced (≈${Math.round(hitsPerSec)} sampled/s; last run sampled ${samples})`);
  console.log(`  go-perf-lens allocs: ${(median(ours) / 1e6).toFixed(2)} M allocs/s, ${loss(median(ours)).toFixed(1)}% slower`);
  console.log(`  funccount-bpfcc runtime.mProf_Malloc: ${(median(ref) / 1e6).toFixed(2)} M allocs/s, ${loss(median(ref)).toFixed(1)}% slower`);
  console.log(`  ratio (our loss / funccount's loss): ${(loss(median(ours)) / Math.max(loss(median(ref)), 0.01)).toFixed(2)} (rounds: none ${none.map((x) => (x / 1e6).toFixed(2)).join('/')}, ours ${ours.map((x) => (x / 1e6).toFixed(2)).join('/')}, funccount ${ref.map((x) => (x / 1e6).toFixed(2)).join('/')} M/s)`);
}
