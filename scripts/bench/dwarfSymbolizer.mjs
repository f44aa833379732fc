// DWARF symbolizer benchmark: cmd/compile built by Go 1.23 (cached, shared with symbolize.mjs),
// 1,000,000 seeded random text addresses. Measures, in this process, the DWARF index build,
// decoding every unit, and the lookups with full inline chains; then whole-process wall time
// of `cli.js symbolize --backend dwarf` beside `llvm-symbolizer --inlining` on the same input.
// Usage: node scripts/bench/dwarfSymbolizer.mjs [--count N]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BENCH_CACHE, compileBinary } from './support/compileBinary.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const i = process.argv.indexOf('--count');
const COUNT = i >= 0 ? Number(process.argv[i + 1]) : 1_000_000;
const CACHE = BENCH_CACHE;
const BIN = compileBinary();
const ADDRS = path.join(CACHE, `dwarf-addrs-${COUNT}.txt`);

const { parseElf } = require(path.join(root, 'out/src/formats/elf.js'));
const { createDwarfSymbolizer } = require(path.join(root, 'out/src/symbolize/dwarfSymbolizer.js'));

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const t0 = performance.now();
const c0 = cpuMs();
const elf = parseElf(new Uint8Array(fs.readFileSync(BIN)));
const sym = createDwarfSymbolizer(elf);
const t1 = performance.now();
const c1 = cpuMs();

// Seeded addresses over .text (an LCG: the same on every run).
const text = elf.section('.text');
const lo = Number(text.addr);
let s = 0x5eed >>> 0;
const pcs = new Float64Array(COUNT);
for (let k = 0; k < COUNT; k++) {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  pcs[k] = lo + Math.floor((s / 4294967296) * text.size);
}
if (!fs.existsSync(ADDRS)) fs.writeFileSync(ADDRS, Array.from(pcs, (p) => '0x' + p.toString(16)).join('\n') + '\n');

const t2 = performance.now();
const c2 = cpuMs();
sym.index.decodeAll();
const t3 = performance.now();
const c3 = cpuMs();
let frames = 0;
for (let k = 0; k < COUNT; k++) frames += sym.framesAt(pcs[k]).length;
const t4 = performance.now();
const c4 = cpuMs();
const rssMB = process.memoryUsage().rss / 1e6;

console.log(
  `binary: ${BIN} (${(fs.statSync(BIN).size / 1e6).toFixed(1)} MB), DWARF ${sym.index.version}, ${sym.index.units.length} units, ${COUNT.toLocaleString('en')} addresses`,
);
console.log(`in-process: index build ${(t1 - t0).toFixed(0)} ms (cpu ${(c1 - c0).toFixed(0)})  [target ≤ 400 ms]`);
console.log(`            decode every unit (inline trees + line tables) ${(t3 - t2).toFixed(0)} ms (cpu ${(c3 - c2).toFixed(0)})`);
console.log(
  `            ${COUNT.toLocaleString('en')} lookups ${(t4 - t3).toFixed(0)} ms (cpu ${(c4 - c3).toFixed(0)}), ${frames.toLocaleString('en')} frames, RSS ${rssMB.toFixed(0)} MB`,
);
const inProcess = t1 - t0 + (t3 - t2) + (t4 - t3);

function timed(argv) {
  const a = performance.now();
  const fd = fs.openSync(ADDRS, 'r');
  const r = spawnSync(argv[0], argv.slice(1), { stdio: [fd, 'ignore', 'pipe'] });
  fs.closeSync(fd);
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return (performance.now() - a) / 1000;
}
const llvm = timed(['llvm-symbolizer', '--inlining', '--obj', BIN]);
const cliPath = fs.existsSync(path.join(root, 'dist', 'cli.js'))
  ? path.join(root, 'dist', 'cli.js')
  : path.join(root, 'out', 'src', 'cli.js');
const cli = timed(['node', cliPath, 'symbolize', '--binary', BIN, '--backend', 'dwarf']);
console.log('(wall times; on a loaded machine compare the CPU figures and the ratios)');
console.log(`llvm-symbolizer --inlining            wall ${llvm.toFixed(2)} s`);
console.log(
  `in-process DWARF (index+decode+lookup) wall ${(inProcess / 1000).toFixed(2)} s  → ${(llvm / (inProcess / 1000)).toFixed(2)}× faster`,
);
console.log(`cli symbolize --backend dwarf (JSON)  wall ${cli.toFixed(2)} s  → ${(llvm / cli).toFixed(2)}× faster  [target ≥ 5×]`);
