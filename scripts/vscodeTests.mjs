// Runs the tests that need a real VS Code (1.100, the VS Code server code-server ships, driven in
// headless Chromium), after scripts/test.mjs compiled out/ and built dist/:
//  1. the extension-host suite (out/test/suite/**/*.test.js, mocha inside VS Code's extension
//     host, with this repo as the extension under development);
//  2. the end-to-end UI tests (out/test/e2e/*.test.js, mocha in Node driving Playwright).
// Writes {passes, failures, pending} to STATS_FILE and exits non-zero on any failure. A part
// that cannot start or report counts as a failure, never as zero tests. Hard time limits
// everywhere; every process it starts is stopped at the end, also on timeout.
// Usage: node scripts/vscodeTests.mjs [STATS_FILE] [--suite-only | --e2e-only] [--grep RE]
//   env GPL_TOOLS (where setup.sh put the VS Code server), GPL_KEEP_RUN_DIR=1 (keep temp state)
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (f) => args.includes(f);
const grepAt = args.indexOf('--grep');
const grep = grepAt >= 0 ? args[grepAt + 1] : (process.env.GPL_TEST_GREP ?? '');
const statsFile =
  args.find((a, i) => !a.startsWith('--') && (grepAt < 0 || i !== grepAt + 1)) ?? path.join(root, 'out', 'vscode-stats.json');
const runSuite = !flag('--e2e-only');
const runE2e = !flag('--suite-only');

// Time limits (this machine has 2 cores; CI reads the totals, so nothing may hang).
// The end-to-end run has no limit of its own on its length, which follows the machine's load (nine
// files, each with its own VS Code server and Chromium; every CPU recording compiles its eBPF
// sampler first): every test and hook has its own mocha limit, the sum of its steps' deadlines.
// It is stopped only when it has printed nothing for longer than the longest of those (a
// before-all: test/e2e/support/startup.ts's STARTUP_TIMEOUT_MS, plus a second go build or the
// private sshd's start), i.e. when it hangs outside mocha's reach.
const TOTAL_MS = Number(process.env.GPL_VSCODE_TOTAL_MS) || 50 * 60_000; // env override: to try the watchdog
const SUITE_MS = 10 * 60_000; // the host-stall test records 400,000 samples twice (minutes on a loaded machine)
const E2E_SILENT_MS = () => support('startup').STARTUP_TIMEOUT_MS + 3 * 60_000;

const stats = { passes: 0, failures: 0, pending: 0, failed: [] };
const started = Date.now();
const log = (msg) => console.log(`[vscode-tests ${Math.round((Date.now() - started) / 1000)}s] ${msg}`);
const fail = (msg) => {
  stats.failures++;
  stats.failed.push(`VS Code tests: ${msg}`);
  console.error(`[vscode-tests] FAILED: ${msg}`);
};
const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-vscode-'));
process.env.GPL_VSCODE_RUN_DIR = runDir; // the e2e helpers put their servers, profiles and workspaces here

function writeStats() {
  fs.mkdirSync(path.dirname(statsFile), { recursive: true });
  fs.writeFileSync(statsFile, JSON.stringify(stats));
}

/** Kills what this run started and may have left: any process whose command line names runDir, with its process group. */
function sweep() {
  const ownGroup = readPgrp(process.pid);
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    let cmd;
    try {
      cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmd.includes(runDir)) continue;
    const pid = Number(d),
      pgrp = readPgrp(pid);
    try {
      if (pgrp && pgrp !== ownGroup) process.kill(-pgrp, 'SIGKILL');
      else process.kill(pid, 'SIGKILL');
      log(`stopped leftover process ${pid}: ${cmd.split('\0').slice(0, 3).join(' ').slice(0, 120)}`);
    } catch {
      /* gone already */
    }
  }
}
function readPgrp(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return 0;
  }
}

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  sweep();
  if (process.env.GPL_KEEP_RUN_DIR === '1') log(`kept ${runDir}`);
  else fs.rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
  writeStats();
  log(
    `${stats.passes} passed, ${stats.failures} failed${stats.pending ? `, ${stats.pending} pending` : ''} in ${Math.round((Date.now() - started) / 1000)} s`,
  );
}

// The last line of defence: whatever hangs, the run ends and reports within TOTAL_MS.
const watchdog = setTimeout(() => {
  fail(`the VS Code tests did not finish within ${TOTAL_MS / 60000} minutes; stopping everything`);
  finish();
  process.exit(1);
}, TOTAL_MS);
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    fail(`interrupted (${sig})`);
    finish();
    process.exit(1);
  });

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]);
}

const require = createRequire(import.meta.url);
function support(name) {
  const p = path.join(root, 'out', 'test', 'e2e', 'support', `${name}.js`);
  if (!fs.existsSync(p)) throw new Error(`${path.relative(root, p)} is missing: compile the tests first (npx tsc -p .)`);
  return require(p);
}

