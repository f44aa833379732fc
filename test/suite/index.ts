/**
 * The extension-host test module: VS Code calls run() inside its extension host (given as
 * extensionTestsPath by scripts/vscodeTests.mjs here, or by @vscode/test-electron elsewhere).
 * Runs mocha over every *.test.js beside this file and writes the counts to a JSON file —
 * GPL_SUITE_RESULTS if set, else results.json here — so the runner outside can read them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';

export interface SuiteResults {
  passes: number;
  failures: number;
  pending: number;
  /** One line per test: "✓ full title", "✗ full title: error", "- full title". */
  lines: string[];
  /** Set when the suite could not start (a test file failed to load). */
  error?: string;
}

function testFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? testFiles(path.join(dir, d.name)) : d.name.endsWith('.test.js') ? [path.join(dir, d.name)] : []))
    .sort();
}

function writeResults(file: string, r: SuiteResults): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(r, null, 2));
  fs.renameSync(`${file}.tmp`, file); // the runner polls for the file: never let it see half of it
}

/**
 * Extension test runs open the folder in Restricted Mode without asking; the runner outside
 * grants trust through the UI. Wait for that (a Go profiler stays off in untrusted folders).
 */
async function waitForTrust(timeoutMs: number): Promise<void> {
  if (vscode.workspace.isTrusted) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      sub.dispose();
      resolve();
    }, timeoutMs);
    const sub = vscode.workspace.onDidGrantWorkspaceTrust(() => {
      clearTimeout(timer);
      sub.dispose();
      resolve();
    });
  });
}

export async function run(): Promise<void> {
  await waitForTrust(Number(process.env.GPL_SUITE_TRUST_WAIT_MS ?? 60000));
  const resultsFile = process.env.GPL_SUITE_RESULTS ?? path.join(__dirname, 'results.json');
  const grep = process.env.GPL_SUITE_GREP;
  const mocha = new Mocha({ ui: 'bdd', timeout: 120000, color: false, reporter: 'spec', ...(grep ? { grep } : {}) });
  const lines: string[] = [];
  try {
    for (const f of testFiles(__dirname)) mocha.addFile(f);
    await mocha.loadFilesAsync();
  } catch (e) {
    const error = `test files failed to load: ${(e as Error).stack ?? String(e)}`;
    writeResults(resultsFile, { passes: 0, failures: 1, pending: 0, lines, error });
    throw new Error(error);
  }
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run((n) => resolve(n));
    runner.on('pass', (t) => lines.push(`✓ ${t.fullTitle()}`));
    runner.on('fail', (t, err: Error) => lines.push(`✗ ${t.fullTitle()}: ${err.stack ?? err.message}`));
    runner.on('pending', (t) => lines.push(`- ${t.fullTitle()}`));
    runner.on('end', () => {
      const { passes, failures: failed, pending } = runner.stats!;
      writeResults(resultsFile, { passes, failures: failed, pending, lines });
    });
  });
  if (failures > 0) throw new Error(`${failures} extension-host test(s) failed`);
}
