/**
 * The editor experience in a real VS Code, on a session recorded at test time from the fixture
 * Go service (scripts/prepareUiFixtures.mjs: perf through `go-perf-lens record`, plus an eBPF
 * latency trace of main.handleChecksum). Checks that what the UI draws is what the model says:
 * heat on exactly the model's lines with its figures, code-lens texts on the func lines, the
 * tree's order, hovers with the histogram image, the diff against a baseline, dimming of stale
 * files. Needs root (perf, BCC) and Go, like the recording itself.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { Profile } from '../../src/model/profile';
import { loadSession } from '../../src/model/session';
import type { GoPerfLensApi } from '../../src/ui/extensionApi';

const EXTENSION_ID = 'go-perf-lens.go-perf-lens';
const REPO = path.resolve(__dirname, '..', '..', '..');

interface Fixture {
  dir: string;
  /** True when this suite recorded the fixtures itself (and so removes them). */
  own: boolean;
  mainGo: string;
  tracedFunction: string;
  profile: Profile;
  /** What prepareUiFixtures.mjs printed (phases, sample counts, a retry), when this suite ran it. */
  log: string;
}

/** The runner may prepare the fixtures before VS Code starts (GO_PERF_LENS_UI_FIXTURES); else record them now. */
async function fixtures(): Promise<Fixture> {
  let dir = process.env.GO_PERF_LENS_UI_FIXTURES;
  let own = false;
  let log = '';
  if (!dir || !fs.existsSync(path.join(dir, 'session.json'))) {
    own = true;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-ui-fixtures-'));
    // Asynchronously: the extension host must keep serving while the recording runs.
    log = (await promisify(execFile)(process.execPath, [path.join(REPO, 'scripts', 'prepareUiFixtures.mjs'), dir], { timeout: 600_000, maxBuffer: 16 << 20 })).stdout;
    console.log(log.trimEnd());
  }
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'fixture.json'), 'utf8')) as { mainGo: string; tracedFunction: string };
  return { dir, own, mainGo: meta.mainGo, tracedFunction: meta.tracedFunction, profile: loadSession(path.join(dir, 'session.json')).profile, log };
}

/** A share as the UI prints it: one decimal, and "<0.1%" for a non-zero share that would round to 0.0%. */
const pct = (n: number, total: number): string => (n > 0 && n / total < 0.0005 ? '<0.1%' : `${((100 * n) / total).toFixed(1)}%`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The model's self samples per line of one file (inlined copies of a line add up). */
function modelLines(p: Profile, file: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const l of p.lines) if (l.file === file) m.set(l.line1, (m.get(l.line1) ?? 0) + l.selfSamples);
  return m;
}

