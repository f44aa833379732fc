/**
 * The assistant tools in a real VS Code 1.100 (agent mode's languageModelTools): registered
 * (vscode.lm.tools lists them with package.json's schemas), and a read-only one invoked outside
 * a chat through vscode.lm.invokeTool answers from the editor's profile — a CPU profile Go's own
 * profiler wrote at test time, checked against `go tool pprof`. The privileged tools are not
 * invoked here: outside a chat VS Code asks for their confirmation in a modal dialog, which the
 * extension host cannot answer; what they ask is checked instead.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import { ASSISTANT_TOOLS, findTool } from '../../src/commands/assistantTools';
import { prepareInvocation } from '../../src/commands/languageModelTools';
import type { GoPerfLensApi } from '../../src/ui/extensionApi';
import { FIXTURE_CACHE, GO_FIXTURES, goEnv, newestGo } from '../support/goToolchains';

const EXTENSION_ID = 'go-perf-lens.go-perf-lens';
const run = promisify(execFile);

async function invoke(name: string, input: object): Promise<string> {
  const r = await vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined });
  return r.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : '')).join('');
}

describe('assistant tools in VS Code agent mode [vscode, go]', function () {
  this.timeout(240_000);
  let api: GoPerfLensApi;
  let dir: string;
  let profile: string;
  let testBin: string;

  before(async function () {
    this.timeout(240_000);
    const ext = vscode.extensions.getExtension<GoPerfLensApi>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not loaded`);
    api = await ext.activate();
    // A real CPU profile from Go's own profiler: the fixture's benchmark under -test.cpuprofile.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-lmtools-'));
    const env = goEnv(newestGo(), FIXTURE_CACHE);
    testBin = path.join(dir, 'benchpkg.test');
    profile = path.join(dir, 'cpu.pb.gz');
    await run(newestGo().goBin, ['test', '-c', '-o', testBin, '.'], { cwd: path.join(GO_FIXTURES, 'benchpkg'), env, timeout: 180_000 });
    await run(testBin, ['-test.run', '^$', '-test.bench', '^BenchmarkChecksum$', '-test.benchtime', '1s', '-test.cpuprofile', profile], {
      cwd: dir,
      env,
      timeout: 120_000,
    });
  });
  after(() => {
    api?.clear();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('registers its six tools: vscode.lm.tools lists them with the schemas package.json declares', () => {
    const ours = vscode.lm.tools.filter((t) => t.name.startsWith('goPerfLens_'));
    assert.deepEqual(ours.map((t) => t.name).sort(), ASSISTANT_TOOLS.map((t) => t.name).sort());
    for (const t of ours) {
      const spec = findTool(t.name)!;
      assert.deepEqual(t.inputSchema, {
        type: 'object',
        properties: spec.params,
        ...(spec.required.length ? { required: spec.required } : {}),
      });
      assert.equal(t.description, spec.description);
    }
  });

  it('invokeTool outside a chat: openProfile loads a Go CPU profile into the editor; topFunctions names go tool pprof’s top function with its sample count', async () => {
    const opened = await invoke('goPerfLens_openProfile', { source: profile });
    assert.ok(opened.startsWith('Profile "cpu.pb.gz": '), opened);
    const loaded = api.testing?.loadedSamples();
    assert.ok(loaded !== undefined && loaded > 0, 'the profile did not become the editor’s');
    assert.ok(opened.includes(`: ${loaded} samples of `), opened);

    // The reference: go tool pprof's flat sample count of its top function.
    const top = (
      await run(newestGo().goBin, ['tool', 'pprof', '-top', '-nodecount=1', '-sample_index=samples', testBin, profile], {
        env: goEnv(newestGo(), FIXTURE_CACHE),
        timeout: 120_000,
      })
    ).stdout;
    const row = /^\s*(\d+)\s+[\d.]+%\s+[\d.]+%\s+\d+\s+[\d.]+%\s+(\S+)\s*$/m.exec(top);
    assert.ok(row, `go tool pprof -top printed:\n${top}`);
    const [, flat, name] = row;
    const answer = await invoke('goPerfLens_topFunctions', { count: 3 });
    const first = answer.split('\n').find((l) => l.startsWith('1. '));
    assert.ok(
      (first?.startsWith(`1. ${name}: self `) || first?.startsWith(`1. ${name} (inlined): self `)) &&
        first.includes(`% (${flat}), cumulative `),
      `pprof's top is ${name} with ${flat} samples; we answered:\n${answer}`,
    );
  });

  it('invokeTool with bad arguments answers with a clear error text, no stack', async () => {
    const text = await invoke('goPerfLens_hotLines', { file: 'work.go', count: 0 });
    assert.match(text, /^Error: "count" must be a whole number from 1 to 200 \(got 0\)/);
    assert.doesNotMatch(text, /\n\s+at /);
  });

  it('recording and tracing ask the user first, naming the process, the function and the time; read-only tools do not', () => {
    const rec = prepareInvocation(findTool('goPerfLens_recordCpu')!, { pid: 4242, seconds: 7 });
    assert.equal(rec.confirmationMessages?.title, 'Record the CPU of PID 4242?');
    assert.equal(
      rec.confirmationMessages?.message,
      'Go Perf Lens will record process 4242 with perf for 7 s at 999 Hz, through its helper (as root unless you may profile that process yourself).',
    );
    const trace = prepareInvocation(findTool('goPerfLens_traceLatency')!, { pid: 4242, function: 'main.(*Server).handle' });
    assert.equal(trace.confirmationMessages?.title, 'Trace main.(*Server).handle in PID 4242?');
    assert.equal(prepareInvocation(findTool('goPerfLens_topFunctions')!, {}).confirmationMessages, undefined);
    assert.equal(prepareInvocation(findTool('goPerfLens_listProcesses')!, {}).confirmationMessages, undefined);
  });
});
