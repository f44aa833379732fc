/**
 * The security model, for real [root, sudo, useradd, perf, bcc]: the helper installed with
 * `go-perf-lens install-helper` (root-owned, its sudoers drop-in checked by visudo), and two real
 * unprivileged accounts created here: a member of the helper's group and a user outside it. Each
 * acts through the real client code (bundled, run with runuser), or through sudo directly.
 */
import { strict as assert } from 'node:assert';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { INSTALLED_ARGV, INSTALLED_HELPER, LOADER, SUDOERS_FILE, runHelper } from '../../../src/capture';
import { loadHelperPayload } from '../../../src/capture/helperFiles';
import { buildGoFixture, newestGo, REPO_ROOT } from '../../support/goToolchains';
import type { ClientReply } from './captureSupport';

const tag = String(process.pid % 100000);
const GROUP = `gplsec${tag}`;
const MEMBER = `gplmem${tag}`;
const OUTSIDER = `gplout${tag}`;

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}
function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}

/** Runs `argv` as `user` with their groups (runuser initialises them, as a login does). */
function asUser(
  user: string,
  argv: string[],
  opts: { cwd?: string; env?: Record<string, string>; input?: string } = {},
): { status: number | null; stdout: string; stderr: string } {
  const env = { PATH: '/usr/bin:/bin', HOME: '/', ...(opts.env ?? {}) };
  const r = spawnSync(
    '/usr/sbin/runuser',
    ['-u', user, '--', '/usr/bin/env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv],
    {
      cwd: opts.cwd ?? '/',
      input: opts.input ?? '',
      encoding: 'utf8',
      timeout: 120000,
      env: {},
    },
  );
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

describe('security: the installed helper, its sudoers rule and real unprivileged users [root, sudo, useradd, perf, bcc]', function () {
  this.timeout(240000);
  let dir: string;
  let client: string;
  let bin: string;
  const procs: ChildProcess[] = [];
  const users: string[] = [];

  function startAs(user: string): Promise<number> {
    const p = spawn(bin, ['-exit-after-ms', '200000'], {
      uid: uidOf(user),
      gid: gidOf(user),
      stdio: ['ignore', 'pipe', 'ignore'],
      cwd: '/',
    });
    procs.push(p);
    return new Promise((resolve, reject) => {
      p.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve(p.pid!);
      });
      p.once('exit', (c) => reject(new Error(`spin exited (${c})`)));
    });
  }

  function clientAs(user: string, req: unknown, opts: { cwd?: string; env?: Record<string, string> } = {}): ClientReply {
    const r = asUser(user, ['/usr/bin/node', client, JSON.stringify(req)], opts);
    const line = r.stdout.trim().split('\n').pop() ?? '';
    assert.ok(line.startsWith('{'), `the client printed no reply (exit ${r.status}): ${r.stdout} ${r.stderr}`);
    return JSON.parse(line) as ClientReply;
  }

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'these tests run as root');
    assert.ok(
      !fs.existsSync(SUDOERS_FILE) || fs.readFileSync(SUDOERS_FILE, 'utf8').includes('go-perf-lens'),
      'an unrelated sudoers file is in the way',
    );
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-security-'));
    fs.chmodSync(dir, 0o755);
    // The client and the bundled helper files where the test users can read them.
    client = path.join(dir, 'client.js');
    await esbuild.build({
      entryPoints: [path.join(REPO_ROOT, 'test', 'support', 'helperClientMain.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      outfile: client,
      logLevel: 'error',
    });
    fs.cpSync(path.join(REPO_ROOT, 'bpf'), path.join(dir, 'bpf'), { recursive: true, filter: (s) => !s.includes('__pycache__') });
    bin = path.join(dir, 'spin');
    fs.copyFileSync(buildGoFixture('spin', newestGo()), bin);
    fs.chmodSync(bin, 0o755);
    for (const u of [MEMBER, OUTSIDER]) {
      execFileSync('useradd', ['-M', '-U', '-s', '/bin/sh', u]);
      users.push(u);
    }
    execFileSync('node', [path.join(REPO_ROOT, 'dist', 'cli.js'), 'install-helper', '--group', GROUP], { stdio: 'pipe' });
    execFileSync('usermod', ['-aG', GROUP, MEMBER]);
  });

  after(() => {
    for (const p of procs) p.kill('SIGKILL');
    spawnSync('node', [path.join(REPO_ROOT, 'dist', 'cli.js'), 'uninstall-helper']);
    for (const u of users) spawnSync('userdel', [u]);
    spawnSync('groupdel', [GROUP]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('install-helper: root-owned files nobody else may write, and a drop-in visudo accepts naming exactly the helper', () => {
    for (const p of [
      path.dirname(INSTALLED_HELPER),
      INSTALLED_HELPER,
      path.join(path.dirname(INSTALLED_HELPER), 'perflens_helper', 'serve.py'),
    ]) {
      const st = fs.statSync(p);
      assert.equal(st.uid, 0, p);
      assert.equal(st.mode & 0o022, 0, `${p} is writable by others`);
    }
    const rule = fs.readFileSync(SUDOERS_FILE, 'utf8');
    assert.ok(rule.includes(`%${GROUP} ALL=(root) NOPASSWD: ${INSTALLED_ARGV.join(' ')}\n`), rule);
    assert.equal(fs.statSync(SUDOERS_FILE).mode & 0o777, 0o440);
    execFileSync('visudo', ['-c', '-q', '-f', SUDOERS_FILE]);
  });

  it('(a) a member of the group traces their own Go process with eBPF through the installed helper, with no password', async () => {
    const pid = await startAs(MEMBER);
    const r = clientAs(MEMBER, { target: { kind: 'local', elevation: 'sudo' }, subcommand: 'syscalls', args: { pid, duration: 1 } });
    assert.ok(r.ok, JSON.stringify(r.error));
    assert.deepEqual(r.hello!.caller, { uid: uidOf(MEMBER), user: MEMBER, via: 'sudo', admin: false });
    assert.equal(r.result!.pid, pid);
  });

  it('(a) the same member records their own process with perf as themselves (perf_event_paranoid ≤ 2): no helper, no sudo', async function () {
    const paranoid = Number(fs.readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8'));
    assert.ok(paranoid <= 2, `this machine has perf_event_paranoid ${paranoid}: the unprivileged path cannot be tested here`);
    const pid = await startAs(MEMBER);
    const r = clientAs(MEMBER, { target: { kind: 'local' }, subcommand: 'record', args: { pid, duration: 1, freq: 499, event: 'auto' } });
    assert.ok(r.ok, JSON.stringify(r.error));
    assert.equal(r.hello!.caller!.via, 'user');
    assert.deepEqual(r.files, ['perf.data']);
  });

  it("(b) the member is refused on another user's process, saying why; the listing shows only their own", async () => {
    const mine = await startAs(MEMBER);
    const theirs = await startAs(OUTSIDER);
    for (const sub of ['syscalls', 'record', 'binary']) {
      const r = clientAs(MEMBER, {
        target: { kind: 'local', elevation: 'sudo' },
        subcommand: sub,
        args: sub === 'binary' ? { pid: theirs } : { pid: theirs, duration: 1 },
      });
      assert.equal(r.ok, false, sub);
      assert.equal(r.error!.code, 'not-permitted', JSON.stringify(r.error));
      assert.match(r.error!.message, new RegExp(`you \\(${MEMBER}\\) may not profile PID ${theirs}: it belongs to ${OUTSIDER}`));
    }
    const list = clientAs(MEMBER, { target: { kind: 'local', elevation: 'sudo' }, subcommand: 'processes', args: {} });
    assert.ok(list.ok, JSON.stringify(list.error));
    const pids = (list.result!.processes as Array<{ pid: number }>).map((p) => p.pid);
    assert.ok(pids.includes(mine), `own process listed: ${pids.join(' ')}`);
    assert.ok(!pids.includes(theirs), "another user's process is not listed");
  });

  it('(c) json.py / subprocess.py in the working directory and PYTHONPATH, PYTHONSTARTUP, PYTHONHOME change nothing', async () => {
    const pid = await startAs(MEMBER);
    const trap = path.join(dir, 'trap');
    fs.mkdirSync(trap, { mode: 0o777 });
    fs.chmodSync(trap, 0o777);
    const marker = path.join(trap, 'ran-as');
    const payload = `import os\nopen(${JSON.stringify(marker)}, 'a').write(str(os.getuid()) + '\\n')\n`;
    for (const f of ['json.py', 'subprocess.py', 'startup.py', 'site.py']) fs.writeFileSync(path.join(trap, f), payload, { mode: 0o644 });
    const env = { PYTHONPATH: trap, PYTHONSTARTUP: path.join(trap, 'startup.py'), PYTHONHOME: trap, PYTHONINSPECT: '1' };
    // Control: the same trap does run in a Python started the old way (-c, from that folder).
    const control = asUser(MEMBER, ['/usr/bin/python3', '-c', 'import json'], { cwd: trap, env: { PYTHONPATH: trap } });
    assert.equal(control.status, 0, control.stderr);
    assert.ok(fs.existsSync(marker), 'the control did not import json.py from the working directory');
    fs.rmSync(marker);
    // Through the client, from that folder with that environment.
    const r = clientAs(
      MEMBER,
      { target: { kind: 'local', elevation: 'sudo' }, subcommand: 'syscalls', args: { pid, duration: 1 } },
      { cwd: trap, env },
    );
    assert.ok(r.ok, JSON.stringify(r.error));
    // And through sudo by hand, bypassing the client.
    const byHand = asUser(MEMBER, ['/usr/bin/sudo', '-n', '--', ...INSTALLED_ARGV], {
      cwd: trap,
      env,
      input: '{"v":1,"client":"0.0.0","subcommand":"probe","args":{}}\n',
    });
    assert.match(byHand.stdout, /"code":"version-mismatch"/);
    assert.ok(
      !fs.existsSync(marker),
      `a file from the working directory or the environment ran: ${fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : ''}`,
    );
  });

  it('(d) the installed helper refuses program text on stdin, and sudo refuses any other Python command', async () => {
    const marker = path.join(dir, 'program-ran');
    const payload = await loadHelperPayload(path.join(dir, 'bpf'));
    const envelope = {
      v: 1,
      subcommand: 'probe',
      args: {},
      files: payload.files,
      modules: payload.modules,
      program: `open(${JSON.stringify(marker)}, 'w').write('root')\n`,
    };
    const r = asUser(MEMBER, ['/usr/bin/sudo', '-n', '--', ...INSTALLED_ARGV], { input: `${LOADER}\n${JSON.stringify(envelope)}\n` });
    assert.match(r.stdout, /"code":"bad-request","message":"the installed helper takes one JSON request line, never a program/);
    const extra = asUser(MEMBER, ['/usr/bin/sudo', '-n', '--', ...INSTALLED_ARGV], {
      input: `${JSON.stringify({ v: 1, client: '0.2.0', subcommand: 'probe', args: {}, program: 'x' })}\n`,
    });
    assert.match(extra.stdout, /"code":"bad-request"/);
    const other = asUser(MEMBER, ['/usr/bin/sudo', '-n', '--', '/usr/bin/python3', '-I', '-c', `open(${JSON.stringify(marker)}, 'w')`]);
    assert.notEqual(other.status, 0);
    assert.match(other.stderr, /password is required|not allowed/);
    assert.ok(!fs.existsSync(marker), 'received code ran as root');
  });

  it('(e) a user outside the group is refused by sudo, with the install hint', async () => {
    const pid = await startAs(OUTSIDER);
    const r = clientAs(OUTSIDER, { target: { kind: 'local', elevation: 'sudo' }, subcommand: 'syscalls', args: { pid, duration: 1 } });
    assert.equal(r.ok, false);
    assert.equal(r.error!.code, 'sudo-refused', JSON.stringify(r.error));
    assert.match(r.error!.hint ?? '', /go-perf-lens install-helper|usermod -aG go-perf-lens/);
    const byHand = asUser(OUTSIDER, ['/usr/bin/sudo', '-n', '--', ...INSTALLED_ARGV]);
    assert.notEqual(byHand.status, 0);
    assert.match(byHand.stderr, /password is required/);
  });

  it('the ephemeral mode as root: -I and cwd / keep json.py and PYTHONPATH out (and the same trap works without them)', async () => {
    const trap = fs.mkdtempSync(path.join(dir, 'root-trap-'));
    const marker = path.join(trap, 'ran');
    fs.writeFileSync(path.join(trap, 'json.py'), `open(${JSON.stringify(marker)}, 'w').write('x')\nfrom importlib import import_module\n`);
    const control = spawnSync('/usr/bin/python3', ['-c', 'import json'], { cwd: trap, env: { PYTHONPATH: trap } });
    assert.equal(control.status, 0);
    assert.ok(fs.existsSync(marker), 'control: json.py from the folder was imported');
    fs.rmSync(marker);
    const cwd = process.cwd();
    const saved = { PYTHONPATH: process.env.PYTHONPATH, PYTHONSTARTUP: process.env.PYTHONSTARTUP };
    process.chdir(trap);
    process.env.PYTHONPATH = trap;
    process.env.PYTHONSTARTUP = path.join(trap, 'json.py');
    try {
      const run = await runHelper({ kind: 'local' }, 'probe', {});
      assert.equal(run.hello.root, true);
      assert.equal(run.hello.caller?.via, 'root');
    } finally {
      process.chdir(cwd);
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    assert.ok(!fs.existsSync(marker), 'the root helper imported json.py from the working directory');
  });
});
