import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readProfileInWorker } from '../../../src/commands/ingestWorker';
import { readProfileFile } from '../../../src/commands/readProfileFile';
import { UserError } from '../../../src/util/userError';
import { buildGoFixture, newestGo } from '../../support/goToolchains';

describe('commands: Open profile reads a perf.data with its Go binary, on the ingest worker [root, perf]', function () {
  let dir: string;
  let bin: string;
  let perfData: string;
  let spinByPerf = -1;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-open-perf-'));
    bin = path.join(dir, 'hotline');
    fs.copyFileSync(buildGoFixture('hotline', newestGo()), bin);
    fs.chmodSync(bin, 0o755);
    perfData = path.join(dir, 'perf.data');
    execFileSync('perf', ['record', '-q', '-e', 'cpu-clock:u', '-F', '999', '-g', '-o', perfData, '--', bin, '1.5'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 60_000,
    });
    spinByPerf = perfScriptLeafCount('main.spin'); // while perf can still read the binary's symbols
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /**
   * perf's own count of samples whose innermost frame is `sym` (the reference). User-space
   * samples only (cpu-clock:u): for a sample taken in the kernel, perf's leaf is the kernel
   * function while the profile charges the interrupted Go frame.
   */
  function perfScriptLeafCount(sym: string): number {
    const out = execFileSync('perf', ['script', '-i', perfData, '-F', 'ip,sym', '--hide-call-graph'], {
      encoding: 'utf8',
      maxBuffer: 256 << 20,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.split('\n').filter((l) => l.trim().split(/\s+/)[1] === sym).length;
  }

  it('finds the binary where perf saw it, without asking', async () => {
    // The extension's path: on the ingest worker.
    const r = await readProfileInWorker(perfData, async () => assert.fail('asked for the binary although it is where perf recorded it'));
    assert.equal(r.label, 'perf.data');
    const spin = r.profile.functions.find((f) => f.name === 'main.spin');
    assert.ok(spin, 'main.spin is not in the profile');
    assert.equal(spin.selfSamples, spinByPerf);
    assert.ok(spin.selfSamples > 100, `only ${spin.selfSamples} samples in main.spin`);
    // The same profile as read on this thread (what crossed the thread boundary is all of it).
    const here = await readProfileFile(perfData, async () => undefined);
    assert.deepEqual(r.profile, here.profile);
  });

  it('asks for the binary when it moved, naming where perf saw it, and uses the answer', async () => {
    const moved = path.join(dir, 'hotline.moved');
    fs.renameSync(bin, moved);
    try {
      let asked: string | undefined;
      const r = await readProfileInWorker(perfData, async (recorded) => {
        asked = recorded;
        return moved;
      });
      assert.equal(asked, bin);
      assert.equal(r.profile.functions.find((f) => f.name === 'main.spin')?.selfSamples, spinByPerf);
      // Declining the question is a quiet cancel, not an error message.
      await assert.rejects(
        readProfileInWorker(perfData, async () => undefined),
        (e: unknown) => e instanceof UserError && e.code === 'cancelled',
      );
    } finally {
      fs.renameSync(moved, bin);
    }
  });
});
