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

interface Outcome { ok: boolean; code?: string; message?: string; hint?: string; root?: boolean; asked?: number }

/** Runs probeTarget in a Node child as `uid`; with `password`, askPassword answers it (and counts). */
function probeAs(uid: number, password?: string): Outcome {
  const script = `
    const c = require(${JSON.stringify(captureIndex)});
    let asked = 0;
    const pw = process.env.GPL_TEST_PASSWORD;
    const opts = pw === undefined ? {} : { askPassword: async () => { asked++; return pw === '' ? undefined : pw; } };
    c.probeTarget({ kind: 'local' }, opts).then(
      (r) => process.stdout.write(JSON.stringify({ ok: true, root: r.root, asked })),
      (e) => process.stdout.write(JSON.stringify({ ok: false, code: e.code, message: e.message, hint: e.hint, asked })));`;
  const env: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: '/tmp', LANG: 'C' };
  if (password !== undefined) env.GPL_TEST_PASSWORD = password;
  const r = spawnSync(process.execPath, ['-e', script], { uid, gid: uid, cwd: '/', env, encoding: 'utf8', timeout: 90000 });
  assert.ok(r.stdout, `no output from the client running as uid ${uid}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Outcome;
}

const probeAsNobody = (): Outcome => probeAs(NOBODY);

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

describe('capture: sudo with a password fed to sudo -S [root, sudo, a temporary user]', function () {
  this.timeout(120000);
  const user = `gplsudo${process.pid % 100000}`;
  const password = 'correct horse battery staple';
  const ruleFile = `/etc/sudoers.d/go-perf-lens-test-pw-${process.pid}`;
  let uid = -1;

  before(function () {
    assert.equal(process.getuid?.(), 0, 'this test runs as root (to add a user)');
    assert.ok(findOnPath('sudo'), 'sudo is installed by scripts/setup.sh');
    execFileSync('useradd', ['-M', '-U', '-s', '/usr/sbin/nologin', user]);
    uid = Number(execFileSync('id', ['-u', user]).toString().trim());
    execFileSync('chpasswd', [], { input: `${user}:${password}\n` });
    // The documented line without NOPASSWD: sudo asks this user for a password.
    fs.writeFileSync(ruleFile, `${sudoersLine(user, '/usr/bin/python3').replace('NOPASSWD: ', '')}\n`, { mode: 0o440 });
    execFileSync('visudo', ['-c', '-q', '-f', ruleFile]);
  });
  after(() => {
    fs.rmSync(ruleFile, { force: true });
    if (uid >= 0) spawnSync('userdel', [user]);
  });

  it('the right password, asked once, starts the helper as root', () => {
    const r = probeAs(uid, password);
    assert.equal(r.ok, true, `${r.code}: ${r.message}`);
    assert.equal(r.root, true);
    assert.equal(r.asked, 1);
  });

  it('a wrong password: "sudo-wrong-password" after asking again, never a hang', () => {
    const r = probeAs(uid, 'not the password');
    assert.equal(r.ok, false);
    assert.equal(r.code, 'sudo-wrong-password', r.message);
    assert.ok((r.asked ?? 0) >= 1);
  });

  it('declining the prompt: "sudo-refused" with the sudoers hint', () => {
    const r = probeAs(uid, '');
    assert.equal(r.code, 'sudo-refused', r.message);
    assert.ok((r.hint ?? '').includes('NOPASSWD'));
  });
});
