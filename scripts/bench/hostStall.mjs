// The extension host's longest stall while a 400,000-sample CPU profile is recorded, loaded and
// opened (target: under 50 ms each, issue 13): runs the real-VS-Code test that measures it
// (test/suite/hostStall.test.ts: perf_hooks.monitorEventLoopDelay inside the extension host, the
// thread every extension of the window shares) and prints its figures beside the reference measured
// in the same run: the same host idle for 3 s with nothing of ours to do (its floor on this
// machine: timer jitter, other extensions, a CPU shared with other work), as a ratio. Beside them,
// the window's first editor opened with no profile: VS Code activates its built-in Emmet extension
// in the same host then (no work of ours; the opening phases come after it, so they measure ours),
// and the host beside a Go program busy on every CPU with nothing recorded (the scheduler's floor
// on a saturated machine; the recorded program keeps one CPU busy so as to measure ours). The
// recording is also compared with `perf record` recording the same program alone, nothing of ours.
// GPL_STALL_CPUPROFILE=DIR also writes a CPU profile of the host for each phase, to see what held it.
// Needs root, perf and the VS Code server scripts/setup.sh installs; takes minutes.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const figures = path.join(root, 'test-results', 'host-stall.txt');
const stats = path.join(os.tmpdir(), `gpl-bench-host-stall-${process.pid}.json`);
const started = Date.now();
const run = spawnSync(
  process.execPath,
  [path.join(root, 'scripts', 'vscodeTests.mjs'), stats, '--suite-only', '--grep', 'extension host stalls'],
  {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
fs.rmSync(stats, { force: true });
if (run.status !== 0 || !fs.existsSync(figures) || fs.statSync(figures).mtimeMs < started) {
  console.log(`the host-stall test did not run to its end (exit ${run.status}): no figures`);
  process.exit(1);
}

// Lines as the test writes them: "<what>: longest stall 12.3 ms (p99 4.5 ms)".
const rows = fs
  .readFileSync(figures, 'utf8')
  .split('\n')
  .map((l) => /^(.*): longest stall ([\d.]+) ms/.exec(l))
  .filter((m) => m !== null)
  .map((m) => ({ what: m[1], ms: Number(m[2]) }));
const idle = rows.find((r) => r.what.startsWith('idle'));
if (!idle) {
  console.log('no idle figure in the test output');
  process.exit(1);
}
console.log(
  `\nextension host's longest stall (monitorEventLoopDelay, 5 ms resolution; target < 50 ms), load ${os.loadavg()[0].toFixed(1)}:`,
);
// A recording is compared with perf recording the same program by itself (nothing of ours) too.
const perfAlone = rows.find((r) => r.what.startsWith('perf record alone'));
for (const r of rows) {
  let ratio = r === idle ? '' : `  ${(r.ms / Math.max(idle.ms, 1)).toFixed(1)}× idle`;
  if (perfAlone && r.what.startsWith('recording')) ratio += `, ${(r.ms / Math.max(perfAlone.ms, 1)).toFixed(1)}× perf record alone`;
  console.log(`  ${r.what.padEnd(60)} ${r.ms.toFixed(1).padStart(7)} ms${ratio}`);
}
