// The extension-host suite (out/test/suite, the same files scripts/vscodeTests.mjs runs in the
// VS Code server here) in a desktop VS Code that @vscode/test-electron downloads — for machines
// with internet access (not this CI: it cannot download VS Code). Compile and build first:
//   npx tsc -p . && node scripts/build.mjs && node scripts/vscodeTestElectron.mjs [--version 1.100.3]
// Linux without a display: run it under xvfb-run.
import { runTests } from '@vscode/test-electron';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const versionAt = args.indexOf('--version');
const version = versionAt >= 0 ? args[versionAt + 1] : '1.100.3'; // the smoke test checks 1.100.x

const extensionTestsPath = path.join(root, 'out', 'test', 'suite', 'index.js');
for (const f of [extensionTestsPath, path.join(root, 'dist', 'extension.js')]) {
  if (!fs.existsSync(f)) {
    console.error(`${path.relative(root, f)} is missing: run npx tsc -p . && node scripts/build.mjs`);
    process.exit(1);
  }
}
// A fresh Go workspace, as in the server run (the extension activates on go.mod).
const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-electron-ws-'));
fs.writeFileSync(path.join(ws, 'go.mod'), 'module example.com/suite\n\ngo 1.21\n');
fs.writeFileSync(path.join(ws, 'main.go'), 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hello")\n}\n');
fs.mkdirSync(path.join(ws, '.vscode'));
fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'workbench.startupEditor': 'none' }));
const results = path.join(ws, 'suite-results.json');

let code = 1;
try {
  code = await runTests({
    version,
    extensionDevelopmentPath: root,
    extensionTestsPath,
    // Trust is granted by flag here (no UI to click); other extensions stay out of the way.
    launchArgs: [ws, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    extensionTestsEnv: { GPL_SUITE_RESULTS: results, GPL_SUITE_TRUST_WAIT_MS: '0' },
  });
} catch (e) {
  console.error(`extension-host tests failed: ${e instanceof Error ? e.message : e}`);
}
if (fs.existsSync(results)) {
  const r = JSON.parse(fs.readFileSync(results, 'utf8'));
  for (const l of r.lines) console.log(`  ${l}`);
  console.log(`${r.passes} passed, ${r.failures} failed${r.pending ? `, ${r.pending} pending` : ''}`);
  if (r.passes + r.failures === 0) code = 1;
} else {
  console.error('the extension-host suite wrote no results');
  code = 1;
}
fs.rmSync(ws, { recursive: true, force: true });
process.exit(code ? 1 : 0);
