import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { removeStaleCaptureDirs } from '../../../src/capture/staleTempDirs';

describe('capture/staleTempDirs', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-stale16-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A pid that certainly belongs to no process: one that has exited (and was reaped). */
  function deadPid(): number {
    const r = spawnSync('sh', ['-c', 'echo $$']);
    return Number(String(r.stdout).trim());
  }

  it('removes the folders of exited clients, keeps live ones, recent unnamed ones and other files', async () => {
    const live = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const dead = path.join(dir, `go-perf-lens-capture-${deadPid()}-abc123`);
      const mine = path.join(dir, `go-perf-lens-capture-${process.pid}-abc123`);
      const running = path.join(dir, `go-perf-lens-capture-${live.pid}-abc123`);
      const unnamedOld = path.join(dir, 'go-perf-lens-capture-Xy12Zq');
      const unnamedNew = path.join(dir, 'go-perf-lens-capture-Ab34Cd');
      const other = path.join(dir, 'go-perf-lens-capture-file');
      for (const d of [dead, mine, running, unnamedOld, unnamedNew]) fs.mkdirSync(d);
      fs.writeFileSync(path.join(dead, 'perf.data'), 'x'.repeat(1000));
      fs.writeFileSync(other, '');
      const old = new Date(Date.now() - 3 * 24 * 3600 * 1000);
      fs.utimesSync(unnamedOld, old, old);
      const removed = await removeStaleCaptureDirs(dir);
      assert.deepEqual(removed.sort(), [dead, unnamedOld].sort());
      assert.deepEqual(fs.readdirSync(dir).sort(), [mine, running, unnamedNew, other].map((p) => path.basename(p)).sort());
    } finally {
      live.kill();
    }
  });

  it("never removes another user's folder [root]", async () => {
    if (process.getuid?.() !== 0) throw new Error('this test needs root (to give a folder to another user)');
    const theirs = path.join(dir, `go-perf-lens-capture-${deadPid()}-zzz`);
    fs.mkdirSync(theirs);
    fs.chownSync(theirs, 65534, 65534);
    assert.deepEqual(await removeStaleCaptureDirs(dir), []);
    assert.ok(fs.existsSync(theirs));
  });
});
