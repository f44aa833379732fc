import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { INSTALLED_ARGV } from '../../../src/capture/launchPlan';
import { REPO_ROOT } from '../../support/goToolchains';

/**
 * sudo with a password, for real: a temporary user whose sudoers rule allows the installed helper
 * only with a password. The client (a Node child running as that user) gets the password from its
 * askPassword, which must name the machine, and writes it only once sudo has asked.
 */
const captureIndex = path.resolve(__dirname, '..', '..', '..', 'src', 'capture', 'index.js');

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  hint?: string;
  root?: boolean;
  asked?: number;
  where?: string[];
}

/** Runs probeTarget through sudo in a Node child as `uid`; askPassword answers `password` (and counts). */
function probeAs(uid: number, password: string): Outcome {
  const script = `
    const c = require(${JSON.stringify(captureIndex)});
    let asked = 0; const where = [];
    const pw = process.env.GPL_TEST_PASSWORD;
    const opts = { askPassword: async (w) => { asked++; where.push(w); return pw === '' ? undefined : pw; } };
    c.probeTarget({ kind: 'local', elevation: 'sudo' }, opts).then(
      (r) => process.stdout.write(JSON.stringify({ ok: true, root: r.root, asked, where })),
      (e) => process.stdout.write(JSON.stringify({ ok: false, code: e.code, message: e.message, hint: e.hint, asked, where })));`;
  const env: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin', HOME: '/tmp', LANG: 'C', GPL_TEST_PASSWORD: password };
  const r = spawnSync(process.execPath, ['-e', script], { uid, gid: uid, cwd: '/', env, encoding: 'utf8', timeout: 90000 });
  assert.ok(r.stdout, `no output from the client running as uid ${uid}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Outcome;
}

describe('capture: sudo with a password fed to sudo -S [root, sudo, a temporary user]', function () {
  this.timeout(120000);
  const user = `gplsudo${process.pid % 100000}`;
  const password = 'correct horse battery staple';
  const ruleFile = `/etc/sudoers.d/go-perf-lens-test-pw-${process.pid}`;
  let uid = -1;

  before(function () {
    assert.equal(process.getuid?.(), 0, 'this test runs as root (to add a user)');
    assert.ok(fs.existsSync('/usr/bin/sudo'), 'sudo is installed by scripts/setup.sh');
    execFileSync('node', [path.join(REPO_ROOT, 'dist', 'cli.js'), 'install-helper', '--group', `gplpw${process.pid % 100000}`], {
      stdio: 'pipe',
    });
    execFileSync('useradd', ['-M', '-U', '-s', '/usr/sbin/nologin', user]);
    uid = Number(execFileSync('id', ['-u', user]).toString().trim());
    execFileSync('chpasswd', [], { input: `${user}:${password}\n` });
    // The installed helper's command, with a password: sudo asks this user for one.
    fs.writeFileSync(ruleFile, `${user} ALL=(root) ${INSTALLED_ARGV.join(' ')}\n`, { mode: 0o440 });
    execFileSync('visudo', ['-c', '-q', '-f', ruleFile]);
  });
  after(() => {
    fs.rmSync(ruleFile, { force: true });
    spawnSync('node', [path.join(REPO_ROOT, 'dist', 'cli.js'), 'uninstall-helper']);
    if (uid >= 0) spawnSync('userdel', [user]);
  });

  it('the right password, asked once with a prompt naming user@host, starts the installed helper as root', () => {
    const r = probeAs(uid, password);
    assert.equal(r.ok, true, `${r.code}: ${r.message}`);
    assert.equal(r.root, true);
    assert.equal(r.asked, 1);
    assert.deepEqual(r.where, [`${user}@${os.hostname()} (this machine)`]);
  });

  it('a wrong password: "sudo-wrong-password" after asking again, never a hang', () => {
    const r = probeAs(uid, 'not the password');
    assert.equal(r.ok, false);
    assert.equal(r.code, 'sudo-wrong-password', r.message);
    assert.ok((r.asked ?? 0) >= 1);
  });

  it('declining the prompt: "sudo-refused" with the install hint', () => {
    const r = probeAs(uid, '');
    assert.equal(r.code, 'sudo-refused', r.message);
    assert.match(r.hint ?? '', /install-helper/);
  });
});
