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
    log = (
      await promisify(execFile)(process.execPath, [path.join(REPO, 'scripts', 'prepareUiFixtures.mjs'), dir], {
        timeout: 600_000,
        maxBuffer: 16 << 20,
      })
    ).stdout;
    console.log(log.trimEnd());
  }
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'fixture.json'), 'utf8')) as { mainGo: string; tracedFunction: string };
  return {
    dir,
    own,
    mainGo: meta.mainGo,
    tracedFunction: meta.tracedFunction,
    profile: loadSession(path.join(dir, 'session.json')).profile,
    log,
  };
}

/** A share as the UI prints it: one decimal, and "<0.1%" for a non-zero share that would round to 0.0%. */
const pct = (n: number, total: number): string =>
  n > 0 && n / total < 0.0005 ? '<0.1%' : n / total >= 0.9995 ? '100%' : `${((100 * n) / total).toFixed(1)}%`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The model's self (or cumulative) samples per line of one file (inlined copies of a line add up). */
function modelLines(p: Profile, file: string, count: 'selfSamples' | 'cumSamples' = 'selfSamples'): Map<number, number> {
  const m = new Map<number, number>();
  for (const l of p.lines) if (l.file === file) m.set(l.line1, (m.get(l.line1) ?? 0) + l[count]);
  return m;
}

/**
 * Go's stack bottoms (runtime.goexit below every goroutine, mstart, rt0_go) with no samples of
 * their own: the tree shows them as no root row, as pprof drops goexit from its stacks.
 */