describe('editor UI on a recorded session [vscode, root, perf, bcc]', function () {
  this.timeout(600_000);
  let fx: Fixture;
  let api: GoPerfLensApi;
  let uri: vscode.Uri;
  const threshold = 0.001; // goPerfLens.heatThreshold's default

  before(async () => {
    fx = await fixtures();
    const ext = vscode.extensions.getExtension<GoPerfLensApi>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not loaded`);
    api = await ext.activate();
    uri = vscode.Uri.file(fx.mainGo);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: false });
    api.loadProfile(structuredClone(fx.profile), 'fixture session');
  });

  after(() => {
    api?.clear();
    if (fx?.own) fs.rmSync(fx.dir, { recursive: true, force: true });
  });

  it('the recording has CPU samples in the fixture’s main.go and a latency trace', () => {
    assert.ok(fx.profile.totalSamples > 100, `only ${fx.profile.totalSamples} samples; the recording's log:\n${fx.log}`);
    assert.ok(modelLines(fx.profile, fx.mainGo).size >= 5, 'fewer than 5 sampled lines in main.go');
    const lat = fx.profile.latency?.find((l) => l.function === fx.tracedFunction);
    assert.ok(lat && lat.calls > 0, `no calls of ${fx.tracedFunction} traced`);
  });

  it('heat lands on exactly the lines the model says, with its figures', () => {
    const drawn = api.testing!.decorationsFor(uri);
    assert.ok(drawn, 'main.go is visible but nothing was drawn');
    const total = fx.profile.totalSamples;
    const want = [...modelLines(fx.profile, fx.mainGo)]
      .filter(([, n]) => n > 0 && n / total >= threshold)
      .sort((a, b) => a[0] - b[0]);
    assert.deepEqual(drawn.map((d) => d.line1), want.map(([l]) => l));
    for (const [i, d] of drawn.entries()) {
      const n = want[i]![1];
      assert.equal(d.figure, `${pct(n, total)} · ${compact(n)}`, `line ${d.line1}`);
      assert.match(d.kind, /^[1-5]$/, `line ${d.line1} is drawn as ${d.kind}, not as heat`);
    }
    // More samples never get a weaker tint.
    const bySamples = drawn.map((d, i) => ({ n: want[i]![1], level: Number(d.kind) })).sort((a, b) => a.n - b.n);
    for (let i = 1; i < bySamples.length; i++) assert.ok(bySamples[i]!.level >= bySamples[i - 1]!.level, JSON.stringify(bySamples));
  });

  it('a settings change redraws: cumulative counts, then time', async () => {
    const cfg = vscode.workspace.getConfiguration('goPerfLens');
    const total = fx.profile.totalSamples;
    const cum = new Map<number, number>();
    for (const l of fx.profile.lines) if (l.file === fx.mainGo) cum.set(l.line1, (cum.get(l.line1) ?? 0) + l.cumSamples);
    try {
      await cfg.update('lineFigure', 'cumulative', vscode.ConfigurationTarget.Global);
      await sleep(300);
      const drawn = api.testing!.decorationsFor(uri)!;
      const want = [...cum].filter(([, n]) => n > 0 && n / total >= threshold).sort((a, b) => a[0] - b[0]);
      assert.deepEqual(drawn.map((d) => [d.line1, d.figure]), want.map(([l, n]) => [l, `${pct(n, total)} · ${compact(n)}`]));
      await cfg.update('lineFigureAmount', 'time', vscode.ConfigurationTarget.Global);
      await sleep(300);
      // cpu-clock: each sample stands for periodPerSample nanoseconds.
      assert.equal(fx.profile.event.unit, 'nanoseconds');
      for (const d of api.testing!.decorationsFor(uri)!) assert.match(d.figure, /^(\d+\.\d|<0\.1)% · [\d.]+ (ns|µs|ms|s)$/, d.figure);
    } finally {
      await cfg.update('lineFigure', undefined, vscode.ConfigurationTarget.Global);
      await cfg.update('lineFigureAmount', undefined, vscode.ConfigurationTarget.Global);
      await sleep(300);
    }
  });

  it('heat shows in every visible editor, standard-library files too', async () => {
    // The hottest GOROOT file of the recording, opened beside main.go.
    const byFile = new Map<string, number>();
    for (const l of fx.profile.lines) if (l.file.includes('/src/') && !l.file.startsWith(path.dirname(fx.mainGo))) byFile.set(l.file, (byFile.get(l.file) ?? 0) + l.selfSamples);
    const [stdFile] = [...byFile].filter(([f]) => fs.existsSync(f)).sort((a, b) => b[1] - a[1])[0] ?? [];
    assert.ok(stdFile, 'no standard-library file with samples in the recording');
    const stdUri = vscode.Uri.file(stdFile);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(stdUri), { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
    try {
      const want = [...modelLines(fx.profile, stdFile)].filter(([, n]) => n > 0 && n / fx.profile.totalSamples >= threshold).map(([l]) => l).sort((a, b) => a - b);
      assert.deepEqual(api.testing!.decorationsFor(stdUri)!.map((d) => d.line1), want);
      assert.ok(api.testing!.decorationsFor(uri)!.length > 0, 'main.go lost its heat');
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeEditorsInOtherGroups');
    }
  });

  it('a code lens above each profiled func, with the model’s shares and the traced latency', async () => {
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
    const ours = lenses.filter((l) => l.command?.command === 'goPerfLens.revealFunction');
    const total = fx.profile.totalSamples;
    const doc = await vscode.workspace.openTextDocument(uri);
    // Where each profiled main.* function is declared, found in the text: `func name(`.
    const declLine0 = (name: string): number => doc.getText().split('\n').findIndex((t) => t.startsWith(`func ${name}(`));
    const expected = fx.profile.functions
      .filter((f) => f.file === fx.mainGo && f.cumSamples > 0 && /^main\.\w+$/.test(f.name))
      .map((f) => ({ line0: declLine0(f.name.slice(5)), name: f.name, prefix: `${pct(f.cumSamples, total)} CPU (self ${pct(f.selfSamples, total)})` }))
      .sort((a, b) => a.line0 - b.line0);
    assert.ok(expected.every((e) => e.line0 >= 0), JSON.stringify(expected));
    assert.ok(expected.length >= 4, `only ${expected.length} profiled funcs in main.go`);
    const got = ours.map((l) => ({ line0: l.range.start.line, name: l.command!.arguments![0] as string, title: l.command!.title })).sort((a, b) => a.line0 - b.line0);
    assert.deepEqual(got.map((g) => [g.line0, g.name]), expected.map((e) => [e.line0, e.name]));
    for (const [i, g] of got.entries()) assert.ok(g.title.startsWith(expected[i]!.prefix), `${g.title} does not start with ${expected[i]!.prefix}`);
    const traced = got.find((g) => g.name === fx.tracedFunction);
    assert.ok(traced, `no lens on ${fx.tracedFunction}`);
    const lat = fx.profile.latency!.find((l) => l.function === fx.tracedFunction)!;
    assert.match(traced.title, / · [\d.]+k? calls\/s · p50 [\d.]+ (ns|µs|ms|s) · p99 [\d.]+ (ns|µs|ms|s)$/);
    assert.ok(traced.title.includes(`p50 ${latencyText(lat.p50Nanos)}`), `${traced.title} lacks p50 ${latencyText(lat.p50Nanos)}`);
  });

  it('the hot-functions tree lists functions by self samples, hottest first', () => {
    const rows = api.testing!.hotFunctionRows();
    const fns = fx.profile.functions.filter((f) => f.selfSamples > 0 || f.cumSamples > 0);
    const order = [...fns].sort((a, b) => b.selfSamples - a.selfSamples || b.cumSamples - a.cumSamples || a.name.localeCompare(b.name));
    assert.deepEqual(rows.slice(0, 15).map((r) => r.name), order.slice(0, 15).map((f) => f.name));
    const top = order[0]!;
    assert.equal(rows[0]!.description, `self ${pct(top.selfSamples, fx.profile.totalSamples)} · cum ${pct(top.cumSamples, fx.profile.totalSamples)}`);
  });

  it('a function with no self time but a large cumulative share is a root, wherever it ranks by self', () => {
    const names = new Set(api.testing!.hotFunctionRows().map((r) => r.name));
    const total = fx.profile.totalSamples;
    const bigCum = fx.profile.functions.filter((f) => f.cumSamples >= 0.005 * total);
    assert.ok(bigCum.some((f) => f.name === fx.tracedFunction), `${fx.tracedFunction} should have ≥0.5% cumulative`);
    for (const f of bigCum) assert.ok(names.has(f.name), `${f.name} (cum ${f.cumSamples}/${total}, self ${f.selfSamples}) is not a root`);
  });

  it('revealing the coldest profiled function (as its code lens does) makes it a root', async () => {
    const fns = fx.profile.functions.filter((f) => f.selfSamples > 0 || f.cumSamples > 0);
    const coldest = [...fns].sort((a, b) => a.cumSamples - b.cumSamples || a.selfSamples - b.selfSamples || a.name.localeCompare(b.name))[0]!;
    await vscode.commands.executeCommand('goPerfLens.revealFunction', coldest.name);
    assert.ok(api.testing!.hotFunctionRows().some((r) => r.name === coldest.name), `${coldest.name} is not in the tree after reveal`);
  });

  it('the callers toggle lists who calls a function, with the samples of each call edge', () => {
    const t = fx.profile.callTree;
    const fnIndex = fx.profile.functions.findIndex((f) => f.name === fx.tracedFunction);
    // Reference straight from the flat call tree: sum each caller's edge totals.
    const want = new Map<string, number>();
    for (let i = 0; i < t.parents.length; i++) {
      const p = t.parents[i]!;
      if (t.functions[i] !== fnIndex || p < 0 || t.functions[p] === fnIndex) continue;
      const caller = fx.profile.functions[t.functions[p]!]!.name;
      want.set(caller, (want.get(caller) ?? 0) + t.totalSamples[i]!);
    }
    assert.ok(want.size > 0, `${fx.tracedFunction} has no caller in the call tree`);
    api.testing!.setTreeMode('callers');
    try {
      const rows = api.testing!.hotFunctionChildren(fx.tracedFunction);
      assert.deepEqual(new Set(rows.map((r) => r.name)), new Set(want.keys()));
      for (const r of rows) assert.equal(r.description, `${pct(want.get(r.name)!, fx.profile.totalSamples)} from caller`);
    } finally {
      api.testing!.setTreeMode('callees');
    }
  });

  it('the loaded session is kept in the extension’s storage for the next window', async () => {
    const file = await api.testing!.persistNow();
    assert.ok(file && fs.existsSync(file), 'no session file in storage');
    const kept = loadSession(file).profile;
    assert.equal(kept.totalSamples, fx.profile.totalSamples);
    assert.deepEqual(kept.lines, fx.profile.lines);
  });

  it('the latency panel opens with the traced function', async () => {
    await vscode.commands.executeCommand('goPerfLens.showLatency');
    const deadline = Date.now() + 20_000;
    const has = (): boolean => vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.input instanceof vscode.TabInputWebview && t.label === 'Latency');
    while (!has() && Date.now() < deadline) await sleep(200);
    assert.ok(has(), 'no "Latency" webview tab');
  });

  it('hovering the traced func’s name shows its latency histogram as an image', async () => {
    const doc = await vscode.workspace.openTextDocument(uri);
    const fnName = fx.tracedFunction.replace(/^main\./, '');
    const line0 = fx.profile.functions.find((f) => f.name === fx.tracedFunction)!.line1! - 1;
    const col = doc.lineAt(line0).text.indexOf(fnName) + 2;
    const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(line0, col))) ?? [];
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /!\[latency histogram of [^\]]*\]\(data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+\)/);
    const lat = fx.profile.latency!.find((l) => l.function === fx.tracedFunction)!;
    assert.ok(text.includes(`| ${compact(lat.calls)} |`), `the call count ${compact(lat.calls)} is not in the hover:\n${text}`);
    const svg = Buffer.from(/base64,([A-Za-z0-9+/=]+)\)/.exec(text)![1]!, 'base64').toString('utf8');
    const bars = [...svg.matchAll(/<rect /g)].length;
    const nonEmpty = lat.buckets.filter((b) => b.count > 0);
    const span = lat.buckets.indexOf(nonEmpty.at(-1)!) - lat.buckets.indexOf(nonEmpty[0]!) + 1;
    assert.equal(bars, span, 'one bar per bucket between the first and last non-empty ones');
  });

  it('hovering a call of a profiled function in the same file shows its CPU share', async () => {
    const doc = await vscode.workspace.openTextDocument(uri);
    const lines = doc.getText().split('\n');
    const line0 = lines.findIndex((t) => /^\s+.*\bchecksum\(data\)/.test(t));
    assert.ok(line0 >= 0, 'no call of checksum(data) in main.go');
    const col = lines[line0]!.indexOf('checksum(') + 2;
    const stat = fx.profile.functions.find((f) => f.name === 'main.checksum')!;
    const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(line0, col))) ?? [];
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.ok(text.includes(`${pct(stat.cumSamples, fx.profile.totalSamples)} CPU (self ${pct(stat.selfSamples, fx.profile.totalSamples)})`), text);
  });

  it('hovering an inlined hot line names the functions it was inlined into', async () => {
    const inl = fx.profile.lines.filter((l) => l.file === fx.mainGo && l.inlinedInto?.length && l.selfSamples > 0).sort((a, b) => b.selfSamples - a.selfSamples)[0];
    assert.ok(inl, 'no inlined line with samples in main.go (main.mix is inlined into main.checksum)');
    const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(inl.line1 - 1, 2))) ?? [];
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.ok(text.includes(`inlined into ${inl.inlinedInto!.map((f) => '`' + f.replace(/^main\./, '') + '`').join(' → ')}`), text);
    assert.match(text, /self: \d+ samples/);
  });

  it('a pinned baseline turns heat into a diff: red where hotter, green where cooler', () => {
    const base = structuredClone(fx.profile);
    const hot = [...modelLines(fx.profile, fx.mainGo)].sort((a, b) => b[1] - a[1]);
    // The baseline had twice the samples on the hottest line and none on the second: the current
    // profile is then cooler on the first and hotter on the second.
    const [first, second] = [hot[0]![0], hot[1]![0]];
    for (const l of base.lines) {
      if (l.file !== fx.mainGo) continue;
      if (l.line1 === first) l.selfSamples *= 2;
      if (l.line1 === second) l.selfSamples = 0;
    }
    base.totalSamples = base.lines.reduce((n, l) => n + l.selfSamples, 0) + fx.profile.unattributedSamples;
    api.pinBaseline(base, 'edited baseline');
    try {
      const drawn = api.testing!.decorationsFor(uri)!;
      assert.equal(drawn.find((d) => d.line1 === first)?.kind, 'faster');
      assert.equal(drawn.find((d) => d.line1 === second)?.kind, 'slower');
      for (const d of drawn) assert.match(d.figure, /^[+−]\d+\.\d pp$/);
    } finally {
      api.pinBaseline(undefined);
      api.loadProfile(structuredClone(fx.profile), 'fixture session');
    }
  });

  it('a source file saved after the build gets dimmed heat', async () => {
    const before = fs.statSync(fx.mainGo);
    fs.utimesSync(fx.mainGo, new Date(), new Date(Date.now() + 3600_000));
    try {
      const drawn = api.testing!.decorationsFor(uri)!;
      assert.ok(drawn.length > 0);
      assert.deepEqual([...new Set(drawn.map((d) => d.kind))], ['stale']);
    } finally {
      fs.utimesSync(fx.mainGo, before.atime, before.mtime);
    }
    assert.ok(api.testing!.decorationsFor(uri)!.every((d) => d.kind !== 'stale'));
  });

  it('the flame graph opens in a webview panel and takes in the whole call tree, page by page', async () => {
    await vscode.commands.executeCommand('goPerfLens.showFlameGraph');
    const deadline = Date.now() + 30_000;
    let s = api.testing!.flameGraphStatus();
    while (!(s.ready && s.nodesAcked === s.nodeCount) && Date.now() < deadline) {
      await sleep(200);
      s = api.testing!.flameGraphStatus();
    }
    assert.equal(s.nodeCount, fx.profile.callTree.parents.length);
    assert.ok(s.ready, 'the webview script never said it was ready (CSP or bundle problem?)');
    assert.equal(s.nodesAcked, s.nodeCount);
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
    assert.ok(tabs.some((t) => t.input instanceof vscode.TabInputWebview && t.label === 'Flame graph'), tabs.map((t) => t.label).join(', '));
  });

  it('clearing the profile removes every decoration and lens', async () => {
    api.clear();
    assert.deepEqual(api.testing!.decorationsFor(uri), []);
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
    assert.equal(lenses.filter((l) => l.command?.command === 'goPerfLens.revealFunction').length, 0);
    api.loadProfile(structuredClone(fx.profile), 'fixture session');
  });
});

/** A count as the UI prints it: 950, 1.3k, 83k. */
function compact(n: number): string {
  return n < 1000 ? String(n) : `${(n / 1000).toFixed(n < 9950 ? 1 : 0).replace(/\.0$/, '')}k`;
}

/** The model's latency as the lens prints it (one decimal under 100, trailing .0 dropped). */
function latencyText(nanos: number): string {
  const [div, unit] = nanos >= 1e9 ? [1e9, 's'] : nanos >= 1e6 ? [1e6, 'ms'] : nanos >= 1e3 ? [1e3, 'µs'] : [1, 'ns'];
  const v = nanos / div;
  if (unit === 'ns') return `${Math.round(nanos)} ns`;
  return `${v >= 100 ? String(Math.round(v)) : v.toFixed(1).replace(/\.0$/, '')} ${unit}`;
}

