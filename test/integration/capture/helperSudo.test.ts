import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findOnPath, sudoersLine } from '../../../src/capture/launchPlan';

/**
 * The non-root path for real: the client runs as `nobody` (a Node child with uid 65534) and
 * must go through sudo. Without a rule, sudo -n refuses and we expect the clear "sudo-refused"
 * error carrying the sudoers line; with exactly that line installed in /etc/sudoers.d, the same
 * client probes as root. Where sudo is not installed, the "sudo-missing" message is expected.
 */
const NOBODY = 65534;
const captureIndex = path.resolve(__dirname, '..', '..', '..', 'src', 'capture', 'index.js');

function probeAsNobody(): { ok: boolean; code?: string; message?: string; hint?: string; root?: boolean } {
  const script = `
    const c = require(${JSON.stringify(captureIndex)});
    c.probeTarget({ kind: 'local' }).then(
      (r) => process.stdout.write(JSON.stringify({ ok: true, root: r.root })),
      (e) => process.stdout.write(JSON.stringify({ ok: false, code: e.code, message: e.message, hint: e.hint })));`;
  const r = spawnSync(process.execPath, ['-e', script], {
    uid: NOBODY, gid: NOBODY, cwd: '/', env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: '/tmp', LANG: 'C' },
    encoding: 'utf8', timeout: 60000,
  });
  assert.ok(r.stdout, `no output from the nobody client: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('capture: a non-root client goes through sudo [root, sudo]', function () {
  this.timeout(90000);
  const ruleFile = `/etc/sudoers.d/go-perf-lens-test-${process.pid}`;
  const hasSudo = findOnPath('sudo') !== undefined;

  before(function () {
    assert.equal(process.getuid?.(), 0, 'this test runs as root (to switch to nobody)');
  });
  after(() => fs.rmSync(ruleFile, { force: true }));

  it('without a sudoers rule: "sudo-refused" with the exact sudoers line as the hint (or "sudo-missing")', () => {
    const r = probeAsNobody();
    assert.equal(r.ok, false);
    if (!hasSudo) {
      assert.equal(r.code, 'sudo-missing');
      assert.match(r.message!, /sudo is not installed/);
      return;
    }
    assert.equal(r.code, 'sudo-refused', r.message);
    assert.match(r.message!, /sudo on this machine needs a password/);
    assert.ok(r.hint!.includes(sudoersLine('nobody', '/usr/bin/python3')), r.hint);
  });

  it('with exactly the documented sudoers line: the same client probes as root', function () {
    if (!hasSudo) this.skip(); // sudo is not installed: the previous test checked the message for that case
    const line = sudoersLine('nobody', '/usr/bin/python3');
    fs.writeFileSync(ruleFile, `${line}\n`, { mode: 0o440 });
    execFileSync('visudo', ['-c', '-q', '-f', ruleFile]); // the line is valid sudoers syntax as documented
    try {
      const r = probeAsNobody();
      assert.equal(r.ok, true, `${r.code}: ${r.message}`);
      assert.equal(r.root, true);
    } finally {
      fs.rmSync(ruleFile, { force: true });
    }
  });
});
