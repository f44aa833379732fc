/**
 * How long the extension host's thread is held while a 400,000-sample CPU profile is recorded,
 * loaded and opened: perf_hooks.monitorEventLoopDelay inside this real VS Code's extension host
 * (the thread every extension of the window shares). The figures are printed, not asserted
 * (timing on a shared machine is a measurement, not a test: STANDARDS.md); the test checks that
 * each phase really did its work on a profile of that size. They are written to
 * test-results/host-stall.txt. Needs root and perf.
 */
import * as assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import { recordCpuProfile } from '../../src/commands/recordCpuProfile';
import type { GoPerfLensApi } from '../../src/ui/extensionApi';
import { buildGoFixture, newestGo } from '../support/goToolchains';

const EXTENSION_ID = 'go-perf-lens.go-perf-lens';
const REPO = path.resolve(__dirname, '..', '..', '..');
const SAMPLES = 400_000;
const FREQ_HZ = 20_000; // the most the helper accepts
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `work` while watching the event loop; returns its result and the longest stall in ms.
 * The monitor records a stall when its timer finally runs, measured from its previous run: it
 * starts a moment before the work and watches on for a moment after it, or a stall at either
 * end would go unseen. On a loaded machine the
 * figure includes time the host's thread waited for a CPU (the idle figure shows that floor).
 */
async function watched<T>(work: () => Promise<T>): Promise<{ value: T; maxStallMs: number; p99Ms: number }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  // The monitor measures from its previous tick: the first one only starts the clock.
  await sleep(50);
  try {
    const value = await work();
    await sleep(250);
    return { value, maxStallMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 };
  } finally {
    h.disable();
  }
}

async function until(what: string, ok: () => boolean, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('extension host stalls with a 400,000-sample profile [vscode, root, perf]', function () {
  this.timeout(900_000);
  let api: GoPerfLensApi;
  let dir: string;
  let bin: string;
  let mainGo: vscode.Uri;
  const figures: string[] = [];

  before(async () => {
    const ext = vscode.extensions.getExtension<GoPerfLensApi>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not loaded`);
    api = await ext.activate();
    bin = buildGoFixture('perfload', newestGo());
    mainGo = vscode.Uri.file(path.join(REPO, 'test', 'fixtures', 'go', 'perfload', 'main.go'));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-stall-'));
  });

  after(() => {
    api?.clear();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    // Where the runner and the closing note read them (the host's console is not always shown).
    const out = path.join(REPO, 'test-results', 'host-stall.txt');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${new Date().toISOString()}\n${figures.join('\n')}\n`);
    console.log(`[host stall] ${figures.join('; ')}`);
  });

  it('idle, for comparison: the host with nothing of ours to do', async () => {
    const idle = await watched(() => sleep(3000));
    figures.push(`idle 3 s: longest stall ${idle.maxStallMs.toFixed(1)} ms (p99 ${idle.p99Ms.toFixed(1)} ms)`);
  });

  it('recording (perf streamed in and ingested) and opening the result', async () => {
    // The machine's load decides how many samples a second the target gets: record again,
    // longer, until the profile has SAMPLES (each attempt's figure is kept).
    let perSecond = FREQ_HZ;
    for (let attempt = 1; ; attempt++) {
      const seconds = Math.min(300, Math.ceil((1.2 * SAMPLES) / perSecond));
      const target = spawn(bin, ['-duration', `${seconds + 30}s`, '-workers', '4'], { stdio: 'ignore' });
      try {
        await sleep(300);
        const rec = await watched(() =>
          recordCpuProfile({ kind: 'local' }, { pid: target.pid!, durationSec: seconds, freqHz: FREQ_HZ, event: 'auto', sampler: 'perf' }),
        );
        const got = rec.value.totalSamples;
        figures.push(
          `recording ${seconds} s, ${got} samples: longest stall ${rec.maxStallMs.toFixed(1)} ms (p99 ${rec.p99Ms.toFixed(1)} ms)`,
        );
        if (got < SAMPLES) {
          assert.ok(attempt < 4, `only ${got} samples after ${attempt} recordings`);
          perSecond = Math.max(1000, got / seconds);
          continue;
        }
        const open = await watched(async () => {
          api.loadProfile(rec.value, 'stall test');
          await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(mainGo), { preview: false });
          await until('the hot-functions tree', () => api.testing!.hotFunctionRows().length > 0);
          return api.testing!.decorationsFor(mainGo) ?? [];
        });
        assert.ok(open.value.length > 0, 'no heat in perfload/main.go');
        figures.push(`opening it (editor, tree, heat): longest stall ${open.maxStallMs.toFixed(1)} ms`);
        return;
      } finally {
        target.kill('SIGKILL');
        api.clear();
      }
    }
  });

  it('loading a perf.data of that size (Open profile) and opening it', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const file = path.join(dir, 'perf.data');
    let perSecond = FREQ_HZ;
    for (let attempt = 1; ; attempt++) {
      const seconds = Math.min(300, Math.ceil((1.2 * SAMPLES) / perSecond));
      await promisify(execFile)(
        'perf',
        [
          'record',
          '-q',
          '-g',
          '--call-graph',
          'fp',
          '-F',
          String(FREQ_HZ),
          '-e',
          'cpu-clock',
          '-o',
          file,
          '--',
          bin,
          '-duration',
          `${seconds}s`,
          '-workers',
          '4',
        ],
        { timeout: 600_000 },
      );
      const load = await watched(async () => {
        api.clear();
        api.loadSessionFile(file);
        await until('the loaded profile in the tree', () => api.testing!.hotFunctionRows().length > 0);
      });
      const rows = api.testing!.hotFunctionRows();
      assert.ok(
        rows.some((r) => r.name === 'main.spin'),
        'main.spin is not among the hot functions',
      );
      const got = api.testing!.loadedSamples() ?? 0;
      figures.push(
        `loading ${fs.statSync(file).size >> 20} MB of perf.data, ${got} samples: longest stall ${load.maxStallMs.toFixed(1)} ms (p99 ${load.p99Ms.toFixed(1)} ms)`,
      );
      if (got < SAMPLES) {
        assert.ok(attempt < 4, `only ${got} samples after ${attempt} recordings`);
        perSecond = Math.max(1000, got / seconds);
        continue;
      }
      const open = await watched(async () => {
        await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(mainGo), { preview: false });
        return api.testing!.decorationsFor(mainGo) ?? [];
      });
      assert.ok(open.value.length > 0, 'no heat in perfload/main.go');
      figures.push(`opening it (editor, heat): longest stall ${open.maxStallMs.toFixed(1)} ms`);
      return;
    }
  });
});
