// The one test command (npm test runs scripts/setup.sh, then this).
// 1. type-checks and compiles src + test into out/ (tsc), bundles dist/ (esbuild), lints
//    (`npm run lint`; skipped with --unit or --grep, the quick runs);
// 2. runs every mocha suite under out/test/unit and out/test/integration in Node;
// 3. runs the extension-host and UI suites in a real VS Code (scripts/vscodeTests.mjs), unless --unit;
// then lists the failed tests (a line each, so they are in the last lines of a long log) and prints
// the totals as the last line: "N passed, N failed" (what CI reads).
// Flags: --unit (Node suites only), --grep RE (mocha grep).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const grepAt = args.indexOf('--grep');
const grep = grepAt >= 0 ? args[grepAt + 1] : undefined;

let passed = 0,
  failed = 0,
  skipped = 0;
const failedTests = [];
function step(name, fn) {
  try {
    fn();
  } catch (e) {
    failed++;
    failedTests.push(`${name}: ${e.message}`);
    console.error(`\n[test] ${name} failed: ${e.message}`);
  }
}

step('tsc', () => execFileSync('npx', ['tsc', '-p', '.'], { cwd: root, stdio: 'inherit' }));
step('build', () => execFileSync('node', ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' }));
if (!unitOnly && grep === undefined) step('lint', () => execFileSync('npm', ['run', '--silent', 'lint'], { cwd: root, stdio: 'inherit' }));

function findTests(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? findTests(path.join(dir, d.name)) : d.name.endsWith('.test.js') ? [path.join(dir, d.name)] : []));
}

const files = [...findTests(path.join(root, 'out', 'test', 'unit')), ...findTests(path.join(root, 'out', 'test', 'integration'))].sort();
if (files.length) {
  // Mocha runs in a child so a crash in one suite cannot hide the totals.
  const statsFile = path.join(root, 'out', 'mocha-stats.json');
  fs.rmSync(statsFile, { force: true });
  const r = spawnSync('node', [path.join(root, 'scripts', 'mochaRun.mjs'), statsFile, grep ?? '', ...files], {
    cwd: root,
    stdio: 'inherit',
  });
  if (fs.existsSync(statsFile)) {
    const s = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
    passed += s.passes;
    failed += s.failures;
    skipped += s.pending;
    failedTests.push(...(s.failed ?? []));
  } else {
    failed++;
    console.error(`[test] mocha exited with ${r.status} before reporting`);
  }
}

if (!unitOnly && fs.existsSync(path.join(root, 'scripts', 'vscodeTests.mjs'))) {
  const statsFile = path.join(root, 'out', 'vscode-stats.json');
  fs.rmSync(statsFile, { force: true });
  const r = spawnSync('node', [path.join(root, 'scripts', 'vscodeTests.mjs'), statsFile, ...(grep ? ['--grep', grep] : [])], {
    cwd: root,
    stdio: 'inherit',
  });
  if (fs.existsSync(statsFile)) {
    const s = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
    passed += s.passes;
    failed += s.failures;
    skipped += s.pending ?? 0;
    failedTests.push(...(s.failed ?? []));
  } else {
    failed++;
    console.error(`[test] VS Code tests exited with ${r.status} before reporting`);
  }
}

if (failedTests.length) {
  // The first line of each error is enough to find the test; its whole output is above.
  const oneLine = (t) => t.split('\n').slice(0, 2).join(' | ').slice(0, 400);
  console.log(`\nFailed:\n${failedTests.map((t) => `  ✗ ${oneLine(t)}`).join('\n')}`);
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);
