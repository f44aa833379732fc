/**
 * A private sshd on 127.0.0.1 for the end-to-end tests of the remote-host path, set up as
 * test/integration/capture/helperSsh.test.ts does: host and client keys made at test time, key-only
 * root login, its own authorized_keys file — /root/.ssh and /etc/ssh are never touched.
 *
 * The product runs the system `ssh` with a destination the user types (a Host from their ssh
 * config). ssh reads its user config from the passwd home directory, not $HOME, so a test cannot
 * point it at another ~/.ssh/config through the environment. Instead the folder also gets a client
 * config (a Host alias → this sshd, its key, a known_hosts holding this sshd's real host key, strict
 * checking) and a bin/ with an `ssh` that runs the system ssh with `-F` that config: a VS Code
 * server started with that bin/ first on PATH (serverEnv) resolves the alias like a user's
 * ~/.ssh/config would. Each call is logged, so a test can tell the product's ssh went through it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../../support/ports';

export interface PrivateSshd {
  /** The Host alias that the client config maps to this sshd (type it as the destination). */
  readonly alias: string;
  readonly port: number;
  /** The listening sshd's pid (sessions are its descendants). */
  readonly pid: number;
  /** The folder holding keys, configs, logs and bin/ssh. */
  readonly dir: string;
  /** Environment for a VS Code server whose extension host should resolve `alias`: bin/ first on PATH. */
  readonly serverEnv: Record<string, string>;
  /** Everything sshd printed (LogLevel INFO: connections, accepted keys). */
  log(): string;
  /** How many times sshd accepted this test's key for root. */
  acceptedLogins(): number;
  /** The argument lists bin/ssh was called with, one per call. */
  sshCalls(): string[];
  /** Live processes below the listening sshd (sessions and what they run). */
  descendants(): number[];
  /** Kills the sessions and sshd, any ssh client still using the config, and removes the folder. */
  stop(): Promise<void>;
}

const SAFE_DIR = /^\/[A-Za-z0-9._/-]+$/;

function onPath(name: string, skipDir?: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(':')) {
    if (!d || d === skipDir) continue;
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Whether `ancestor` is a (grand…)parent of `pid`, from /proc. */
export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p: number | undefined = parentOf(pid), hops = 0; p !== undefined && p > 1 && hops < 64; p = parentOf(p), hops++) {
    if (p === ancestor) return true;
  }
  return false;
}

function livePids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

function cmdlineHas(pid: number, text: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
  } catch {
    return false;
  }
}

/** What startPrivateSshd may take at most: three tries of 15 s at listening, the 30 s ssh login, 10 s for its log line. */
export const PRIVATE_SSHD_START_MS = 3 * 15000 + 30000 + 10000;

