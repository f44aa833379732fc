/**
 * Where a VS Code test run keeps its throw-away state: one folder per run (GPL_VSCODE_RUN_DIR,
 * set by scripts/vscodeTests.mjs so it can sweep leftovers), fresh subfolders per server,
 * browser profile and workspace — the workbench saves keystrokes to disk, so fixtures are
 * always copied, never opened in place.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const RESULTS_DIR = path.join(REPO_ROOT, 'test-results');

let dir: string | undefined;

export function runDir(): string {
  if (!dir) {
    dir = process.env.GPL_VSCODE_RUN_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-vscode-'));
    fs.mkdirSync(dir, { recursive: true });
  }
  return dir;
}

export function freshDir(prefix: string): string {
  return fs.mkdtempSync(path.join(runDir(), `${prefix}-`));
}

/** Settings every test workspace gets: no welcome page, no distractions, no network. */
export const QUIET_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'git.enabled': false,
  'files.autoSave': 'off',
  'editor.minimap.enabled': false,
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

/** A fresh workspace folder with the given files (relative path → content) and .vscode/settings.json. */
export function makeWorkspace(prefix: string, files: Record<string, string>, settings: Record<string, unknown> = {}): string {
  const ws = freshDir(prefix);
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(ws, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...settings }, null, 2));
  return ws;
}

/** Copies a directory tree (fixture sources) into a workspace folder. */
export function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}
