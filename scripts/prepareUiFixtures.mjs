// Records the sessions the extension-host tests (test/suite/*.test.ts) load: builds the
// fixture Go service (test/fixtures/go/exampleservice) from a copy of its sources, runs it
// under load, records it with `go-perf-lens record` (perf, through the helper), traces the
// latency of one handler with the eBPF tracer, and writes everything into DIR:
//   DIR/workspace/        the sources the binary was built from (open this folder in VS Code)
//   DIR/session.json      the recorded session (CPU profile + latency of main.handleChecksum)
//   DIR/fixture.json      { binary, mainGo, tracedFunction, workspace }
// Needs root (perf, BCC), a Go toolchain and a built tree (npx tsc -p . && node scripts/build.mjs).
// Usage: node scripts/prepareUiFixtures.mjs [DIR]   (default out/ui-fixtures)
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.resolve(process.argv[2] ?? path.join(root, 'out', 'ui-fixtures'));
const require = createRequire(import.meta.url);
const TRACED = 'main.handleChecksum';
// The suite wants well over 100 samples; below this the recording is taken again, once, longer.
const MIN_SAMPLES = 400;

function newestGo() {
  const found = fs
    .readdirSync('/usr/lib')
    .filter((d) => /^go-1\.\d+$/.test(d))
    .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
  if (!found.length) throw new Error('no Go toolchain under /usr/lib/go-1.*: run scripts/setup.sh');
  return path.join('/usr/lib', found.at(-1), 'bin', 'go');
}

function waitForLine(child, re, ms) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms} ms`)), ms);
    child.stdout.on('data', (d) => {
      buf += d;
      const m = re.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve(m);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`exited with ${code} before printing ${re}`));
    });
  });
}

fs.rmSync(dir, { recursive: true, force: true });
const ws = path.join(dir, 'workspace');
fs.mkdirSync(ws, { recursive: true });
fs.cpSync(path.join(root, 'test', 'fixtures', 'go', 'exampleservice'), ws, { recursive: true });
// The sources predate the build (as they do for a real user): date them long ago, so a binary
// copy cached by an earlier run is still newer than its sources and heat is not dimmed.
const longAgo = new Date('2001-01-01T00:00:00Z');
for (const f of fs.readdirSync(ws, { recursive: true })) fs.utimesSync(path.join(ws, f), longAgo, longAgo);
const go = newestGo();
const env = {
  ...process.env,
  PATH: `${path.dirname(go)}:${process.env.PATH}`,
  GOTOOLCHAIN: 'local',
  GOPROXY: 'off',
  GOFLAGS: '-mod=mod',
  CGO_ENABLED: '0',
  GOCACHE: path.join(os.tmpdir(), 'go-perf-lens-fixtures', 'gocache', path.basename(path.dirname(path.dirname(go)))),
  GOPATH: path.join(os.tmpdir(), 'go-perf-lens-fixtures', 'gopath'),
};
const bin = path.join(dir, 'bin', 'exampleservice');
const load = path.join(dir, 'bin', 'load');
execFileSync(go, ['build', '-o', bin, '.'], { cwd: ws, env, stdio: ['ignore', 'inherit', 'inherit'] });
execFileSync(go, ['build', '-o', load, './cmd/load'], { cwd: ws, env, stdio: ['ignore', 'inherit', 'inherit'] });

const t0 = Date.now();
const phase = (what) => console.log(`[prepareUiFixtures] ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const children = [];
const cleanup = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
};
process.on('exit', cleanup);
try {
  const svc = spawn(bin, ['-addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(svc);
  const [, addr] = await waitForLine(svc, /listening on (\S+)/, 15000);
  // Long enough for a second recording and the trace on a slow machine; killed at the end anyway.
  const loader = spawn(load, ['-url', `http://${addr}`, '-duration', '120s', '-c', '2'], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(loader);
  await new Promise((r) => setTimeout(r, 1000));

  phase('service under load');
  const sessionPath = path.join(dir, 'session.json');
  const { loadSession, saveSession } = require(path.join(root, 'out', 'src', 'model', 'session.js'));
  const record = (seconds) => {
    execFileSync(
      process.execPath,
      [path.join(root, 'dist', 'cli.js'), 'record', '--pid', String(svc.pid), '--duration', String(seconds), '-o', sessionPath],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    return loadSession(sessionPath).profile.totalSamples;
  };
  const first = record(4);
  phase(`recorded (${first} samples)`);
  if (first < MIN_SAMPLES) {
    // On a machine busy with other work the service gets little CPU: take a longer recording
    // instead (said here, so a thin fixture is never silent).
    if (loader.exitCode !== null) throw new Error(`the load generator exited early (${loader.exitCode})`);
    console.log(
      `[prepareUiFixtures] only ${first} samples in 4 s (fewer than ${MIN_SAMPLES}: the machine is busy); recording again for 8 s`,
    );
    phase(`recorded again (${record(8)} samples)`);
  }
  // The latency of one handler, through the same tracer the extension uses.
  const { traceFunctions } = require(path.join(root, 'out', 'src', 'commands', 'goTracing.js'));
  const traced = await traceFunctions({ target: { kind: 'local' }, pid: svc.pid, durationSec: 3, functions: [TRACED] });
  phase('traced');
  const session = loadSession(sessionPath);
  session.profile.latency = traced.latency;
  saveSession(sessionPath, session);

  fs.writeFileSync(
    path.join(dir, 'fixture.json'),
    JSON.stringify({ binary: bin, workspace: ws, mainGo: path.join(ws, 'main.go'), tracedFunction: TRACED }, null, 1),
  );
  const p = session.profile;
  console.log(
    `[prepareUiFixtures] ${dir}: ${p.totalSamples} samples of ${p.event.name}, ${p.functions.length} functions, ${p.lines.length} lines; ${TRACED}: ${traced.latency[0]?.calls} calls`,
  );
} finally {
  cleanup();
}