function stackBottom(f: { name: string; selfSamples: number }): boolean {
  return ['runtime.goexit', 'runtime.mstart', 'runtime.rt0_go'].includes(f.name) && f.selfSamples === 0;
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
    // One editor group with main.go, whatever the suite's earlier files left open (a flame graph, a second group).
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
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

  it('heat lands on exactly the lines the model says, by what each line costs (callees included), its own share beside', () => {
    const drawn = api.testing!.decorationsFor(uri);
    assert.ok(drawn, 'main.go is visible but nothing was drawn');
    const total = fx.profile.totalSamples;
    const cum = modelLines(fx.profile, fx.mainGo, 'cumSamples');
    const self = modelLines(fx.profile, fx.mainGo);
    const want = [...cum].filter(([, n]) => n > 0 && n / total >= threshold).sort((a, b) => a[0] - b[0]);
    assert.deepEqual(
      drawn.map((d) => d.line1),
      want.map(([l]) => l),
    );
    for (const [i, d] of drawn.entries()) {
      const [line1, n] = want[i]!;
      const own = pct(self.get(line1) ?? 0, total);
      assert.equal(d.figure, `${pct(n, total)}${own !== pct(n, total) ? ` (self ${own})` : ''} · ${compact(n)}`, `line ${d.line1}`);
      assert.match(d.kind, /^[1-5]$/, `line ${d.line1} is drawn as ${d.kind}, not as heat`);
    }
    // More samples never get a weaker tint.
    const bySamples = drawn.map((d, i) => ({ n: want[i]![1], level: Number(d.kind) })).sort((a, b) => a.n - b.n);
    for (let i = 1; i < bySamples.length; i++) assert.ok(bySamples[i]!.level >= bySamples[i - 1]!.level, JSON.stringify(bySamples));
  });

  it('by default the call line carries the highest figure: sort.Slice’s line over its comparator’s lines', async () => {
    const doc = await vscode.workspace.openTextDocument(uri);
    const lines = doc.getText().split('\n');
    const call = lines.findIndex((t) => t.includes('sort.Slice(recs, func')) + 1;
    const end = lines.findIndex((t, i) => i >= call && /^\t\}\)/.test(t)) + 1;
    assert.ok(call > 0 && end > call, 'no sort.Slice call with a comparator in main.go');
    const drawn = api.testing!.decorationsFor(uri)!;
    const callLine = drawn.find((d) => d.line1 === call);
    const comparator = drawn.filter((d) => d.line1 > call && d.line1 < end);
    assert.ok(
      callLine,
      `the sort.Slice line ${call} has no heat; drawn: ${JSON.stringify(drawn.filter((d) => d.line1 >= call - 2 && d.line1 <= end))}`,
    );
    assert.ok(comparator.length > 0, 'no comparator line has heat (handleSort got no samples?)');
    const share = (f: string): number => (f.startsWith('<') ? 0 : parseFloat(f));
    for (const c of comparator) {
      assert.ok(
        share(callLine.figure) >= share(c.figure),
        `comparator line ${c.line1} (${c.figure}) shows more than the call line (${callLine.figure})`,
      );
      assert.ok(Number(callLine.kind) >= Number(c.kind), `comparator line ${c.line1} is tinted more than the call line`);
    }
    // Both figures, as pprof's cum and flat: the call line's own share is small.
    const cum = modelLines(fx.profile, fx.mainGo, 'cumSamples').get(call)!;
    const self = modelLines(fx.profile, fx.mainGo).get(call) ?? 0;
    assert.ok(cum > 2 * self, `the call line has cum ${cum}, self ${self}`);
    assert.match(callLine.figure, new RegExp(`^${pct(cum, fx.profile.totalSamples).replace('.', '\\.')} \\(self [<\\d.]+%\\) · `));
  });

  it('the setting says what the tint follows, and “self” redraws by the line’s own samples, then time', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { default: unknown; markdownDescription: string }> } };
    };
    const setting = pkg.contributes.configuration.properties['goPerfLens.lineFigure']!;
    assert.equal(setting.default, 'cumulative');
    assert.match(setting.markdownDescription, /tint/);
    const cfg = vscode.workspace.getConfiguration('goPerfLens');
    const total = fx.profile.totalSamples;
    try {
      await cfg.update('lineFigure', 'self', vscode.ConfigurationTarget.Global);
      await sleep(300);
      const drawn = api.testing!.decorationsFor(uri)!;
      const want = [...modelLines(fx.profile, fx.mainGo)].filter(([, n]) => n > 0 && n / total >= threshold).sort((a, b) => a[0] - b[0]);
      assert.deepEqual(
        drawn.map((d) => [d.line1, d.figure]),
        want.map(([l, n]) => [l, `${pct(n, total)} · ${compact(n)}`]),
      );
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

  it('“Go to the hottest line of my code” goes to the main.go line that led to the most samples', async () => {
    // Reference from the stacks: each sample charged to its innermost main.* frame's line.
    const st = fx.profile.stacks;
    assert.ok(st, 'the recorded session has no stack table');
    const byLine = new Map<number, number>();
    st.stacks.forEach((stack, i) => {
      for (const loc of stack) {
        const f = st.locations[loc]!.frames.find((fr) => fx.profile.functions[fr.function]!.name.startsWith('main.'));
        if (f) {
          byLine.set(f.line1, (byLine.get(f.line1) ?? 0) + st.counts[i]!);
          break;
        }
      }
    });
    const [bestLine] = [...byLine].sort((a, b) => b[1] - a[1])[0]!;
    const hot = api.testing!.hottestOwnLine();
    assert.deepEqual(hot, { path: fx.mainGo, line1: bestLine });
    await vscode.commands.executeCommand('goPerfLens.goToHottestLine');
    const ed = vscode.window.activeTextEditor!;
    assert.equal(ed.document.uri.fsPath, fx.mainGo);
    assert.equal(ed.selection.active.line + 1, bestLine);
  });

  it('heat shows in every visible editor, standard-library files too', async () => {
    // The hottest GOROOT file of the recording, opened beside main.go.
    const byFile = new Map<string, number>();
    for (const l of fx.profile.lines)
      if (l.file.includes('/src/') && !l.file.startsWith(path.dirname(fx.mainGo)))
        byFile.set(l.file, (byFile.get(l.file) ?? 0) + l.selfSamples);
    const [stdFile] = [...byFile].filter(([f]) => fs.existsSync(f)).sort((a, b) => b[1] - a[1])[0] ?? [];
    assert.ok(stdFile, 'no standard-library file with samples in the recording');
    const stdUri = vscode.Uri.file(stdFile);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(stdUri), {
      viewColumn: vscode.ViewColumn.Beside,
      preview: true,
      preserveFocus: true,
    });
    try {
      const want = [...modelLines(fx.profile, stdFile, 'cumSamples')]
        .filter(([, n]) => n > 0 && n / fx.profile.totalSamples >= threshold)
        .map(([l]) => l)
        .sort((a, b) => a - b);
      assert.deepEqual(
        api.testing!.decorationsFor(stdUri)!.map((d) => d.line1),
        want,
      );
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
    const declLine0 = (name: string): number =>
      doc
        .getText()
        .split('\n')
        .findIndex((t) => t.startsWith(`func ${name}(`));
    const expected = fx.profile.functions
      .filter((f) => f.file === fx.mainGo && f.cumSamples > 0 && /^main\.\w+$/.test(f.name))
      .map((f) => ({
        line0: declLine0(f.name.slice(5)),
        name: f.name,
        prefix: `${pct(f.cumSamples, total)} CPU (self ${pct(f.selfSamples, total)})`,
      }))
      .sort((a, b) => a.line0 - b.line0);
    assert.ok(
      expected.every((e) => e.line0 >= 0),
      JSON.stringify(expected),
    );
    assert.ok(expected.length >= 4, `only ${expected.length} profiled funcs in main.go`);
    const got = ours
      .map((l) => ({ line0: l.range.start.line, name: l.command!.arguments![0] as string, title: l.command!.title }))
      .sort((a, b) => a.line0 - b.line0);
    assert.deepEqual(
      got.map((g) => [g.line0, g.name]),
      expected.map((e) => [e.line0, e.name]),
    );
    for (const [i, g] of got.entries())
      assert.ok(g.title.startsWith(expected[i]!.prefix), `${g.title} does not start with ${expected[i]!.prefix}`);
    const traced = got.find((g) => g.name === fx.tracedFunction);
    assert.ok(traced, `no lens on ${fx.tracedFunction}`);
    const lat = fx.profile.latency!.find((l) => l.function === fx.tracedFunction)!;
    assert.match(traced.title, / · [\d.]+k? calls\/s · p50 [\d.]+ (ns|µs|ms|s) · p99 [\d.]+ (ns|µs|ms|s)$/);
    assert.ok(traced.title.includes(`p50 ${latencyText(lat.p50Nanos)}`), `${traced.title} lacks p50 ${latencyText(lat.p50Nanos)}`);
    // A traced function offers to trace it again (for a chosen duration); the others to trace it.
    assert.ok(
      lenses.some((l) => l.command?.command === 'goPerfLens.traceAgain' && l.command.arguments?.[0] === fx.tracedFunction),
      'no "trace again" lens on the traced function',
    );
    assert.ok(!lenses.some((l) => l.command?.command === 'goPerfLens.traceFunction' && l.command.arguments?.[0] === fx.tracedFunction));
  });

  it('the hot-functions tree sorts by cumulative share by default, by self on request, and says so', () => {
    const total = fx.profile.totalSamples;
    const fns = fx.profile.functions.filter((f) => (f.selfSamples > 0 || f.cumSamples > 0) && !stackBottom(f));
    // Ties by name in code-unit order (as pprof sorts names).
    const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    const byCum = [...fns].sort((a, b) => b.cumSamples - a.cumSamples || b.selfSamples - a.selfSamples || byName(a, b));
    const rows = api.testing!.hotFunctionRows();
    assert.deepEqual(
      rows.slice(0, 15).map((r) => r.name),
      byCum.slice(0, 15).map((f) => f.name),
    );
    assert.equal(rows[0]!.description, `self ${pct(byCum[0]!.selfSamples, total)} · cum ${pct(byCum[0]!.cumSamples, total)}`);
    assert.match(api.testing!.treeState(), /^callees \(what each calls\) · by cumulative$/);
    api.testing!.setTreeSort('self');
    try {
      const bySelf = [...fns].sort((a, b) => b.selfSamples - a.selfSamples || b.cumSamples - a.cumSamples || byName(a, b));
      assert.deepEqual(
        api
          .testing!.hotFunctionRows()
          .slice(0, 15)
          .map((r) => r.name),
        bySelf.slice(0, 15).map((f) => f.name),
      );
      assert.match(api.testing!.treeState(), /by self/);
    } finally {
      api.testing!.setTreeSort('cumulative');
    }
  });

  it('rows carry the package: sha256.block, runtime.main apart from main.main', () => {
    const labels = new Map(api.testing!.hotFunctionRows().map((r) => [r.name, r.label]));
    const hashBlock = fx.profile.functions.find(
      (f) => f.name === 'crypto/sha256.block' || f.name.startsWith('crypto/internal/fips140/sha256.block'),
    );
    assert.ok(hashBlock, 'no sha256 block function in the recording (handleDigest hashes)');
    const blockRow =
      api.testing!.hotFunctionRows().find((r) => r.name === hashBlock.name) ??
      (api.testing!.setTreeSearch('sha256'), api.testing!.hotFunctionRows().find((r) => r.name === hashBlock.name));
    api.testing!.setTreeSearch('');
    assert.equal(blockRow?.label, `sha256.${hashBlock.name.split('sha256.')[1]}`);
    for (const r of api.testing!.hotFunctionRows()) {
      const pkgLast = r.name.slice(r.name.lastIndexOf('/', r.name.search(/[([]|$/)) + 1);
      assert.ok(r.label === pkgLast || r.label === r.name, `${r.name} is labelled ${r.label}`);
    }
    if (labels.has('runtime.main') && labels.has('main.main')) assert.notEqual(labels.get('runtime.main'), labels.get('main.main'));
    const seen = new Map<string, string>();
    for (const r of api.testing!.hotFunctionRows()) {
      assert.ok(!seen.has(r.label) || seen.get(r.label) === r.name, `two rows read ${r.label}: ${seen.get(r.label)} and ${r.name}`);
      seen.set(r.label, r.name);
    }
  });

  it('“My code” keeps main’s functions as rows and folds the standard library and the runtime into one expandable row each', () => {
    api.testing!.setTreeFilter('mine');
    try {
      const rows = api.testing!.hotFunctionRows();
      const fnRows = rows.filter((r) => !r.name.startsWith('group:'));
      const groups = rows.filter((r) => r.name.startsWith('group:')).map((r) => r.name);
      const mine = fx.profile.functions.filter((f) => (f.selfSamples > 0 || f.cumSamples > 0) && f.name.startsWith('main.'));
      assert.deepEqual(new Set(fnRows.map((r) => r.name)), new Set(mine.map((f) => f.name)));
      assert.ok(groups.includes('group:std') && groups.includes('group:runtime'), groups.join(', '));
      assert.match(api.testing!.treeState(), /my code/);
      const std = api.testing!.hotFunctionChildren('group:std').map((r) => r.name);
      const rt = api.testing!.hotFunctionChildren('group:runtime').map((r) => r.name);
      assert.ok(std.length > 0 && std.every((n) => !n.startsWith('main.') && !n.startsWith('runtime.')), std.slice(0, 10).join(', '));
      assert.ok(
        std.some((n) => n.startsWith('crypto/') || n.startsWith('encoding/json.') || n.startsWith('sort.')),
        std.slice(0, 10).join(', '),
      );
      assert.ok(rt.some((n) => n.startsWith('runtime.')) && rt.every((n) => !n.startsWith('main.')), rt.slice(0, 10).join(', '));
      // Every function with samples is in exactly one place.
      const all = fx.profile.functions.filter((f) => f.selfSamples > 0 || f.cumSamples > 0).length;
      const other = groups.includes('group:other') ? api.testing!.hotFunctionChildren('group:other').length : 0;
      assert.equal(fnRows.length + std.length + rt.length + other, all);
    } finally {
      api.testing!.setTreeFilter('all');
    }
  });

  it('the search keeps the rows whose name holds the text', () => {
    api.testing!.setTreeSearch('Handle');
    try {
      const rows = api.testing!.hotFunctionRows();
      assert.ok(rows.length > 0 && rows.every((r) => r.name.toLowerCase().includes('handle')), rows.map((r) => r.name).join(', '));
      assert.ok(rows.some((r) => r.name === fx.tracedFunction));
      assert.match(api.testing!.treeState(), /“Handle”/);
    } finally {
      api.testing!.setTreeSearch('');
    }
  });

  it('hovering a row shows its tooltip (made then, not with every row): the full name, what self and cum mean, its source line; a call path under it', () => {
    const fn = fx.profile.functions.find((f) => f.name === fx.tracedFunction)!;
    const root = api.testing!.hotFunctionRows().find((r) => r.name === fn.name);
    assert.ok(root, `no row for ${fn.name}`);
    assert.ok(root.tooltip.startsWith(`\`${fn.name}\``), root.tooltip);
    assert.match(root.tooltip, /its own code \(self\) and everything it calls \(cum\)/);
    assert.ok(fn.file && root.tooltip.includes(`${fn.file}:${fn.line1}`), root.tooltip);
    const child = api.testing!.hotFunctionChildren(fn.name)[0];
    assert.ok(child, `${fn.name} has no callee rows`);
    assert.match(child.tooltip, /have the call path .+ → .+ in their stack/);
  });

  it('a function with no self time but a large cumulative share is a root, wherever it ranks by self', () => {
    const names = new Set(api.testing!.hotFunctionRows().map((r) => r.name));
    const total = fx.profile.totalSamples;
    const bigCum = fx.profile.functions.filter((f) => f.cumSamples >= 0.005 * total);
    assert.ok(
      bigCum.some((f) => f.name === fx.tracedFunction),
      `${fx.tracedFunction} should have ≥0.5% cumulative`,
    );
    for (const f of bigCum.filter((f) => !stackBottom(f)))
      assert.ok(names.has(f.name), `${f.name} (cum ${f.cumSamples}/${total}, self ${f.selfSamples}) is not a root`);
  });

  it('runtime.goexit, the frame below every goroutine, is no root row but a search finds it', () => {
    const goexit = fx.profile.functions.find((f) => f.name === 'runtime.goexit');
    assert.ok(goexit && goexit.cumSamples > 0.5 * fx.profile.totalSamples && goexit.selfSamples === 0, JSON.stringify(goexit));
    assert.ok(!api.testing!.hotFunctionRows().some((r) => r.name === 'runtime.goexit'), 'runtime.goexit is a root row');
    api.testing!.setTreeSearch('goexit');
    const found = api.testing!.hotFunctionRows().map((r) => r.name);
    api.testing!.setTreeSearch('');
    assert.ok(found.includes('runtime.goexit'), `the search for goexit found ${found.join(', ')}`);
  });

  it('revealing the coldest profiled function (as its code lens does) makes it a root', async () => {
    const fns = fx.profile.functions.filter((f) => f.selfSamples > 0 || f.cumSamples > 0);
    const coldest = [...fns].sort(
      (a, b) => a.cumSamples - b.cumSamples || a.selfSamples - b.selfSamples || a.name.localeCompare(b.name),
    )[0]!;
    await vscode.commands.executeCommand('goPerfLens.revealFunction', coldest.name);
    assert.ok(
      api.testing!.hotFunctionRows().some((r) => r.name === coldest.name),
      `${coldest.name} is not in the tree after reveal`,
    );
  });

  it('callers and callees are call paths whose numbers nest, checked against the recorded stacks', () => {
    const p = fx.profile;
    const st = p.stacks!;
    // Each stack as function names, root first (locations leaf first, their frames innermost first).
    const stacks = st.stacks.map((s, i) => ({
      names: s.flatMap((loc) => st.locations[loc]!.frames.map((f) => p.functions[f.function]!.name)).reverse(),
      count: st.counts[i]!,
    }));
    const holding = (seq: string[]): number =>
      stacks.filter((s) => s.names.some((_, i) => seq.every((n, k) => s.names[i + k] === n))).reduce((n, s) => n + s.count, 0);
    for (const mode of ['callers', 'callees'] as const) {
      api.testing!.setTreeMode(mode);
      try {
        const root = api.testing!.hotFunctionRows().find((r) => r.name === fx.tracedFunction)!;
        assert.equal(root.samples, holding([fx.tracedFunction]), `${mode}: root`);
        const walk = (path: string[], parentSamples: number, depth: number): void => {
          for (const r of api.testing!.hotFunctionPath(path)) {
            const seq = [...path, r.name];
            assert.equal(r.samples, holding(mode === 'callees' ? seq : [...seq].reverse()), `${mode}: ${seq.join(' / ')}`);
            assert.ok(
              r.samples <= parentSamples,
              `${mode}: ${seq.join(' / ')} shows ${r.samples}, more than its parent's ${parentSamples}`,
            );
            assert.equal(r.description, `${pct(r.samples, p.totalSamples)} · ${pct(r.samples, parentSamples)} of parent`);
            if (depth < 3) walk(seq, r.samples, depth + 1);
          }
        };
        walk([fx.tracedFunction], root.samples, 1);
        assert.match(api.testing!.treeState(), mode === 'callers' ? /^callers \(who calls each\)/ : /^callees \(what each calls\)/);
      } finally {
        api.testing!.setTreeMode('callees');
      }
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
    const has = (): boolean =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.input instanceof vscode.TabInputWebview && t.label === 'Latency');
    while (!has() && Date.now() < deadline) await sleep(200);
    assert.ok(has(), 'no "Latency" webview tab');
  });

  it('hovering the traced func’s name shows its latency histogram as an image', async () => {
    const doc = await vscode.workspace.openTextDocument(uri);
    const fnName = fx.tracedFunction.replace(/^main\./, '');
    const line0 = fx.profile.functions.find((f) => f.name === fx.tracedFunction)!.line1! - 1;
    const col = doc.lineAt(line0).text.indexOf(fnName) + 2;
    const hovers =
      (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(line0, col))) ?? [];
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /!\[latency histogram of [^\]]*\]\(data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+\)/);
    const lat = fx.profile.latency!.find((l) => l.function === fx.tracedFunction)!;
    assert.ok(text.includes(`| ${compact(lat.calls)} |`), `the call count ${compact(lat.calls)} is not in the hover:\n${text}`);
    const svg = Buffer.from(/base64,([A-Za-z0-9+/=]+)\)/.exec(text)![1]!, 'base64').toString('utf8');
    const bars = [...svg.matchAll(/<rect /g)].length;
    // A contiguous time axis: one bar per log2 bucket from the first non-empty one to the last,
    // the empty ones between included as gaps (the tracer reports only the non-empty ones).
    const nonEmpty = lat.buckets.filter((b) => b.count > 0).sort((a, b) => a.loNanos - b.loNanos);
    const span = Math.log2(nonEmpty.at(-1)!.hiNanos) - Math.log2(nonEmpty[0]!.hiNanos) + 1;
    assert.equal(bars, span, 'one bar per log2 bucket between the first and last non-empty ones');
    assert.match(svg, />p50<\/text>/);
    assert.match(svg, />p99<\/text>/);
    assert.match(text, /wall-clock/);
    assert.ok(text.includes(`| ${latencyText(lat.durationNanos)} |`), `the traced window is not in the hover:\n${text}`);
    const stat = fx.profile.functions.find((f) => f.name === fx.tracedFunction)!;
    assert.ok(
      text.includes(`${pct(stat.cumSamples, fx.profile.totalSamples)} CPU (self ${pct(stat.selfSamples, fx.profile.totalSamples)})`),
      `no CPU share beside the latency:\n${text}`,
    );
  });

  it('hovering a call of a profiled function in the same file shows its CPU share', async () => {
    const doc = await vscode.workspace.openTextDocument(uri);
    const lines = doc.getText().split('\n');
    const line0 = lines.findIndex((t) => /^\s+.*\bchecksum\(data\)/.test(t));
    assert.ok(line0 >= 0, 'no call of checksum(data) in main.go');
    const col = lines[line0]!.indexOf('checksum(') + 2;
    const stat = fx.profile.functions.find((f) => f.name === 'main.checksum')!;
    const hovers =
      (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(line0, col))) ?? [];
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.ok(
      text.includes(`${pct(stat.cumSamples, fx.profile.totalSamples)} CPU (self ${pct(stat.selfSamples, fx.profile.totalSamples)})`),
      text,
    );
  });

  it('hovering an inlined hot line names the functions it was inlined into', async () => {
    const inl = fx.profile.lines
      .filter((l) => l.file === fx.mainGo && l.inlinedInto?.length && l.selfSamples > 0)
      .sort((a, b) => b.selfSamples - a.selfSamples)[0];
    assert.ok(inl, 'no inlined line with samples in main.go (main.mix is inlined into main.checksum)');
    const hovers =
      (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(inl.line1 - 1, 2))) ??
      [];
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.ok(text.includes(`inlined into ${inl.inlinedInto!.map((f) => '`' + f.replace(/^main\./, '') + '`').join(' → ')}`), text);
    assert.match(text, /self: \d+ samples/);
  });

  it('pinning the current profile keeps its heat (nothing to compare yet) and says the next profile will be compared', async () => {
    await vscode.commands.executeCommand('goPerfLens.pinBaseline');
    try {
      const drawn = api.testing!.decorationsFor(uri)!;
      assert.ok(drawn.length > 0 && drawn.every((d) => /^[1-5]$/.test(d.kind)), JSON.stringify(drawn.slice(0, 3)));
    } finally {
      api.pinBaseline(undefined);
    }
  });

  it('a baseline turns heat into a diff of what lines cost: red where hotter, green where cooler, before → after, noise left out', async () => {
    const base = structuredClone(fx.profile);
    const hot = [...modelLines(fx.profile, fx.mainGo, 'cumSamples')].sort((a, b) => b[1] - a[1]);
    // The baseline had twice the samples (with callees) on the hottest line and none on the second:
    // the current profile is then cooler on the first and hotter on the second.
    const [first, second] = [hot[0]![0], hot[1]![0]];
    for (const l of base.lines) {
      if (l.file !== fx.mainGo) continue;
      if (l.line1 === first) l.cumSamples *= 2;
      if (l.line1 === second) l.cumSamples = 0;
    }
    // A function whose cumulative share halves in the baseline: its lens shows before → after.
    const fn = fx.profile.functions.find((f) => f.name === 'main.checksum')!;
    base.functions.find((f) => f.name === 'main.checksum')!.cumSamples = Math.round(fn.cumSamples / 2);
    api.pinBaseline(base, 'edited baseline');
    try {
      const drawn = api.testing!.decorationsFor(uri)!;
      const total = fx.profile.totalSamples;
      const cur = modelLines(fx.profile, fx.mainGo, 'cumSamples');
      assert.equal(drawn.find((d) => d.line1 === first)?.kind, 'faster');
      assert.equal(drawn.find((d) => d.line1 === second)?.kind, 'slower');
      assert.equal(
        drawn.find((d) => d.line1 === first)?.figure,
        `${pct(2 * cur.get(first)!, total)} → ${pct(cur.get(first)!, total)} (−${((100 * cur.get(first)!) / total).toFixed(1)} pp)`,
      );
      for (const d of drawn) assert.match(d.figure, /^[<\d.]+% → [<\d.]+% \([+−]\d+\.\d pp\)$/);
      // Lines whose change is within noise (all the unedited ones: the same recording) are left out.
      assert.deepEqual(
        drawn.map((d) => d.line1).sort((a, b) => a - b),
        [first, second].sort((a, b) => a - b),
      );
      // The larger change gets at least as strong a tint.
      const [a, b] = [drawn.find((d) => d.line1 === first)!, drawn.find((d) => d.line1 === second)!];
      const delta = (l: number, base2: number): number => Math.abs(cur.get(l)! - base2);
      if (delta(first, 2 * cur.get(first)!) > delta(second, 0)) assert.ok(a.level! >= b.level!);
      else assert.ok(b.level! >= a.level!);
      const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
      const lens = lenses.find((l) => l.command?.command === 'goPerfLens.revealFunction' && l.command.arguments?.[0] === 'main.checksum');
      const want = `${pct(Math.round(fn.cumSamples / 2), total)} → ${pct(fn.cumSamples, total)} CPU`;
      assert.ok(lens?.command?.title.startsWith(want), `the checksum lens is "${lens?.command?.title}", not "${want}…"`);
      // The tree sorts by the size of the change.
      const rows = api.testing!.hotFunctionRows();
      assert.match(api.testing!.treeState(), /by change/);
      assert.equal(
        rows[0]!.name,
        'main.checksum',
        rows
          .slice(0, 3)
          .map((r) => `${r.name} ${r.description}`)
          .join(' | '),
      );
      assert.match(rows[0]!.description, / → /);
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

  it('the flame graph opens in the active editor group (no new column) and takes in the whole call tree, page by page', async () => {
    const groupsBefore = vscode.window.tabGroups.all.length;
    const activeColumn = vscode.window.tabGroups.activeTabGroup.viewColumn;
    await vscode.commands.executeCommand('goPerfLens.showFlameGraph');
    // Long enough for a page that never starts to be opened again (FlameGraphPanel.watchStart).
    const deadline = Date.now() + 60_000;
    let s = api.testing!.flameGraphStatus();
    while (!(s.ready && s.nodesAcked === s.nodeCount) && Date.now() < deadline) {
      await sleep(200);
      s = api.testing!.flameGraphStatus();
    }
    assert.equal(s.nodeCount, fx.profile.callTree.parents.length);
    assert.ok(s.ready, `the webview script never said it was ready (CSP or bundle problem?), opened again ${s.reopened} time(s)`);
    assert.equal(s.nodesAcked, s.nodeCount);
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
    assert.ok(
      tabs.some((t) => t.input instanceof vscode.TabInputWebview && t.label === 'Flame graph'),
      tabs.map((t) => t.label).join(', '),
    );
    // In the editor area the user was in, not a narrow extra column beside it.
    assert.equal(s.groups, groupsBefore, `the flame graph opened a new editor group (${s.groups} groups, ${groupsBefore} before)`);
    assert.equal(s.viewColumn, activeColumn);
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
