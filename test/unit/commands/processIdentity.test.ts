import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { identityMismatch, localStartTicks, sameProcess, savedIdentity } from '../../../src/commands/processIdentity';
import type { Profile } from '../../../src/model/profile';

describe('commands/processIdentity', () => {
  it('localStartTicks reads field 22 of /proc/PID/stat, also when the name holds ") "', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-pid16-'));
    const odd = path.join(dir, 'x) y (z');
    fs.copyFileSync('/bin/sleep', odd);
    fs.chmodSync(odd, 0o755);
    const a = spawn('sleep', ['20'], { stdio: 'ignore' });
    const b = spawn(odd, ['20'], { stdio: 'ignore' });
    try {
      // The reference: cut's field 22 (right for a name without spaces).
      const ref = Number(execFileSync('cut', ['-d', ' ', '-f22', `/proc/${a.pid}/stat`], { encoding: 'utf8' }).trim());
      assert.equal(localStartTicks(a.pid!), ref);
      const tb = localStartTicks(b.pid!);
      assert.ok(tb !== undefined && tb >= ref && tb - ref < 1000, `${tb} vs ${ref}`);
    } finally {
      a.kill();
      b.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const gone = Number(String(spawnSync('sh', ['-c', 'echo $$']).stdout).trim());
    assert.equal(localStartTicks(gone), undefined);
  });

  it('sameProcess: what is known must agree (PID, host, start time, build id)', () => {
    const p = { target: { pid: 10, startTicks: 500 }, binary: { path: '/x', goBuildId: 'g1' } } as Profile;
    assert.equal(sameProcess(p, { pid: 10, startTicks: 500, buildId: 'g1' }), true);
    assert.equal(sameProcess(p, { pid: 10 }), true);
    assert.equal(sameProcess(p, { pid: 11, startTicks: 500, buildId: 'g1' }), false);
    assert.equal(sameProcess(p, { pid: 10, startTicks: 501 }), false, 'a reused PID');
    assert.equal(sameProcess(p, { pid: 10, buildId: 'g2' }), false, 'another program');
    assert.equal(sameProcess(p, { pid: 10, host: 'h' }), false);
    const file = { binary: { path: '/x', goBuildId: 'g1' } } as Profile; // a pprof file: no PID
    assert.equal(sameProcess(file, { pid: 3, buildId: 'g1' }), true);
    assert.equal(sameProcess(file, { pid: 3, buildId: 'g9' }), false);
  });

  it('savedIdentity and identityMismatch: what a loaded profile saved of its process, and why another one is not it', () => {
    const p = { target: { pid: 10, host: 'h', startTicks: 500 }, binary: { path: '/x', goBuildId: 'g1' } } as Profile;
    const saved = savedIdentity(p)!;
    assert.deepEqual(saved, { pid: 10, host: 'h', startTicks: 500, buildId: 'g1' });
    assert.equal(savedIdentity({ binary: { path: '/x' } } as Profile), undefined, 'a file with no PID');
    assert.equal(identityMismatch(saved, { pid: 10, host: 'h', startTicks: 500, buildId: 'g1' }), undefined);
    assert.equal(identityMismatch(saved, { pid: 10, host: 'h' }), undefined, 'nothing known disagrees');
    assert.equal(identityMismatch(saved, undefined), 'PID 10 on h of the loaded profile has exited');
    assert.equal(
      identityMismatch(saved, { pid: 10, startTicks: 900, buildId: 'g1' }),
      "PID 10 on h is now another process than the loaded profile's (it started at clock tick 900 after boot, the profile's at 500)",
    );
    assert.equal(
      identityMismatch(saved, { pid: 10, startTicks: 500, buildId: 'g2' }),
      "PID 10 on h now runs another program than the loaded profile's (build id g2, the profile's g1)",
    );
  });
});