/** Starts sshd on a free port of 127.0.0.1 with everything in `dir` (made fresh by the caller). */
export async function startPrivateSshd(dir: string, alias: string): Promise<PrivateSshd> {
  if (process.getuid?.() !== 0) throw new Error('the private sshd needs root (it logs in as root)');
  if (!SAFE_DIR.test(dir)) throw new Error(`${dir}: a plain absolute path is needed (it goes into configs and a script)`);
  const sshdBin = ['/usr/sbin/sshd', onPath('sshd')].find((p) => p && fs.existsSync(p));
  const sshBin = onPath('ssh', path.join(dir, 'bin'));
  if (!sshdBin || !sshBin)
    throw new Error(`ssh${sshdBin ? '' : 'd'} is not installed: run scripts/setup.sh (openssh-server, openssh-client)`);
  const f = (name: string): string => path.join(dir, name);

  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gpl-e2e-host', '-f', f('host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gpl-e2e-client', '-f', f('client_key')]);
  fs.copyFileSync(f('client_key.pub'), f('authorized_keys'));
  // sshd's privilege-separation directory (Debian's service makes it at boot; a bare sshd needs it).
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  let lines = '';
  let child: ChildProcess | undefined;
  let port = 0;
  // A free port can be taken between our probe and sshd's bind: try a few.
  for (let attempt = 1; !child; attempt++) {
    port = await freePort();
    fs.writeFileSync(
      f('sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${f('host_key')}`,
        `PidFile ${f('sshd.pid')}`,
        `AuthorizedKeysFile ${f('authorized_keys')}`,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'AllowUsers root',
        'UsePAM no',
        'StrictModes no',
        'X11Forwarding no',
        'PrintMotd no',
        'LogLevel INFO',
      ].join('\n') + '\n',
    );
    execFileSync(sshdBin, ['-t', '-f', f('sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    lines = '';
    const c = spawn(sshdBin, ['-D', '-e', '-f', f('sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.on('data', (d: Buffer) => {
      lines += d.toString('utf8');
    });
    const up = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 15000);
      const check = (): void => {
        if (/Server listening on 127\.0\.0\.1 port \d+/.test(lines)) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      c.stderr!.on('data', check);
      c.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (up) child = c;
    else {
      c.kill('SIGKILL');
      if (attempt === 3) throw new Error(`sshd did not start listening on 127.0.0.1:${port}:\n${lines.trim()}`);
    }
  }

  // The client side: a known_hosts with this sshd's real key (strict checking), the alias, bin/ssh.
  const hostPub = fs.readFileSync(f('host_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  fs.writeFileSync(f('known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);
  fs.writeFileSync(
    f('ssh_config'),
    [
      `Host ${alias}`,
      '  HostName 127.0.0.1',
      `  Port ${port}`,
      '  User root',
      `  IdentityFile ${f('client_key')}`,
      '  IdentitiesOnly yes',
      '  IdentityAgent none',
      `  UserKnownHostsFile ${f('known_hosts')}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  UpdateHostKeys no',
      '  LogLevel ERROR',
    ].join('\n') + '\n',
  );
  fs.mkdirSync(f('bin'));
  fs.writeFileSync(
    f('bin/ssh'),
    [
      '#!/bin/sh',
      "# Made by the e2e test: the system ssh with the test's client config in place of ~/.ssh/config.",
      `printf '%s\\n' "$*" >> '${f('ssh-calls.log')}'`,
      `exec '${sshBin}' -F '${f('ssh_config')}' "$@"`,
    ].join('\n') + '\n',
    { mode: 0o755 },
  );
  fs.writeFileSync(f('ssh-calls.log'), '');
  // The extension runs /usr/bin/ssh by its absolute path (never an `ssh` found on PATH), which reads
  // the user's and the system's config: the alias is made known the way an admin would, through a
  // drop-in of the system config (Debian's /etc/ssh/ssh_config includes ssh_config.d/*.conf) that
  // only includes this test's Host block, and is removed by stop().
  const dropIn = path.join('/etc/ssh/ssh_config.d', `gpl-e2e-${port}.conf`);
  fs.mkdirSync(path.dirname(dropIn), { recursive: true });
  fs.writeFileSync(dropIn, `# Made by a Go Perf Lens e2e test; removed when it ends.\nInclude ${f('ssh_config')}\n`);

  const sshd = child;
  const pid = sshd.pid!;
  const descendants = (): number[] => livePids().filter((p) => descendsFrom(p, pid));
  const stop = async (): Promise<void> => {
    // Sessions first (they outlive a SIGTERM to the listener), then the listener, then any client
    // still running with this config; then the keys go.
    for (const p of descendants())
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    if (sshd.exitCode === null && sshd.signalCode === null) {
      const exited = new Promise((resolve) => sshd.once('exit', resolve));
      sshd.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (sshd.exitCode === null && sshd.signalCode === null) sshd.kill('SIGKILL');
    }
    for (const p of livePids())
      if (p !== process.pid && cmdlineHas(p, dir))
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
    fs.rmSync(dropIn, { force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  };

  // Before any UI: the real ssh, through the wrapper and the alias, logs in as root.
  try {
    const who = execFileSync(f('bin/ssh'), ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', alias, 'id -u'], {
      encoding: 'utf8',
      timeout: 30000,
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    if (who !== '0') throw new Error(`"ssh ${alias} id -u" printed "${who}", not 0`);
  } catch (e) {
    const err = (e as { stderr?: Buffer | string }).stderr?.toString() ?? '';
    await stop();
    throw new Error(
      `ssh ${alias} (127.0.0.1:${port}) does not log in as root: ${(e as Error).message}\n${err}\n--- sshd ---\n${lines.trim()}`,
    );
  }
  // sshd's log comes through a pipe that the blocking call above left unread: wait for that
  // login's line, so counts taken from here on start from it.
  const accepted = (): number => (lines.match(/Accepted publickey for root from 127\.0\.0\.1/g) ?? []).length;
  for (const end = Date.now() + 10000; accepted() < 1;) {
    if (Date.now() > end) {
      await stop();
      throw new Error(`sshd logged no accepted login for "ssh ${alias}" (LogLevel INFO):\n${lines.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    alias,
    port,
    pid,
    dir,
    serverEnv: {
      PATH: `${f('bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      // The server otherwise replaces its environment with a login shell's, whose /etc/profile
      // resets PATH; VSCODE_CLI=1 says this environment already is the user's (as when `code`
      // is launched from a terminal), so the extension host — and the ssh it runs — gets it.
      VSCODE_CLI: '1',
    },
    log: () => lines,
    acceptedLogins: accepted,
    sshCalls: () => {
      try {
        return fs.readFileSync(f('ssh-calls.log'), 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
    descendants,
    stop,
  };
}
