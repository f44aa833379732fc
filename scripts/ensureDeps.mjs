// The first step of `npm test`, `npm run demo`, `npm run bench`: installs the project's node
// modules (npm ci) when they are missing or older than package-lock.json, so a fresh clone needs
// nothing run before the README's commands. Uses Node's standard library only: it runs before
// any dependency exists.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lock = path.join(root, 'package-lock.json');
// npm writes node_modules/.package-lock.json on every install: equal content means up to date.
const installed = path.join(root, 'node_modules', '.package-lock.json');

function upToDate() {
  if (!fs.existsSync(installed)) return false;
  try {
    const want = JSON.parse(fs.readFileSync(lock, 'utf8')).packages ?? {};
    const have = JSON.parse(fs.readFileSync(installed, 'utf8')).packages ?? {};
    for (const [p, meta] of Object.entries(want)) {
      if (p === '' || meta.optional || meta.devOptional) continue; // platform-specific ones are skipped by npm
      if (!have[p] || have[p].version !== meta.version) return false;
    }
    return true;
  } catch {
    return false;
  }
}

if (!upToDate()) {
  process.stderr.write('[deps] installing node modules (npm ci)\n');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`[deps] npm ci failed (exit ${r.status ?? r.signal}): check the network to the npm registry, then run it again\n`);
    process.exit(1);
  }
}
