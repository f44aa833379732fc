/**
 * The one switch for what the heat means, in a real VS Code: pprof profiles that a real Go
 * program wrote (test/fixtures/go/pprofkinds, built at test time: runtime/pprof's allocs and
 * block profiles) open as heat through the extension's own reader; the status-bar item and
 * "Show heat for…" (by argument and through its quick pick, as a click on the item opens it)
 * switch between the loaded metrics, and the decorations, code lenses, hover and tree follow;
 * a baseline is compared on the same metric, and not at all when it lacks it.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GoPerfLensApi } from '../../src/ui/extensionApi';
import { buildGoFixture, GO_FIXTURES, newestGo } from '../support/goToolchains';

const EXTENSION_ID = 'go-perf-lens.go-perf-lens';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits for `check` to hold (generous deadline: the machine may be loaded); its last failure is the error. */
async function until<T>(what: string, check: () => T | undefined | false, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('Show heat for…: one switch for what the heat means [vscode, go]', function () {
  this.timeout(300_000);
  let api: GoPerfLensApi;
  let dir: string;
  let uri: vscode.Uri;
  let src: string[];
  const lineOf = (text: string): number => src.findIndex((l) => l.includes(text)) + 1;

  before(async () => {
    const ext = vscode.extensions.getExtension<GoPerfLensApi>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not loaded`);
    api = await ext.activate();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-b14-metrics-'));
    const bin = buildGoFixture('pprofkinds', newestGo());
    execFileSync(bin, [dir], { timeout: 120_000 });
    const mainGo = path.join(GO_FIXTURES, 'pprofkinds', 'main.go');
    src = fs.readFileSync(mainGo, 'utf8').split('\n');
    uri = vscode.Uri.file(mainGo);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: false });
  });
  after(() => {
    api?.clear();
    api?.pinBaseline(undefined);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a profile file through the extension's reader (the ingest worker, as Open profile… does) and waits for it. */
  async function open(name: string, wantText: string): Promise<void> {
    api.clear();
    await until('the profile to clear', () => api.testing!.loadedSamples() === undefined);
    api.loadSessionFile(path.join(dir, `${name}.pb.gz`));
    await until(`${name} to load`, () => api.testing!.metricStatus().visible && api.testing!.metricStatus().text === wantText);
  }

  const lenses = async (): Promise<Map<string, string>> => {
    const all = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
    return new Map(
      all
        .filter((l) => l.command?.command === 'goPerfLens.revealFunction')
        .map((l) => [l.command!.arguments![0] as string, l.command!.title]),
    );
  };
  /**
   * The drawn line with the highest share (its figure starts with it). Tint levels are not used:
   * a source file newer than the cached fixture binary (a fresh checkout) is drawn dimmed.
   */
  const hottest = (): { line1: number; figure: string } => {
    const drawn = api.testing!.decorationsFor(uri) ?? [];
    assert.ok(drawn.length > 0, 'nothing drawn on main.go');
    return drawn.reduce((a, b) => (parseFloat(b.figure) > parseFloat(a.figure) ? b : a));
  };

  it('an allocs profile opens as heat in bytes: the status bar names the metric, and the 64 KiB line leads', async () => {
    await open('allocs', '$(symbol-event) allocated bytes');
    const s = api.testing!.metricStatus();
    assert.equal(s.command, 'goPerfLens.showHeatFor');
    const hot = hottest();
    assert.equal(hot.line1, lineOf('make([]byte, 64<<10)'));
    assert.match(hot.figure, /^9\d\.\d%.* · 13\d MB$/, hot.figure);
    const ls = await lenses();
    // 2,000 × 64 KiB kept = 131 MB in ~2k objects; the profile covers the program's life (no duration): amounts, not rates.
    assert.match(ls.get('main.bigAllocs') ?? '', /^13\d MB alloc · 2k obj · 9\d\.\d% \(self 9\d\.\d%\)$/, ls.get('main.bigAllocs'));
    assert.match(ls.get('main.smallAllocs') ?? '', /^6\.4 MB alloc · 200k obj · /, ls.get('main.smallAllocs'));
  });

  it('“Show heat for…” switches every view to objects: decorations, lenses, hover, tree and status', async () => {
    await vscode.commands.executeCommand('goPerfLens.showHeatFor', 'alloc_objects');
    await until('the status bar to say objects', () => api.testing!.metricStatus().text === '$(symbol-event) allocated objects');
    const hot = hottest();
    assert.equal(hot.line1, lineOf('make([]byte, 32)'));
    assert.match(hot.figure, /^9\d\.\d% · 200k obj$/, hot.figure);
    const ls = await lenses();
    assert.match(ls.get('main.smallAllocs') ?? '', /^200k obj alloc · 6\.4 MB · 9\d\.\d% \(self 9\d\.\d%\)$/, ls.get('main.smallAllocs'));
    const row = api.testing!.hotFunctionRows().find((r) => r.name === 'main.smallAllocs');
    assert.ok(row, 'main.smallAllocs is not a row of the tree');
    assert.equal(row.samples, 200_000);
    assert.match(row.description, / · 200k obj$/);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      uri,
      new vscode.Position(lineOf('make([]byte, 32)') - 1, 3),
    );
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /allocated objects/);
    assert.match(text, /self: 200k obj/);
    assert.match(text, /allocated bytes: self 6\.4 MB/);
  });

  it('the status-bar item’s command opens the quick pick of the loaded metrics; choosing one switches', async () => {
    await vscode.commands.executeCommand('goPerfLens.showHeatFor', 'inuse_space');
    await until('in-use bytes', () => api.testing!.metricStatus().text === '$(symbol-event) in-use bytes');
    // As a click on the item: its command with no argument; the first row (allocated objects) is active.
    const picked = vscode.commands.executeCommand(api.testing!.metricStatus().command!);
    await until(
      'the pick to be accepted',
      () => {
        void vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
        return api.testing!.metricStatus().text === '$(symbol-event) allocated objects';
      },
      60_000,
    );
    await picked;
    assert.equal(hottest().line1, lineOf('make([]byte, 32)'));
  });

  it('a baseline is compared on the metric shown, and not at all when it lacks it', async () => {
    // Objects are shown; pin this allocs profile, then open the block profile: it has no allocations.
    await vscode.commands.executeCommand('goPerfLens.pinBaseline');
    await open('block', '$(symbol-event) delay (blocked or waiting for a lock)');
    const drawn = api.testing!.decorationsFor(uri) ?? [];
    // Heat (levels 1-5, or dimmed when the file is newer than the binary), not a diff (slower/faster).
    assert.ok(drawn.length > 0 && drawn.every((d) => /^([1-5]|stale)$/.test(d.kind)), `heat, not a diff: ${JSON.stringify(drawn)}`);
    const ls = await lenses();
    assert.match(ls.get('main.recvChan') ?? '', /^blocked \d+(\.\d)? ms · 50 contentions · /, ls.get('main.recvChan'));
    assert.ok(![...ls.values()].some((t) => t.includes('→')), 'a lens compares with a baseline that has no delay');
    // The allocs profile again (a new recording of the same program): compared with the baseline, on objects (the choice kept).
    await open('allocs', '$(symbol-event) allocated objects');
    const again = await lenses();
    assert.match(
      again.get('main.smallAllocs') ?? '',
      /^9\d\.\d% → 9\d\.\d% alloc obj \(within noise\) · self /,
      again.get('main.smallAllocs'),
    );
  });
});
