/**
 * Profiling a benchmark from its code lens in a real VS Code: the "profile" lens above
 * `func BenchmarkChecksum` (a copy of test/fixtures/go/benchpkg) builds the test binary with the
 * machine's Go, records it with real perf, and heat lands on the package's work.go; after a
 * change that makes Checksum 4x the work, the same lens compares with the previous run: the
 * benchmark's ns/op before and after, and its lines drawn against that baseline (a diff of shares).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GoPerfLensApi } from '../../src/ui/extensionApi';
import { FIXTURE_CACHE, GO_FIXTURES, goEnv, newestGo } from '../support/goToolchains';

const EXTENSION_ID = 'go-perf-lens.go-perf-lens';

async function clickLens(uri: vscode.Uri, name: string): Promise<void> {
  const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
  const lens = lenses.find((l) => l.command?.command === 'goPerfLens.profileGoTest' && l.command.arguments?.[2] === name);
  assert.ok(lens?.command, `no profile lens above ${name}: ${lenses.map((l) => l.command?.title).join(', ')}`);
  assert.equal(lens.command.title, 'profile');
  await vscode.commands.executeCommand(lens.command.command, ...(lens.command.arguments ?? []));
}

describe('profile a benchmark from its code lens [vscode, perf, go]', function () {
  this.timeout(240_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-lens-bench-'));
  let api: GoPerfLensApi;
  // The extension runs the `go` on the extension host's PATH: the newest toolchain, with the build
  // cache the Node suites warmed (a cold one compiles the standard library's testing: minutes here).
  const savedEnv = { ...process.env };
  before(() => Object.assign(process.env, goEnv(newestGo(), FIXTURE_CACHE)));
  after(() => {
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
    api?.clear();
    api?.pinBaseline(undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('heat on the package after the first run, then ns/op before and after and a diff against the previous run after a change', async () => {
    const ext = vscode.extensions.getExtension<GoPerfLensApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
    fs.cpSync(path.join(GO_FIXTURES, 'benchpkg'), dir, { recursive: true });
    const testUri = vscode.Uri.file(path.join(dir, 'work_test.go'));
    const workUri = vscode.Uri.file(path.join(dir, 'work.go'));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(testUri), { preview: false });
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(workUri), {
      viewColumn: vscode.ViewColumn.Beside,
      preview: false,
      preserveFocus: true,
    });

    await clickLens(testUri, 'BenchmarkChecksum');
    const first = api.testing!.lastGoTestRun();
    assert.ok(first, 'no run was recorded');
    console.log(
      `    click to heat: ${first.totalMs} ms (build ${first.timings.buildMs} ms, run under perf ${first.timings.runMs} ms, read ${first.timings.ingestMs} ms)`,
    );
    assert.match(first.label, /^BenchmarkChecksum · \d+(\.\d+)? ns\/op$/);
    assert.equal(first.comparison, undefined);
    const heat = api.testing!.decorationsFor(workUri);
    assert.ok(
      heat && heat.some((d) => d.line1 >= 12 && d.line1 <= 17 && /^[1-5]$/.test(d.kind)),
      `no heat on Checksum's loop: ${JSON.stringify(heat)}`,
    );

    // Four times the work per op.
    const text = fs.readFileSync(workUri.fsPath, 'utf8');
    fs.writeFileSync(workUri.fsPath, text.replace('var Rounds = 1', 'var Rounds = 4'));
    await clickLens(testUri, 'BenchmarkChecksum');
    const second = api.testing!.lastGoTestRun()!;
    const m = /^BenchmarkChecksum: ([\d.]+) → ([\d.]+) ns\/op \([+-][\d.]+%\), 0 → 0 B\/op, 0 → 0 allocs\/op$/.exec(
      second.comparison ?? '',
    );
    assert.ok(m, `comparison: ${second.comparison}`);
    assert.equal(Number(m[1]), Number(/ ([\d.]+) ns\/op$/.exec(first.label)![1]), 'the "before" is the first run’s ns/op');
    assert.ok(Number(m[2]) > 2 * Number(m[1]), `4x the work should take well over 2x the time: ${second.comparison}`);
    const diff = api.testing!.decorationsFor(workUri) ?? [];
    // The diff is of shares (percentage points): Checksum already held ~95% of the samples, so its
    // lines move by a point or two, which may be within sampling noise (then not drawn); what
    // matters is that no plain heat is drawn and the lens compares with the previous run.
    assert.ok(
      diff.every((d) => d.kind === 'slower' || d.kind === 'faster'),
      `lines not drawn against the previous run: ${JSON.stringify(diff)}`,
    );
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', workUri)) ?? [];
    assert.ok(
      lenses.some((l) => / → .* CPU/.test(l.command?.title ?? '')),
      `no lens comparing with the previous run: ${JSON.stringify(lenses.map((l) => l.command?.title))}`,
    );
  });
});
