// Benchmark: parsePerfData on a recording of ≥100,000 samples with callchains vs `perf script`
// on the same file, in the same run. Each side runs as a whole fresh process (node startup
// included), best of 3. Prints both times and the ratio.
// Reusable: `benchRecording()` records (and caches) the fixture recording; `timeProcess()` times
// a command. Ingest benchmarks import them from here.
// Usage: node scripts/bench/perfdata.mjs [--samples N]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
export const BENCH_DIR = '/tmp/go-perf-lens-bench';

/**
 * A perf.data of the perfload fixture with at least `minSamples` samples (fp callchains,
 * cpu-clock), cached in BENCH_DIR across runs. Needs root and perf; builds the fixture with
 * the newest Go (compiled test support in out/). Returns { file, samples, binary }.
 */
export function benchRecording({ minSamples = 100_000, freq = 20_000 } = {}) {
  const { buildGoFixture, newestGo } = require(path.join(root, 'out', 'test', 'support', 'goToolchains.js'));
  const { parsePerfData } = require(path.join(root, 'out', 'src', 'formats', 'perfData.js'));
  const binary = buildGoFixture('perfload', newestGo());
  fs.mkdirSync(BENCH_DIR, { recursive: true });
  const file = path.join(BENCH_DIR, `perfload-${minSamples}.data`);
  const meta = `${file}.json`;
  if (fs.existsSync(file) && fs.existsSync(meta)) {
    const m = JSON.parse(fs.readFileSync(meta, 'utf8'));
    if (m.binary === binary && m.samples >= minSamples) return { file, samples: m.samples, binary };
  }
  // cpu-clock samples only while the fixture runs: record longer until there are enough.
  let seconds = Math.max(3, Math.ceil(minSamples / (freq * 1.5)));
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = spawnSync(
      'perf',
      [
        'record',
        '-g',
        '--call-graph',
        'fp',
        '-F',
        String(freq),
        '-e',
        'cpu-clock',
        '-o',
        file,
        '--',
        binary,
        '-duration',
        `${seconds}s`,
        '-workers',
        '4',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    if (r.status !== 0) throw new Error(`perf record failed: ${r.stderr}`);
    const samples = parsePerfData(fs.readFileSync(file)).samples.count;
    if (samples >= minSamples) {
      fs.writeFileSync(meta, JSON.stringify({ binary, samples }));
      return { file, samples, binary };
    }
    seconds = Math.ceil(seconds * Math.min(4, (1.2 * minSamples) / Math.max(1, samples)));
  }
  throw new Error(`could not record ${minSamples} samples`);
}

/**
 * The environment for timing node processes: without NODE_EXTRA_CA_CERTS, which some machines
 * (this sandbox) set globally: node then reads the whole CA bundle at start-up (~90 ms here),
 * which no profile ingest needs and perf script does not pay.
 */
export function nodeBenchEnv() {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/**
 * A whole process, best of `runs`: wall time in ms, and its CPU time (user + sys, from
 * /usr/bin/time when present) — on a shared, loaded machine the CPU time is the steadier figure.
 * stdout goes to /dev/null unless captured.
 */
export function timeProcess(cmd, args, { runs = 3, capture = false, env = undefined } = {}) {
  const haveTime = fs.existsSync('/usr/bin/time');
  const timeFile = path.join(BENCH_DIR, `time-${process.pid}.txt`);
  let best = Infinity,
    cpuMs = NaN,
    stdout = '';
  for (let k = 0; k < runs; k++) {
    const [c, a] = haveTime ? ['/usr/bin/time', ['-f', '%U %S', '-o', timeFile, cmd, ...args]] : [cmd, args];
    const t0 = process.hrtime.bigint();
    const r = spawnSync(c, a, { stdio: ['ignore', capture ? 'pipe' : 'ignore', 'pipe'], maxBuffer: 1 << 30, env: env ?? process.env });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
    if (ms < best) {
      best = ms;
      stdout = capture ? r.stdout.toString() : '';
      if (haveTime) {
        const [u, s] = fs.readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
        cpuMs = (u + s) * 1000;
      }
    }
  }
  fs.rmSync(timeFile, { force: true });
  return { ms: best, cpuMs, stdout };
}

function main() {
  const at = process.argv.indexOf('--samples');
  const minSamples = at > 0 ? Number(process.argv[at + 1]) : 100_000;
  const { file, samples } = benchRecording({ minSamples });
  const size = fs.statSync(file).size;
  // Our side: a fresh node that reads and parses the file (in pieces, as the CLI does) and reports its own figures.
  const child = `
    const { readPerfDataFile } = require(${JSON.stringify(path.join(root, 'out', 'src', 'ingest', 'readPerfDataFile.js'))});
    const t0 = process.hrtime.bigint();
    const d = readPerfDataFile(${JSON.stringify(file)});
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    let frames = 0;
    for (let i = 0; i < d.samples.count; i++) frames += d.samples.chainLength[i];
    console.log(JSON.stringify({ ms, samples: d.samples.count, frames, stored: d.samples.chain.length, maxRssMB: process.resourceUsage().maxRSS / 1024 }));`;
  const ours = timeProcess(process.execPath, ['-e', child], { capture: true, runs: 5, env: nodeBenchEnv() });
  const inner = JSON.parse(ours.stdout);
  const perf = timeProcess('perf', ['script', '-i', file], { runs: 3 });
  console.log(
    `recording: ${file} (${(size / 1e6).toFixed(1)} MB, ${inner.samples} samples, ${inner.frames} callchain entries, ${inner.stored} of them stored: samples repeating a callchain share it)`,
  );
  console.log(
    `readPerfDataFile (fresh node process): ${ours.ms.toFixed(0)} ms wall, ${ours.cpuMs.toFixed(0)} ms CPU  [read+parse alone ${inner.ms.toFixed(0)} ms, peak RSS ${inner.maxRssMB.toFixed(0)} MB]`,
  );
  console.log(`perf script -i FILE > /dev/null:    ${perf.ms.toFixed(0)} ms wall, ${perf.cpuMs.toFixed(0)} ms CPU`);
  console.log(
    `ratio (whole processes): ${(perf.ms / ours.ms).toFixed(1)}x faster than perf script by wall time, ${(perf.cpuMs / ours.cpuMs).toFixed(1)}x by CPU time`,
  );
  if (samples < minSamples) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
