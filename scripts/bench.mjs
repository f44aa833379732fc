// npm run bench: builds, then runs every scripts/bench/*.mjs in turn. Each benchmark prints its
// figure beside the reference tool's figure measured in the same run, as a ratio.
// Usage: node scripts/bench.mjs [NAME_SUBSTRING]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2];
execFileSync('npx', ['tsc', '-p', '.'], { cwd: root, stdio: 'inherit' });
execFileSync('node', ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
let failed = 0;
for (const f of fs
  .readdirSync(path.join(root, 'scripts', 'bench'))
  .filter((f) => f.endsWith('.mjs'))
  .sort()) {
  if (only && !f.includes(only)) continue;
  console.log(`\n=== ${f.replace(/\.mjs$/, '')} ===`);
  const r = spawnSync('node', [path.join(root, 'scripts', 'bench', f)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`(${f} failed with exit ${r.status})`);
  }
}
process.exit(failed ? 1 : 0);
