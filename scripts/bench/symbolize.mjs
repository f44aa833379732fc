// Symbolizer benchmark: cmd/compile built by Go 1.23 (cached), 1,000,000 seeded random text
// addresses, whole-process wall time, CPU time and peak RSS for
//   node dist/cli.js symbolize --binary BIN      (ours, full inline chains)
//   llvm-symbolizer --inlining --obj BIN         (reference with inline chains)
//   go tool addr2line BIN                        (reference without inline chains)
//   node dist/cli.js symbolize --backend dwarf   (informational: our DWARF backend)
// plus the index build alone (in-process, and each tool's time for a single address).
// Peak RSS and CPU come from getrusage(RUSAGE_CHILDREN) of a one-child wrapper (Debian's
// /usr/bin/python3), so they are the child's own ru_maxrss / ru_utime+ru_stime.
// Usage: node scripts/bench/symbolize.mjs [--count N] [--runs R]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BENCH_CACHE, GO_1_23, compileBinary } from './support/compileBinary.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const COUNT = arg('--count', 1_000_000);
const RUNS = arg('--runs', 3);
const GO = GO_1_23;
const CACHE = BENCH_CACHE;
const BIN = compileBinary();
const ADDRS = path.join(CACHE, `addrs-${COUNT}.txt`);
const PY = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const { parseElf } = require(path.join(root, 'out/src/formats/elf.js'));
const { openSymbolizer } = require(path.join(root, 'out/src/symbolize/openSymbolizer.js'));

// Seeded addresses over .text (mulberry32: reproducible across runs and machines).
if (!fs.existsSync(ADDRS)) {
  const elf = parseElf(new Uint8Array(fs.readFileSync(BIN)));
  const text = elf.section('.text');
  const lo = Number(text.addr);
  let s = 0x5eed1234 >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const lines = new Array(COUNT);
  for (let i = 0; i < COUNT; i++) lines[i] = '0x' + (lo + Math.floor(rnd() * text.size)).toString(16);
  fs.writeFileSync(ADDRS, lines.join('\n') + '\n');
}

// Runs argv with stdin from a file and stdout to a file; returns wall, cpu, peak RSS.
const WRAPPER = `
import resource, subprocess, sys, time, json
t0 = time.perf_counter()
with open(sys.argv[1], 'rb') as fin, open(sys.argv[2], 'wb') as fout:
    rc = subprocess.call(sys.argv[3:], stdin=fin, stdout=fout)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "maxrssKB": ru.ru_maxrss}))
`;
function measure(argv, input, output = '/dev/null') {
  const r = spawnSync(PY, ['-c', WRAPPER, input, output, ...argv], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  const m = JSON.parse(r.stdout.trim().split('\n').pop());
  if (m.rc !== 0) throw new Error(`${argv[0]} exited with ${m.rc}`);
  return m;
}
function best(argv, input, output) {
  let b;
  for (let i = 0; i < RUNS; i++) {
    const m = measure(argv, input, output);
    if (!b || m.wall < b.wall) b = m;
  }
  return b;
}

const cli = path.join(root, 'dist', 'cli.js');
const tools = [
  { name: 'go-perf-lens symbolize', argv: ['node', cli, 'symbolize', '--binary', BIN] },
  { name: 'llvm-symbolizer --inlining', argv: ['llvm-symbolizer', '--inlining', '--obj', BIN] },
  { name: 'go tool addr2line', argv: [GO, 'tool', 'addr2line', BIN] },
  // Informational: our DWARF backend on the same binary (why Go binaries default to the pclntab).
  { name: 'go-perf-lens --backend dwarf', argv: ['node', cli, 'symbolize', '--binary', BIN, '--backend', 'dwarf'] },
];

// Index build alone, in-process (read + parse + index), first call in this process.
const t0 = performance.now();
const bytes = new Uint8Array(fs.readFileSync(BIN));
const t1 = performance.now();
const { symbolizer } = openSymbolizer(bytes, BIN);
const t2 = performance.now();
const probe = fs.readFileSync(ADDRS, 'latin1').slice(0, 20).split('\n')[0];
symbolizer.symbolize(BigInt(probe));
const t3 = performance.now();

const one = path.join(CACHE, 'one-address.txt');
fs.writeFileSync(one, probe + '\n');

const fmt = (s) => `${s.toFixed(2)} s`;
const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`;
console.log(
  `binary: ${BIN} (${(fs.statSync(BIN).size / 1e6).toFixed(1)} MB), ${COUNT.toLocaleString('en')} addresses, backend ${symbolizer.source}`,
);
console.log(
  `index build alone (in-process): read ${(t1 - t0).toFixed(0)} ms, index ${(t2 - t1).toFixed(0)} ms, first lookup ${(t3 - t2).toFixed(1)} ms  [target ≤ 400 ms]`,
);

// Every tool writes to /dev/null while timed; our output is checked once, untimed, on a slice.
// Runs alternate between the tools (a slow spell of this shared machine then hits all of
// them alike), and each tool's best run counts.
const results = tools.map((t) => ({ ...t, m: undefined, single: best(t.argv, one) }));
for (let i = 0; i < RUNS; i++) {
  for (const r of results) {
    const m = measure(r.argv, ADDRS);
    if (!r.m || m.wall < r.m.wall) r.m = m;
  }
}
console.log(`best of ${RUNS} alternating runs:`);
for (const r of results)
  console.log(
    `${r.name.padEnd(28)} wall ${fmt(r.m.wall)}  cpu ${fmt(r.m.cpu)}  peak RSS ${mb(r.m.maxrssKB)}   (one address: ${fmt(r.single.wall)})`,
  );
const ours = results[0];
const sliceFile = path.join(CACHE, 'slice.txt');
const sliceLines = fs.readFileSync(ADDRS, 'latin1').split('\n').slice(0, 10000);
fs.writeFileSync(sliceFile, sliceLines.join('\n') + '\n');
measure(tools[0].argv, sliceFile, path.join(CACHE, 'ours.jsonl'));
const got = fs.readFileSync(path.join(CACHE, 'ours.jsonl'), 'latin1').trimEnd().split('\n');
const withFrames = got.filter((l) => !l.endsWith('"frames":[]}')).length;
const deepest = Math.max(...got.map((l) => (l.match(/"function":/g) ?? []).length));
console.log(
  `check (first 10,000 addresses, untimed): ${got.length} lines, ${withFrames} with frames, deepest inline chain ${deepest} frames`,
);
for (const r of results.slice(1, 3)) {
  console.log(`ours vs ${r.name}: wall ${(r.m.wall / ours.m.wall).toFixed(2)}× faster, cpu ${(r.m.cpu / ours.m.cpu).toFixed(2)}× less`);
}
console.log(`targets: ≥5× llvm-symbolizer --inlining, ≥2× go tool addr2line (wall), peak RSS ≤ 500 MB (ours ${mb(ours.m.maxrssKB)})`);
const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(
  `machine: ${(await import('node:os')).cpus().length} CPUs, load average ${load} — on a shared machine wall times stretch with the load; cpu (user+sys) is the steadier comparison`,
);
