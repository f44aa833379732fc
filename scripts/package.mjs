// Packages dist/ (already built: `npm run package` runs build --production first) into a .vsix
// with the project's own @vscode/vsce (a devDependency).
// Everything the extension needs is in dist/ (bundle, bpf/ helper, node_modules/iced-x86), so
// vsce runs with --no-dependencies; .vscodeignore keeps sources, tests and fixtures out.
// Usage: node scripts/package.mjs [--out FILE.vsix]   (default: go-perf-lens-VERSION.vsix)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const out = path.resolve(outAt >= 0 && args[outAt + 1] ? args[outAt + 1] : path.join(root, `${pkg.name}-${pkg.version}.vsix`));

function die(msg) {
  console.error(`[package] ${msg}`);
  process.exit(1);
}

for (const f of ['dist/extension.js', 'dist/cli.js']) {
  if (!fs.existsSync(path.join(root, f))) die(`${f} is missing: run \`node scripts/build.mjs --production\` first (npm run package does)`);
}
if (fs.existsSync(path.join(root, 'bpf')) && !fs.existsSync(path.join(root, 'dist', 'bpf')))
  die('dist/bpf is missing: run the build first');
if (!fs.existsSync(path.join(root, 'dist', 'node_modules', 'iced-x86')))
  die('dist/node_modules/iced-x86 is missing: run `npm install`, then the build');

const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
if (!fs.existsSync(vsce)) die('node_modules/@vscode/vsce is missing: run `node scripts/ensureDeps.mjs` (npm run package does)');

fs.mkdirSync(path.dirname(out), { recursive: true });
// --no-rewrite-relative-links: the README's screenshots (media/screenshots, packaged) resolve inside the
// installed extension; rewriting them would need a public repository URL, which this package does not name.
const vsceArgs = [
  vsce,
  'package',
  '--no-dependencies',
  '--allow-missing-repository',
  '--no-rewrite-relative-links',
  '--skip-license',
  '--out',
  out,
];
const hasLicense = fs.readdirSync(root).some((f) => /^LICEN[CS]E(\.(md|txt))?$/i.test(f));
if (hasLicense) vsceArgs.splice(vsceArgs.indexOf('--skip-license'), 1);
const r = spawnSync(process.execPath, vsceArgs, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], timeout: 180000 });
if (r.error) die(`could not run vsce: ${r.error.message}`);
if (r.status !== 0) die(`vsce failed (${r.status ?? r.signal})`);
if (!fs.existsSync(out)) die(`vsce reported success but ${out} is not there`);
console.log(`[package] ${path.relative(process.cwd(), out) || out} (${Math.round(fs.statSync(out).size / 1024)} KiB)`);
