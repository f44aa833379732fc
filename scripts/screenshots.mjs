// `npm run screenshots`: compiles and builds, then runs the end-to-end UI tests in VS Code 1.100
// (VS Code server + headless Chromium; scripts/vscodeTests.mjs --e2e-only), which save their
// screenshots to test-results/. Lists the files made; exits non-zero if a test failed.
// Usage: node scripts/screenshots.mjs [--grep RE]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status;

run('npx', ['tsc', '-p', '.']); // others' work in progress may print errors; it still emits
if (run(process.execPath, ['scripts/build.mjs']) !== 0) {
  console.error('[screenshots] build failed');
  process.exit(1);
}
const statsFile = path.join(root, 'out', 'screenshots-stats.json');
const status = run(process.execPath, ['scripts/vscodeTests.mjs', statsFile, '--e2e-only', ...process.argv.slice(2)]);
const dir = path.join(root, 'test-results');
const shots = fs.existsSync(dir)
  ? fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.png'))
      .sort()
  : [];
console.log(`\n[screenshots] ${shots.length} in test-results/:`);
for (const f of shots) console.log(`  test-results/${f}`);
process.exit(status === 0 && shots.length > 0 ? 0 : 1);