// ---------------------------------------------------------------------------------------------
// 1. Extension-host suite
async function extensionHostSuite() {
  const suiteIndex = path.join(root, 'out', 'test', 'suite', 'index.js');
  if (!fs.existsSync(suiteIndex)) throw new Error('out/test/suite/index.js is missing: compile the tests first (npx tsc -p .)');
  if (!fs.existsSync(path.join(root, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run node scripts/build.mjs');
  const { startServer } = support('vscodeServer');
  const { Workbench } = support('workbench');
  const { makeWorkspace, freshDir } = support('runDir');

  const resultsFile = path.join(runDir, 'suite-results.json');
  const ws = makeWorkspace('suite-ws', {
    'go.mod': 'module example.com/suite\n\ngo 1.21\n',
    'main.go': 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hello")\n}\n',
  });
  log('extension-host suite: starting the VS Code server');
  const server = await startServer({
    dataDir: freshDir('suite-server'),
    env: { GPL_SUITE_RESULTS: resultsFile, GPL_SUITE_TRUST_WAIT_MS: '150000', ...(grep ? { GPL_SUITE_GREP: grep } : {}) },
  });
  let wb;
  try {
    wb = await Workbench.open({
      server,
      folder: ws,
      userDataDir: freshDir('suite-chromium'),
      extensionDevelopmentPath: root,
      extensionTestsPath: suiteIndex,
    });
    log(`extension-host suite: workbench open on ${server.origin}, waiting for the tests`);
    // No trust dialog in an extension test run: the Restricted Mode item comes once the workbench is
    // up (late on a loaded machine); the tests wait for trust (GPL_SUITE_TRUST_WAIT_MS, longer than
    // grantTrust's own deadline).
    const trusted = wb
      .grantTrust('status-bar')
      .then(() => log('extension-host suite: trusted the workspace through the UI'))
      .catch((e) => log(`extension-host suite: could not grant workspace trust: ${e.message}`));
    const deadline = Date.now() + SUITE_MS - 30_000;
    while (!fs.existsSync(resultsFile)) {
      if (Date.now() > deadline) {
        throw new Error(
          `the extension-host suite wrote no results within ${Math.round((SUITE_MS - 30_000) / 1000)} s` +
            `\n--- workbench console (last lines) ---\n${wb.console.slice(-30).join('\n')}\n--- server ---\n${server.logTail()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await trusted.catch(() => undefined);
    const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    for (const l of r.lines) console.log(`  ${l}`);
    if (r.error) console.error(r.error);
    log(`extension-host suite: ${r.passes} passed, ${r.failures} failed, ${r.pending} pending`);
    stats.passes += r.passes;
    stats.failures += r.failures;
    stats.pending += r.pending;
    for (const l of r.lines) if (l.startsWith('✗ ')) stats.failed.push(l.slice(2));
    // What the page said (webviews' errors, the extension host's forwarded errors) explains many failures.
    if (r.failures > 0) {
      const said = wb.console.filter((l) => /^\[(error|warning|pageerror)\]|service worker|webview/i.test(l)).slice(-40);
      if (said.length)
        console.log(`  workbench console (errors and warnings, last ${said.length}):\n${said.map((l) => `    ${l}`).join('\n')}`);
    }
    if (r.passes + r.failures + r.pending === 0 && !grep) fail('the extension-host suite ran no tests');
  } finally {
    if (wb) await wb.close();
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. End-to-end UI tests: mocha in a child (own process group, so a timeout can stop all of it).
async function endToEnd() {
  const dir = path.join(root, 'out', 'test', 'e2e');
  const files = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.test.js'))
        .sort()
        .map((f) => path.join(dir, f))
    : [];
  if (files.length === 0) throw new Error('no end-to-end tests in out/test/e2e: compile the tests first (npx tsc -p .)');
  const e2eStats = path.join(runDir, 'e2e-stats.json');
  // Screenshots of this run only: drop the ones earlier runs left.
  const shots = path.join(root, 'test-results');
  if (fs.existsSync(shots)) for (const f of fs.readdirSync(shots)) if (/^(e2e|package)-.*\.png$/.test(f)) fs.rmSync(path.join(shots, f));
  log(`end-to-end: ${files.map((f) => path.basename(f)).join(', ')}`);
  const silentMs = E2E_SILENT_MS();
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'mochaRun.mjs'), e2eStats, grep, ...files], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, GPL_VSCODE_RUN_DIR: runDir },
  });
  let lastOutput = Date.now();
  child.stdout.on('data', (d) => {
    lastOutput = Date.now();
    process.stdout.write(d);
  });
  child.stderr.on('data', (d) => {
    lastOutput = Date.now();
    process.stderr.write(d);
  });
  const code = await new Promise((resolve) => {
    const timer = setInterval(() => {
      if (Date.now() - lastOutput < silentMs) return;
      console.error(`[vscode-tests] end-to-end tests printed nothing for ${Math.round(silentMs / 1000)} s: stopping them`);
      clearInterval(timer);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 5000);
    child.on('close', (c, s) => {
      clearInterval(timer);
      resolve(c ?? s);
    });
  });
  if (!fs.existsSync(e2eStats)) throw new Error(`the end-to-end tests exited (${code}) without reporting counts`);
  const s = JSON.parse(fs.readFileSync(e2eStats, 'utf8'));
  log(`end-to-end: ${s.passes} passed, ${s.failures} failed, ${s.pending} pending`);
  stats.passes += s.passes;
  stats.failures += s.failures;
  stats.pending += s.pending;
  stats.failed.push(...(s.failed ?? []));
  if (s.passes + s.failures + s.pending === 0 && !grep) fail('the end-to-end run ran no tests');
}

try {
  if (runSuite) await withTimeout(extensionHostSuite(), SUITE_MS, 'the extension-host suite').catch((e) => fail(e.message));
  sweep(); // nothing of the suite may survive into the UI tests
  if (runE2e) await endToEnd().catch((e) => fail(e.message));
} finally {
  clearTimeout(watchdog);
  finish();
}
process.exit(stats.failures ? 1 : 0);
