/**
 * `npm run package`'s .vsix, installed as a user installs it into VS Code 1.100 (the server's
 * --install-extension), activates there and runs its commands. Packs the current dist/ with
 * scripts/package.mjs (the same script `npm run package` runs after its production build).
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, freshDir, makeWorkspace } from './support/runDir';
import { OPEN_TIMEOUT_MS, openWorkbench } from './support/startup';
import { installExtension, listExtensions, type VsCodeServer } from './support/vscodeServer';
import { Workbench } from './support/workbench';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  publisher: string;
  version: string;
  contributes?: { commands?: { command: string; title: string; category?: string }[] };
};
const EXTENSION_ID = `${pkg.publisher}.${pkg.name}`;

/** Entry names of a zip file (a .vsix), read with Debian's Python (no unzip on the machine). */
function zipEntries(file: string): string[] {
  const py = 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))';
  return execFileSync('/usr/bin/python3', ['-c', py, file], { encoding: 'utf8', timeout: 30000 }).split('\n').filter(Boolean);
}

describe('package: the .vsix installs into VS Code 1.100 and activates there [vscode]', function () {
  this.timeout(120000);
  let vsix: string;
  let extensionsDir: string;
  let dataDir: string;
  let server: VsCodeServer | undefined;
  let wb: Workbench | undefined;

  before(function () {
    this.timeout(200000);
    vsix = path.join(freshDir('vsix'), `${pkg.name}-${pkg.version}.vsix`);
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'package.mjs'), '--out', vsix], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 180000,
    });
    extensionsDir = freshDir('extensions');
    dataDir = freshDir('package-server');
  });

  after(async function () {
    this.timeout(40000);
    if (wb) await wb.close();
    if (server) await server.stop();
  });

  it('holds dist/ (bundles, the helper, iced-x86) and no sources, tests, fixtures or source maps', () => {
    const entries = zipEntries(vsix)
      .filter((e) => e.startsWith('extension/'))
      .map((e) => e.slice('extension/'.length));
    for (const must of [
      'package.json',
      'dist/extension.js',
      'dist/cli.js',
      'dist/mcpSdk.js',
      'dist/node_modules/iced-x86/package.json',
      'dist/node_modules/iced-x86/iced_x86_bg.wasm',
    ]) {
      assert.ok(entries.includes(must), `${must} is not in the .vsix`);
    }
    // Every file of the helper package (bpf/ and its perflens_helper/ folder), not Python's caches.
    const helperFiles = fs.existsSync(path.join(REPO_ROOT, 'bpf'))
      ? (fs.readdirSync(path.join(REPO_ROOT, 'bpf'), { recursive: true }) as string[]).filter(
          (f) =>
            !f.split('/').some((part) => part.startsWith('__') && part !== '__init__.py') &&
            fs.statSync(path.join(REPO_ROOT, 'bpf', f)).isFile(),
        )
      : [];
    assert.ok(helperFiles.includes('helper.py') && helperFiles.includes('perflens_helper/main.py'), helperFiles.join(' '));
    for (const f of helperFiles) assert.ok(entries.includes(`dist/bpf/${f}`), `dist/bpf/${f} (the helper) is not in the .vsix`);
    const unwanted = entries.filter(
      (e) => /^(src|test|out|scripts|bpf|node_modules|test-results)\//.test(e) || /\.(ts|map)$/.test(e) || e.includes('fixtures/'),
    );
    assert.deepEqual(unwanted, []);
  });

  it('installs with `server-main.js --install-extension`', async function () {
    this.timeout(120000);
    await installExtension(vsix, extensionsDir, dataDir);
    const listed = await listExtensions(extensionsDir, dataDir);
    assert.ok(listed.includes(`${EXTENSION_ID}@${pkg.version}`), `installed extensions: ${listed.join(', ') || 'none'}`);
  });

  it('activates in a Go workspace there: its commands are in the palette and "Profile Go process" runs', async function () {
    // Opening the workbench, then the palette, the command (40 s) and its quick pick (120 s).
    this.timeout(OPEN_TIMEOUT_MS + 240000);
    assert.ok(
      fs.existsSync(extensionsDir) && fs.readdirSync(extensionsDir).some((d) => d.startsWith(EXTENSION_ID)),
      'not installed (previous test)',
    );
    const ws = makeWorkspace('package-ws', {
      'go.mod': 'module example.com/pkgcheck\n\ngo 1.21\n',
      'main.go': 'package main\n\nfunc main() {\n\tfor {\n\t}\n}\n',
    });
    // What runs is the installed copy, not this repository's.
    const opened = await openWorkbench('package', ws, { dataDir, extensionsDir });
    server = opened.server;
    wb = opened.wb;
    const listed = await wb.paletteCommands('Go Perf Lens:');
    const titles = (pkg.contributes?.commands ?? [])
      .filter((c) => c.command === 'goPerfLens.profileProcess')
      .map((c) => `${c.category}: ${c.title}`);
    assert.equal(titles.length, 1, 'package.json contributes no goPerfLens.profileProcess');
    assert.ok(
      listed.some((l) => l.includes(titles[0]!)),
      `the palette lists: ${listed.join(' | ')}`,
    );
    // Running it needs activate() to have registered it from the installed files: a quick pick proves it.
    await wb.runCommand(titles[0]!);
    try {
      await wb.waitForQuickPick(undefined, 120000); // the installed extension activates first: slow on a loaded machine
    } catch (e) {
      const notes = await wb.notifications();
      throw new Error(`${(e as Error).message}; notifications: ${notes.join(' | ') || 'none'}`);
    }
    await wb.screenshot('package-installed-profile-pick');
    await wb.press('Escape');
  });
});
