/**
 * install-helper / uninstall-helper --host, for real [root, sshd, sudo, visudo]: the "remote" host
 * is this machine reached through a private sshd on 127.0.0.1 (its own keys and authorized_keys,
 * removed afterwards; /root/.ssh is never touched). Only the CLI's own two ssh calls put the files
 * there: the test checks the root-owned helper, the sudoers drop-in visudo accepts and the group
 * membership, then that uninstall removes them all.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { INSTALLED_HELPER, SUDOERS_FILE } from '../../../src/capture/launchPlan';
import { bundle, installStepCommand, uploadBundle } from '../../../src/capture/remoteInstall';
import { startPrivateSshd, type PrivateSshd } from '../../e2e/support/privateSshd';
import { REPO_ROOT } from '../../support/goToolchains';

const GROUP = `gplremote${process.pid % 100000}`;
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

describe('install-helper --host over ssh, on a loopback "remote" host [root, sshd, sudo, visudo]', function () {
  this.timeout(180000);
  let sshd: PrivateSshd | undefined;
  let dir = '';
  let wasInstalled = false;

  const cli = (args: string[]) =>
    spawnSync(process.execPath, [CLI, ...args], {
      encoding: 'utf8',
      timeout: 120000,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH ?? ''}` },
    });

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'this test runs as root');
    assert.ok(
      !fs.existsSync(SUDOERS_FILE) || fs.readFileSync(SUDOERS_FILE, 'utf8').includes('go-perf-lens'),
      'an unrelated sudoers file is in the way',
    );
    wasInstalled = fs.existsSync(INSTALLED_HELPER);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-remote-install-'));
    sshd = await startPrivateSshd(dir, 'gpl-remote-install');
  });

  after(async () => {
    if (fs.existsSync(INSTALLED_HELPER)) spawnSync(process.execPath, [CLI, 'uninstall-helper']);
    spawnSync('groupdel', [GROUP]);
    // Leave the machine as it was found: a helper installed before is put back.
    if (wasInstalled) spawnSync(process.execPath, [CLI, 'install-helper']);
    await sshd?.stop();
  });

  it('installs through the two shown ssh commands: root-owned helper, a drop-in visudo accepts, the ssh user in the group', async () => {
    if (wasInstalled) assert.equal(cli(['uninstall-helper']).status, 0);
    const logins = sshd!.acceptedLogins();
    const r = cli(['install-helper', '--host', sshd!.alias, '--group', GROUP, '--yes']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`ssh -t ${sshd!.alias} .*sudo -p '\\[sudo\\] password for %u on ${sshd!.alias} `));
    assert.match(r.stdout, new RegExp(`installed the helper on ${sshd!.alias}`));
    // sshd's log is read by this event loop, which spawnSync held up.
    for (let i = 0; i < 50 && sshd!.acceptedLogins() - logins < 2; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(sshd!.acceptedLogins() - logins, 2, 'sshd accepted two logins: send the sources, run the installer');
    for (const p of [
      path.dirname(INSTALLED_HELPER),
      INSTALLED_HELPER,
      path.join(path.dirname(INSTALLED_HELPER), 'perflens_helper', 'serve.py'),
    ]) {
      const st = fs.statSync(p);
      assert.equal(st.uid, 0, p);
      assert.equal(st.mode & 0o022, 0, `${p} is writable by others`);
    }
    assert.equal(fs.readFileSync(INSTALLED_HELPER, 'utf8'), fs.readFileSync(path.join(REPO_ROOT, 'bpf', 'helper.py'), 'utf8'));
    assert.ok(
      fs.readFileSync(SUDOERS_FILE, 'utf8').includes(`%${GROUP} ALL=(root) NOPASSWD: /usr/bin/python3 -I ${INSTALLED_HELPER} serve\n`),
    );
    const check = spawnSync('visudo', ['-c'], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const members = spawnSync('getent', ['group', GROUP], { encoding: 'utf8' }).stdout.trim().split(':')[3] ?? '';
    assert.ok(members.split(',').includes('root'), `root is not in ${GROUP}: ${members}`);
    const leftovers = spawnSync('sh', ['-c', 'ls -d /tmp/go-perf-lens-install-* 2>/dev/null'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(leftovers, '', 'the temporary source folder was removed');
  });

  it('uninstall-helper --host removes the helper, the drop-in and the group it created', () => {
    const r = cli(['uninstall-helper', '--host', sshd!.alias, '--yes']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(!fs.existsSync(path.dirname(INSTALLED_HELPER)), 'the helper folder is gone');
    assert.ok(!fs.existsSync(SUDOERS_FILE), 'the drop-in is gone');
    assert.notEqual(spawnSync('getent', ['group', GROUP]).status, 0, `group ${GROUP} is gone`);
  });

  describe('the folder between the two ssh calls [a temporary user]', () => {
    const other = `gplswap${process.pid % 100000}`;
    let otherUid = 0;
    let otherGid = 0;
    const marker = path.join(os.tmpdir(), `gpl-remote-install-ran-${process.pid}`);
    before(() => {
      assert.ok(!fs.existsSync(INSTALLED_HELPER), 'the tests above left no helper installed');
      execFileSync('useradd', ['-M', '-U', '-s', '/bin/sh', other]);
      otherUid = Number(execFileSync('id', ['-u', other], { encoding: 'utf8' }).trim());
      otherGid = Number(execFileSync('id', ['-g', other], { encoding: 'utf8' }).trim());
    });
    after(() => {
      spawnSync('userdel', [other]);
      spawnSync('groupdel', [other]);
      fs.rmSync(marker, { force: true });
    });

    /** The second ssh call's exact command, run through the same sshd; its exit status and output. */
    const installStep = (dir: string, sha256: string) => {
      const r = spawnSync(
        'ssh',
        ['-T', '-o', 'BatchMode=yes', sshd!.alias, installStepCommand(sshd!.alias, dir, sha256, 'install', { group: GROUP })],
        {
          encoding: 'utf8',
          timeout: 120000,
        },
      );
      return { status: r.status, out: r.stdout + r.stderr };
    };
    const asOther = (cmd: string) =>
      spawnSync('/bin/sh', ['-c', cmd], { uid: otherUid, gid: otherGid, cwd: '/', encoding: 'utf8', timeout: 30000 });

    it("another local user can neither read, change nor swap what the first call left (0700 folder, 0600 bundle of the ssh user's)", async () => {
      const b = bundle();
      const dir = await uploadBundle(sshd!.alias, b);
      try {
        const file = path.join(dir, 'bundle.json');
        const [sd, sf] = [fs.lstatSync(dir), fs.lstatSync(file)];
        assert.equal(sd.uid, 0, 'the ssh user (root here) owns the folder');
        assert.equal(sd.mode & 0o7777, 0o700);
        assert.ok(sf.isFile() && sf.uid === 0 && (sf.mode & 0o7777) === 0o600, `bundle.json: ${(sf.mode & 0o7777).toString(8)}`);
        assert.ok(fs.readFileSync(file).equals(b.bytes), 'the bytes sent');
        for (const attempt of [
          `cat ${file}`,
          `echo x >> ${file}`,
          `rm -f ${file}`,
          `ln -s /tmp ${dir}/perflens_helper`,
          `mv ${dir} ${dir}.swapped`,
          `rm -rf ${dir}`,
        ]) {
          const r = asOther(attempt);
          assert.notEqual(r.status, 0, `${other} could: ${attempt}`);
          assert.match(r.stderr, /Permission denied|Operation not permitted/, attempt);
        }
        assert.ok(fs.readFileSync(file).equals(b.bytes), 'unchanged');
        assert.equal(fs.readdirSync(dir).join(','), 'bundle.json');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('the root step refuses a bundle changed after upload, a loosened folder, a linked or foreign bundle; nothing of it runs and nothing is installed', async () => {
      const b = bundle();
      // What a change would run as root, were it trusted: a marker file.
      const files = JSON.parse(b.bytes.toString('utf8')) as Record<string, string>;
      files['install_helper.py'] = `open(${JSON.stringify(marker)}, 'w').write('ran')\n`;
      const evil = Buffer.from(JSON.stringify(files));
      const cases: [string, (dir: string) => void, RegExp][] = [
        [
          'changed',
          (dir) => fs.writeFileSync(path.join(dir, 'bundle.json'), evil),
          /bundle\.json is not what was sent \(its sha256 differs\): it was changed on this host/,
        ],
        ['folder 0755', (dir) => fs.chmodSync(dir, 0o755), /is not a private \(0700\) folder of uid 0/],
        ['bundle 0644', (dir) => fs.chmodSync(path.join(dir, 'bundle.json'), 0o644), /bundle\.json is not a private regular file of uid 0/],
        [
          'bundle a symlink',
          (dir) => {
            fs.renameSync(path.join(dir, 'bundle.json'), path.join(dir, 'real.json'));
            fs.symlinkSync(path.join(dir, 'real.json'), path.join(dir, 'bundle.json'));
          },
          /cannot open .*bundle\.json: Too many levels of symbolic links/,
        ],
        [
          'bundle hard-linked',
          (dir) => fs.linkSync(path.join(dir, 'bundle.json'), path.join(dir, 'second-link')),
          /not a private regular file/,
        ],
        [
          "folder another user's",
          (dir) => {
            fs.chownSync(dir, otherUid, otherGid);
            fs.chownSync(path.join(dir, 'bundle.json'), otherUid, otherGid);
          },
          /is not a private \(0700\) folder of uid 0/,
        ],
      ];
      for (const [what, tamper, why] of cases) {
        const dir = await uploadBundle(sshd!.alias, b);
        tamper(dir);
        const r = installStep(dir, b.sha256);
        assert.equal(r.status, 1, `${what}: ${r.out}`);
        assert.match(r.out, /go-perf-lens: not installing: /, what);
        assert.match(r.out, why, what);
        assert.ok(!fs.existsSync(dir), `${what}: the folder was removed`);
      }
      assert.ok(!fs.existsSync(marker), 'the changed installer never ran');
      assert.ok(!fs.existsSync(INSTALLED_HELPER) && !fs.existsSync(SUDOERS_FILE), 'nothing was installed');
      // The same step with the folder as it was sent installs (then uninstall leaves nothing).
      const dir = await uploadBundle(sshd!.alias, b);
      const ok = installStep(dir, b.sha256);
      assert.equal(ok.status, 0, ok.out);
      assert.equal(fs.readFileSync(INSTALLED_HELPER, 'utf8'), fs.readFileSync(path.join(REPO_ROOT, 'bpf', 'helper.py'), 'utf8'));
      const leftovers = spawnSync('sh', ['-c', 'ls -d /tmp/go-perf-lens-install-* 2>/dev/null'], { encoding: 'utf8' }).stdout.trim();
      assert.equal(leftovers, '', 'both temporary folders were removed');
      assert.equal(cli(['uninstall-helper']).status, 0);
    });
  });

  it('an unreachable host ends in a message that says so, and nothing is installed', () => {
    const r = cli(['install-helper', '--host', 'nobody@127.0.0.1:1', '--yes']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /could not send the installer to nobody@127\.0\.0\.1:1/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(!fs.existsSync(INSTALLED_HELPER));
  });
});
