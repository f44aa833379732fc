/**
 * Open pprof endpoint… in a real VS Code: a real Go program (the example service, built at test
 * time) serves net/http/pprof on loopback under load; the command fetches its CPU profile and
 * the heat lands on the program's main.go, on exactly the lines the fetched profile says.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadSession } from '../../src/model/session';
import type { GoPerfLensApi } from '../../src/ui/extensionApi';
import { buildGoFixture, GO_FIXTURES, newestGo } from '../support/goToolchains';
import { buildGoPackage, startLoad, startService, stopAllTargets } from '../support/profileTargets';

const EXTENSION_ID = 'go-perf-lens.go-perf-lens';

describe('Open pprof endpoint… on a real Go program [vscode, go]', function () {
  this.timeout(180_000);
  let api: GoPerfLensApi;
  after(() => {
    api?.clear();
    stopAllTargets();
  });

  it('a CPU profile fetched from /debug/pprof/profile shows as heat on the program’s source', async () => {
    const ext = vscode.extensions.getExtension<GoPerfLensApi>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not loaded`);
    api = await ext.activate();
    const tc = newestGo();
    // Built by the Node suites before (same cache); built here only when run alone.
    const svcBin = buildGoFixture('exampleservice', tc);
    const loadBin = buildGoPackage('exampleservice', './cmd/load', tc);
    const svc = await startService(svcBin, ['-pprof']);
    const load = startLoad(loadBin, svc.url, 60);
    const mainGo = path.join(GO_FIXTURES, 'exampleservice', 'main.go');
    const uri = vscode.Uri.file(mainGo);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: false });

    await vscode.commands.executeCommand('goPerfLens.openPprofEndpoint', `${svc.url}/debug/pprof/profile?seconds=2`);
    load.proc.kill('SIGTERM');
    await load.done;

    const file = await api.testing!.persistNow();
    assert.ok(file, 'no profile is loaded after the command');
    const saved = loadSession(file) as ReturnType<typeof loadSession> & { label?: string };
    const p = saved.profile;
    assert.equal(saved.label, `${new URL(svc.url).host} profile 2s`);
    assert.equal(p.source, 'pprof');
    assert.equal(p.binary?.path, svcBin, 'the running binary is here and matches: it should be used');
    assert.ok(p.totalSamples > 20, `${p.totalSamples} samples`);
    const want = new Map<number, number>();
    // Heat follows what a line costs, callees included (goPerfLens.lineFigure's default).
    for (const l of p.lines) if (l.file === mainGo) want.set(l.line1, (want.get(l.line1) ?? 0) + l.cumSamples);
    const hot = [...want]
      .filter(([, n]) => n > 0 && n / p.totalSamples >= 0.001)
      .map(([l]) => l)
      .sort((a, b) => a - b);
    assert.ok(hot.length >= 3, `only ${hot.length} hot lines of main.go in the fetched profile`);
    const drawn = api.testing!.decorationsFor(uri);
    assert.ok(drawn, 'main.go is visible but nothing was drawn');
    assert.deepEqual(
      drawn.map((d) => d.line1),
      hot,
    );
    for (const d of drawn) assert.match(d.kind, /^[1-5]$/, `line ${d.line1} is drawn as ${d.kind}`);
    assert.ok(api.testing!.hotFunctionRows().length > 0, 'the hot-functions tree is empty');
    await svc.stop();
  });
});
