import * as assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { INSTALLED_ARGV, SshTarget, listGoProcesses, probeTarget, recordPerf, rememberPassword, runHelper } from '../../../src/capture';
import { traceFunctions } from '../../../src/commands/goTracing';
import { currentIdentity, identityMismatch } from '../../../src/commands/processIdentity';
import { REPO_ROOT } from '../../support/goToolchains';
import { parsePerfData } from '../../../src/formats/perfDataParser';
import { UserError } from '../../../src/util/userError';
import { buildGoFixture, newestGo } from '../../support/goToolchains';
import { cpuTicks } from '../../../src/commands/processList';
import { type Tracee, startTracee, startTraceeAtPid } from '../ebpf/goProcess';
import {
  Spinner,
  eventually,
  isAlive,
  killSpin,
  machineHasCycles,
  perfProcessesFor,
  perfScriptSampleCount,
  startSpin,
} from './captureSupport';
import { freePort } from '../../support/ports';

async function waitForPort(port: number, limitMs = 15000): Promise<void> {
  const end = Date.now() + limitMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`sshd did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('capture: helper over ssh to a private sshd on 127.0.0.1 [root, sshd, perf]', function () {
  this.timeout(120000);
  let dir: string;
  let sshd: ChildProcess | undefined;
  let port: number;
  let spin: Spinner;
  let target: SshTarget;
  let sshdLog = '';
  const dirs: string[] = [];

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'these tests run as root');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-sshd-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'client_key')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'other_key')]);
    // Key-only auth with our own authorized_keys file: /root/.ssh is never touched.
    fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
    // sshd reads authorized_keys as the user logging in (a non-root one below): keys stay 0600.
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(path.join(dir, 'authorized_keys'), 0o644);
    port = await freePort();
    fs.writeFileSync(
      path.join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${path.join(dir, 'host_key')}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        'StrictModes no',
        'LogLevel ERROR',
      ].join('\n') + '\n',
    );
    fs.mkdirSync('/run/sshd', { recursive: true });
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    sshd.stderr!.on('data', (d: Buffer) => {
      sshdLog += d.toString();
    });
    await waitForPort(port);
    target = {
      kind: 'ssh',
      host: '127.0.0.1',
      port,
      user: 'root',
      identityFile: path.join(dir, 'client_key'),
      extraArgs: ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-F', '/dev/null'],
    };
    spin = await startSpin(newestGo());
  });

  after(() => {
    killSpin(spin);
    sshd?.kill('SIGTERM');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('probe runs over ssh as root there', async () => {
    const p = await probeTarget(target);
    assert.equal(p.root, true, sshdLog);
    assert.equal(p.python, '/usr/bin/python3');
    assert.equal(p.events['cpu-clock'], 'supported');
    assert.equal(p.events['cycles:u'], machineHasCycles() ? 'supported' : 'unsupported');
  });

  it('processes and record over ssh: the perf.data comes back whole', async () => {
    const ps = await listGoProcesses(target);
    assert.ok(ps.some((p) => p.pid === spin.pid && p.exe === spin.bin));
    const r = await recordPerf(target, { pid: spin.pid, durationSec: 1 });
    dirs.push(r.tempDir);
    assert.equal(r.event, machineHasCycles() ? 'cycles:u' : 'cpu-clock');
    const n = perfScriptSampleCount(r.perfDataPath);
    assert.ok(n > 0);
    assert.equal(r.result.samples, n);
  });

  it("processes over ssh with cpuSampleMs: each one's CPU % measured on the host (busy spinner vs. idle tracee, within what /proc shows)", async () => {
    const idle = await startTracee(buildGoFixture('tracee', newestGo()), ['spawn']); // waits for SIGUSR1: idle
    try {
      const t0 = performance.now();
      const busyBefore = (await cpuTicks(spin.pid))!;
      const ps = await listGoProcesses(target, { cpuSampleMs: 500 });
      const busyTicks = (await cpuTicks(spin.pid))! - busyBefore;
      const seconds = (performance.now() - t0) / 1000;
      const busy = ps.find((p) => p.pid === spin.pid);
      const still = ps.find((p) => p.pid === idle.pid);
      assert.ok(busy?.cpuPercent !== undefined && still?.cpuPercent !== undefined, JSON.stringify(ps));
      // Idle: at most a stray clock tick of the runtime's sysmon (a tick is 10 ms: 2% of 0.5 s).
      assert.ok(still.cpuPercent <= 2, `a Go process blocked on a signal: ${still.cpuPercent}%`);
      assert.ok(busy.cpuPercent > still.cpuPercent + 1, `the spinner: ${busy.cpuPercent}%, the idle tracee: ${still.cpuPercent}%`);
      // The helper's window (≥ 500 ms) lies inside ours: it cannot have seen more clock ticks
      // (100 per CPU-second) than we did (+1 for a tick at either edge).
      const helperTicks = (busy.cpuPercent / 100) * 100 * 0.5;
      assert.ok(helperTicks <= busyTicks + 1, `${busy.cpuPercent}% over ≥ 0.5 s vs ${busyTicks} ticks in our ${seconds.toFixed(2)} s`);
      assert.ok(busy.cpuPercent <= 100 * os.cpus().length + 5, `${busy.cpuPercent}%`);
      // Without cpuSampleMs nothing is measured.
      assert.ok((await listGoProcesses(target)).every((p) => p.cpuPercent === undefined));
    } finally {
      idle.proc.kill('SIGKILL');
      await idle.exited;
    }
  });

  it('record with stream over ssh: perf.data arrives during the recording, whole', async () => {
    const chunks: Buffer[] = [];
    let beforeOneSecond = -1;
    const r = await recordPerf(
      target,
      { pid: spin.pid, durationSec: 2, stream: true },
      {
        onProgress: (m) => {
          if (m.message === 'recording' && (m.elapsedSec ?? 0) >= 1 && beforeOneSecond < 0) beforeOneSecond = chunks.length;
        },
        onData: (b) => chunks.push(b),
      },
    );
    dirs.push(r.tempDir);
    assert.equal(r.result.streamed, true);
    // What had come by the helper's progress message at 1 s already holds samples.
    assert.ok(beforeOneSecond > 0, `${beforeOneSecond} chunks before 1 s`);
    assert.ok(parsePerfData(Buffer.concat(chunks.slice(0, beforeOneSecond))).samples.count > 0, 'samples during the recording');
    const all = Buffer.concat(chunks);
    assert.ok(all.equals(fs.readFileSync(r.perfDataPath)));
    const n = execFileSync('perf', ['script', '-G', '-i', r.perfDataPath, '-F', 'pid'], {
      maxBuffer: 256 << 20,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .split('\n')
      .filter((l) => l.trim()).length;
    assert.ok(n > 0);
    assert.equal(parsePerfData(all).samples.count, n);
  });

  it('a helper error over ssh keeps its code (event-unsupported or bad-argument)', async () => {
    await assert.rejects(
      recordPerf(target, { pid: spin.pid, durationSec: 0 }),
      (e: unknown) => e instanceof UserError && e.code === 'bad-argument' && /--duration/.test(e.message),
    );
  });

  it('cancel over ssh: the remote helper stops perf and cleans up', async () => {
    const ac = new AbortController();
    let perfPid: number | undefined;
    const p = recordPerf(
      target,
      { pid: spin.pid, durationSec: 30 },
      {
        signal: ac.signal,
        onProgress: (m) => {
          if (typeof m.perfPid === 'number') {
            perfPid = m.perfPid;
            ac.abort();
          }
        },
      },
    );
    await assert.rejects(p, (e: unknown) => e instanceof UserError && e.code === 'cancelled');
    assert.ok(perfPid);
    // The remote side is this machine: perf must be gone and the target alive.
    assert.ok(await eventually(() => !isAlive(perfPid!) && perfProcessesFor(spin.pid).length === 0), 'perf stopped');
    assert.ok(isAlive(spin.pid));
  });

  describe("a loaded profile's PID on the ssh host: checked by its start time and build id before attaching", () => {
    const tracees: Tracee[] = [];
    let cacheDir = '';
    before(() => {
      cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-ssh-identity-'));
      dirs.push(cacheDir);
    });
    after(async () => {
      for (const t of tracees) t.proc.kill('SIGKILL');
      await Promise.all(tracees.map((t) => t.exited));
    });
    const go = (): string => buildGoFixture('tracee', newestGo());
    const started = async (pid?: number): Promise<Tracee> => {
      const t = pid === undefined ? await startTracee(go(), ['spawn']) : await startTraceeAtPid(pid, go(), ['spawn']);
      tracees.push(t);
      return t;
    };
    const stop = async (t: Tracee): Promise<void> => {
      t.proc.kill('SIGKILL');
      await t.exited;
    };

    it('the helper reads the start time and the build id there; the same process passes, a restarted one with the same PID is refused (also by the helper itself), an exited one is named', async () => {
      const first = await started();
      // The references: field 22 of /proc/PID/stat (cut) and the build id `go tool buildid` prints.
      const ticks = (pid: number): number =>
        Number(execFileSync('cut', ['-d', ' ', '-f22', `/proc/${pid}/stat`], { encoding: 'utf8' }).trim());
      const buildId = execFileSync(newestGo().goBin, ['tool', 'buildid', go()], { encoding: 'utf8' }).trim();
      const id = await currentIdentity(target, first.pid);
      assert.deepEqual(id, { pid: first.pid, host: '127.0.0.1', startTicks: ticks(first.pid), buildId });
      const saved = { pid: first.pid, host: '127.0.0.1', startTicks: ticks(first.pid), buildId };
      assert.equal(identityMismatch(saved, id), undefined);
      // A profile of another program under that PID (e.g. rebuilt, exec'd): the build id differs.
      assert.match(
        identityMismatch({ ...saved, buildId: 'another/build/id/x' }, id) ?? '',
        new RegExp(
          `^PID ${first.pid} on 127\\.0\\.0\\.1 now runs another program than the loaded profile's \\(build id ${buildId}, the profile's another/build/id/x\\)$`,
        ),
      );

      // The fixture restarted: a new process that got the very same PID (a later start time).
      await stop(first);
      const second = await started(first.pid);
      assert.equal(second.pid, saved.pid);
      assert.notEqual(ticks(second.pid), saved.startTicks);
      const now = await currentIdentity(target, saved.pid);
      assert.equal(now?.startTicks, ticks(second.pid));
      assert.match(
        identityMismatch(saved, now) ?? '',
        new RegExp(
          `^PID ${saved.pid} on 127\\.0\\.0\\.1 is now another process than the loaded profile's \\(it started at clock tick ${ticks(second.pid)} after boot, the profile's at ${saved.startTicks}\\)$`,
        ),
      );
      // The tracer refuses it before anything is attached...
      const expect = { startTicks: saved.startTicks, buildId };
      await assert.rejects(
        traceFunctions({ target, pid: saved.pid, durationSec: 1, functions: ['main.main'], expect, binaryCacheDir: cacheDir }),
        (e: unknown) => e instanceof UserError && e.code === 'pid-reused' && /is now another process/.test(e.message),
      );
      // ...and so does the helper on the host, given the start time the client expects.
      await assert.rejects(
        runHelper(target, 'binary', { pid: saved.pid, infoOnly: true, startTicks: saved.startTicks }),
        (e: unknown) =>
          e instanceof UserError && e.code === 'pid-reused' && e.message.includes(`started at clock tick ${ticks(second.pid)} after boot`),
      );
      assert.ok(isAlive(second.pid), 'the process now holding the PID is unharmed');

      await stop(second);
      assert.equal(await currentIdentity(target, saved.pid), undefined);
      assert.equal(identityMismatch(saved, undefined), `PID ${saved.pid} on 127.0.0.1 of the loaded profile has exited`);
    });
  });

  describe('as a non-root user there, through sudo on the host [a temporary user]', () => {
    const user = `gplssh${process.pid % 100000}`;
    const password = 'ssh side sudo password';
    const ruleFile = `/etc/sudoers.d/go-perf-lens-test-ssh-${process.pid}`;
    let added = false;
    before(() => {
      execFileSync('useradd', ['-M', '-U', '-s', '/bin/sh', user]);
      added = true;
      execFileSync('chpasswd', [], { input: `${user}:${password}\n` });
      // The host has the installed helper; its command is allowed to this user with a password.
      execFileSync('node', [path.join(REPO_ROOT, 'dist', 'cli.js'), 'install-helper', '--group', `gplssh${process.pid % 100000}g`], {
        stdio: 'pipe',
      });
      fs.writeFileSync(ruleFile, `${user} ALL=(root) ${INSTALLED_ARGV.join(' ')}\n`, { mode: 0o440 });
      execFileSync('visudo', ['-c', '-q', '-f', ruleFile]);
    });
    after(() => {
      fs.rmSync(ruleFile, { force: true });
      spawnSync('node', [path.join(REPO_ROOT, 'dist', 'cli.js'), 'uninstall-helper']);
      if (added) spawnSync('userdel', [user]);
    });

    it('sudo -n there refuses: "sudo-refused" with the install hint', async () => {
      await assert.rejects(
        probeTarget({ ...target, user }),
        (e: unknown) =>
          e instanceof UserError && e.code === 'sudo-refused' && /needs a password/.test(e.message) && /install-helper/.test(e.hint ?? ''),
      );
    });

    it('(g) a host that claims to need a password gets none without a prompt naming it; a password of another host is never sent', async () => {
      const asked: string[] = [];
      const cache = rememberPassword(async (where) => {
        asked.push(where);
        return where.includes('this machine') ? 'the local password' : undefined;
      });
      assert.equal(await cache('me@here (this machine)'), 'the local password');
      await assert.rejects(
        probeTarget({ ...target, user }, { askPassword: cache }),
        (e: unknown) => e instanceof UserError && e.code === 'sudo-refused',
      );
      assert.deepEqual(asked, ['me@here (this machine)', `${user}@127.0.0.1:${port}`]);
    });

    it('the password, asked once naming the host, goes to sudo -S there once sudo asks, and the installed helper runs as root', async () => {
      const asked: string[] = [];
      const p = await probeTarget(
        { ...target, user },
        {
          askPassword: async (where) => {
            asked.push(where);
            return password;
          },
        },
      );
      assert.equal(p.root, true);
      assert.deepEqual(asked, [`${user}@127.0.0.1:${port}`]);
    });
  });

  it('an unreachable host fails quickly with "ssh-unreachable"', async () => {
    const closed = await freePort();
    await assert.rejects(
      probeTarget({ ...target, port: closed }),
      (e: unknown) =>
        e instanceof UserError &&
        e.code === 'ssh-unreachable' &&
        /cannot reach root@127\.0\.0\.1:\d+ over ssh/.test(e.message) &&
        /Connection refused/.test(e.message),
    );
  });

  it('a key the host does not accept gives "ssh-auth" with a hint', async () => {
    await assert.rejects(
      probeTarget({
        ...target,
        identityFile: path.join(dir, 'other_key'),
        extraArgs: [...target.extraArgs!, '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none'],
      }),
      (e: unknown) => e instanceof UserError && e.code === 'ssh-auth' && /BatchMode/.test(e.hint ?? ''),
    );
  });
});
