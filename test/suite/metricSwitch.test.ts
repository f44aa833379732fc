/**
 * The one switch for what the heat means, in a real VS Code: pprof profiles that a real Go
 * program wrote (test/fixtures/go/pprofkinds, built at test time: runtime/pprof's allocs, block
 * and mutex profiles) open as heat through the extension's own reader; the status-bar item and
 * "Show heat for…" (by argument and through its quick pick, as a click on the item opens it)
 * switch between the loaded metrics, and the decorations, code lenses, hover, tree and flame
 * graph follow, in the metric's unit; a baseline is compared on the same metric, and not at all
 * (with the reason said) when it lacks it.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GoPerfLensApi } from '../../src/ui/extensionApi';
import { buildGoFixture, GO_FIXTURES, newestGo } from '../support/goToolchains';

/** Words that belong to CPU samples only. */
const CPU_WORDS = /samples|CPU/;

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

/** The extension, and the profiles of every kind the pprofkinds fixture wrote into a fresh folder, with its main.go open. */
async function pprofKinds(prefix: string): Promise<{ api: GoPerfLensApi; dir: string; uri: vscode.Uri; src: string[] }> {
  const ext = vscode.extensions.getExtension<GoPerfLensApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded`);
  const api = await ext.activate();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const bin = buildGoFixture('pprofkinds', newestGo());
  execFileSync(bin, [dir], { timeout: 120_000 });
  const mainGo = path.join(GO_FIXTURES, 'pprofkinds', 'main.go');
  const uri = vscode.Uri.file(mainGo);
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: false });
  return { api, dir, uri, src: fs.readFileSync(mainGo, 'utf8').split('\n') };
}

describe('Show heat for…: one switch for what the heat means [vscode, go]', function () {
  this.timeout(300_000);
  let api: GoPerfLensApi;
  let dir: string;
  let uri: vscode.Uri;
  let src: string[];
  const lineOf = (text: string): number => src.findIndex((l) => l.includes(text)) + 1;

  before(async () => {
    ({ api, dir, uri, src } = await pprofKinds('gpl-b14-metrics-'));
  });
  after(async () => {
    api?.clear();
    api?.pinBaseline(undefined);
    // The flame graph and the sources it opened are closed: the next file starts with the editors it opens.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
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
    await open('block', '$(symbol-event) Blocking: delay');
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

  // Every view speaks the unit of the metric shown, in a real VS Code: with runtime/pprof's allocs,
  // block and mutex profiles of a real Go program (test/fixtures/go/pprofkinds, built at test time:
  // 2,000 × 64 KiB kept, 200,000 × 32 B, 50 receives from a channel fed every 2 ms, a mutex held
  // 5 ms at a time), the flame graph's status line and its frames' text ("Show in flame graph"
  // zooms into a function, the page reports what it shows), the tree rows, the code lenses and the
  // hovers say bytes, objects, blocked time, lock delay and contentions — never samples or CPU.
  // A block profile and a mutex profile are different metrics: one pinned as the baseline of the
  // other is not compared, and the views say why.

  /** Opens a profile file through the extension's reader and shows metric `id` (whatever an earlier test chose). */
  async function openAs(name: string, id: string, metricLabel: string): Promise<void> {
    api.clear();
    await until('the profile to clear', () => api.testing!.loadedSamples() === undefined);
    api.loadSessionFile(path.join(dir, `${name}.pb.gz`));
    await until(`${name} to load`, () => api.testing!.loadedSamples() !== undefined);
    await show(id, metricLabel);
  }
  async function show(id: string, metricLabel: string): Promise<void> {
    await vscode.commands.executeCommand('goPerfLens.showHeatFor', id);
    await until(metricLabel, () => api.testing!.metricStatus().text === `$(symbol-event) ${metricLabel}`);
  }

  /**
   * Shows `fn` in the flame graph and returns what the page reports once it has zoomed into it,
   * after it took in the whole tree of the metric `label` (a new tree after each switch: what the
   * page reported of an earlier one does not count).
   */
  async function flameFrame(fn: string, label: string): Promise<{ status: string; frame: string; summary: string }> {
    await vscode.commands.executeCommand('goPerfLens.showFlameGraph');
    const summary = await until(`the flame graph to take in the tree of ${label}`, () => {
      const s = api.testing!.flameGraphStatus();
      const st = s.state;
      return s.ready && s.nodeCount > 0 && s.nodesAcked === s.nodeCount && st?.zoomed === '' && st.status.includes(` frames · ${label}: `)
        ? st.status
        : undefined;
    });
    await vscode.commands.executeCommand('goPerfLens.showInFlameGraph', fn);
    const s = await until(`the flame graph to zoom into ${fn}`, () => {
      const st = api.testing!.flameGraphStatus().state;
      return st?.zoomed === fn ? st : undefined;
    });
    return { status: s.status, frame: s.frame, summary };
  }

  const lensOf = async (fn: string): Promise<string> => {
    const all = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
    const l = all.find((x) => x.command?.command === 'goPerfLens.revealFunction' && x.command.arguments?.[0] === fn);
    assert.ok(l, `no code lens for ${fn}`);
    return l.command!.title;
  };
  const hover = async (line1: number): Promise<string> => {
    const hs = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(line1 - 1, 3));
    return hs.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
  };
  const treeRow = (fn: string): string => {
    const r = api.testing!.hotFunctionRows().find((x) => x.name === fn);
    assert.ok(r, `${fn} is not a row of the tree`);
    return r.description;
  };

  it('allocated bytes: 2,000 × 64 KiB = 131 MB in the flame graph, the tree, the lens and the hover', async () => {
    // No baseline of an earlier test: the profile's own figures.
    api.pinBaseline(undefined);
    await openAs('allocs', 'alloc_space', 'allocated bytes');
    const f = await flameFrame('main.bigAllocs', 'allocated bytes');
    assert.match(f.summary, /^\d+ frames · allocated bytes: 13\d MB in all\./, f.summary);
    assert.match(f.frame, /^main\.bigAllocs\n9\d\.\d% · 13\d MB alloc \(self 13\d MB\)$/, f.frame);
    assert.match(f.status, /^Zoomed into main\.bigAllocs · 9\d\.\d% · 13\d MB alloc /, f.status);
    assert.match(treeRow('main.bigAllocs'), /13\d MB/);
    assert.match(await lensOf('main.bigAllocs'), /^13\d MB alloc · 2k obj · /);
    const h = await hover(lineOf('make([]byte, 64<<10)'));
    assert.match(h, /self: 13\d MB/);
    for (const text of [f.summary, f.frame, f.status, treeRow('main.bigAllocs'), await lensOf('main.bigAllocs')])
      assert.doesNotMatch(text, CPU_WORDS, text);
  });

  it('allocated objects: 200,000 × 32 B counted as 200k obj in the flame graph, the tree and the lens', async () => {
    api.pinBaseline(undefined);
    await show('alloc_objects', 'allocated objects');
    const f = await flameFrame('main.smallAllocs', 'allocated objects');
    assert.match(f.summary, /^\d+ frames · allocated objects: 20\dk obj in all\./, f.summary);
    assert.match(f.frame, /^main\.smallAllocs\n9\d\.\d% · 200k obj alloc \(self 200k obj\)$/, f.frame);
    assert.match(treeRow('main.smallAllocs'), /200k obj/);
    assert.match(await lensOf('main.smallAllocs'), /^200k obj alloc · 6\.4 MB · /);
    for (const text of [f.summary, f.frame, treeRow('main.smallAllocs')]) assert.doesNotMatch(text, CPU_WORDS, text);
  });

  it('a block profile: blocked time, then contentions (50 receives), in the flame graph, the tree, the lens and the hover', async () => {
    // No baseline of an earlier test: the profile's own figures.
    api.pinBaseline(undefined);
    await openAs('block', 'block_delay', 'Blocking: delay');
    // 50 receives, each waiting up to the producer's 2 ms sleep: between 50 ms and a few seconds however loaded the machine was.
    const f = await flameFrame('main.recvChan', 'Blocking: delay');
    assert.match(f.summary, /^\d+ frames · Blocking: delay: \d+(\.\d)? (ms|s) in all\./, f.summary);
    assert.match(f.frame, /^main\.recvChan\n\d+\.\d% · blocked \d+(\.\d)? (ms|s) \(self 0 ns\)$/, f.frame);
    assert.match(treeRow('main.recvChan'), /\d (ms|s)$/);
    assert.match(await lensOf('main.recvChan'), /^blocked \d+(\.\d)? (ms|s) · 50 contentions · /);
    const recv = await hover(lineOf('\t\t<-ch'));
    assert.match(recv, /Blocking: delay/);
    assert.match(recv, /\d (ms|s)/);
    assert.doesNotMatch(recv, CPU_WORDS);
    for (const text of [f.summary, f.frame, treeRow('main.recvChan')]) assert.doesNotMatch(text, CPU_WORDS, text);

    await show('block_contentions', 'Blocking: contentions');
    const c = await flameFrame('main.recvChan', 'Blocking: contentions');
    assert.match(c.frame, /^main\.recvChan\n\d+\.\d% · 50 contentions \(self 0 contentions\)$/, c.frame);
    assert.match(c.summary, / frames · Blocking: contentions: \d+ contentions in all\./, c.summary);
    assert.match(treeRow('main.recvChan'), /50 contentions$/);
  });

  it('a mutex profile: lock delay charged to the holder’s unlock, its own metric; a block baseline is not compared, and the views say why', async () => {
    // No baseline of an earlier test: the profile's own figures.
    api.pinBaseline(undefined);
    await openAs('block', 'block_delay', 'Blocking: delay');
    await vscode.commands.executeCommand('goPerfLens.pinBaseline');
    await openAs('mutex', 'mutex_delay', 'Mutex contention: delay');
    const f = await flameFrame('main.waitMutex.func1', 'Mutex contention: delay');
    assert.match(f.summary, /^\d+ frames · Mutex contention: delay: \d+(\.\d)? (ms|s) in all\./, f.summary);
    assert.match(f.frame, /^main\.waitMutex\.func1\n\d+\.\d% · lock delay \d+(\.\d)? (ms|s) \(self 0 ns\)$/, f.frame);
    // The closure has no lens of its own (no func line): its Unlock line's hover says it.
    const unlock = await hover(lineOf('\t\t\tmu.Unlock()'));
    assert.match(unlock, /Mutex contention: delay/);
    assert.match(unlock, /\d (ms|s)/);
    assert.doesNotMatch(unlock, CPU_WORDS);
    // Not a diff: heat levels (or dimmed), no "→" in the lenses, no "compared with" in the flame graph.
    await vscode.window.showTextDocument(uri, { preview: false });
    const drawn = api.testing!.decorationsFor(uri) ?? [];
    assert.ok(drawn.length > 0 && drawn.every((d) => /^([1-5]|stale)$/.test(d.kind)), `heat, not a diff: ${JSON.stringify(drawn)}`);
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
    assert.ok(!lenses.some((l) => l.command?.title.includes('→')), 'a lens compares the mutex profile with the block baseline');
    assert.doesNotMatch(f.summary, /compared with/);
    assert.equal(
      api.testing!.treeMessage(),
      'Baseline "block.pb.gz" measures Blocking: contentions, Blocking: delay, not Mutex contention: delay: nothing is compared (a difference needs the same metric in both); the views show this profile alone.',
    );
    // Another block profile is compared with it (the same metric), and the message says so.
    await openAs('block', 'block_delay', 'Blocking: delay');
    await until('the comparison', () => /^Compared with baseline block\.pb\.gz/.test(api.testing!.treeMessage() ?? ''));
    api.pinBaseline(undefined);
  });
});
