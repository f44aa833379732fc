/**
 * How the helper is started. Three ways, no others:
 * - installed (the normal one): `sudo -n /usr/bin/python3 -I /usr/local/lib/go-perf-lens/helper/helper.py serve`,
 *   the exact command the sudoers drop-in of `go-perf-lens install-helper` allows a group to run;
 *   the client sends one JSON request, never code (bpf/perflens_helper/serve.py);
 * - user: the same serve mode run as the user, without privilege, from this installation's bpf/
 *   (CPU sampling of one's own processes where perf_event_paranoid allows it);
 * - ephemeral: where we are root already (locally, or an ssh login as root), the fixed bootstrap
 *   `python3 -I -c BOOTSTRAP` prints a ready line and executes the first stdin line (LOADER), which
 *   reads the JSON envelope (the package's modules, resource files, arguments). Never under sudo.
 * Every one starts in `/` with a clean environment, Python isolated (-I), and absolute paths.
 *
 * Waiting for sudo's prompt before writing a password matters for `sudo -S`: sudo reads the
 * password from the same stdin, and nothing may reach it (or Python) before it asks.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { UserError } from '../util/userError';
import { LocalTarget, SshTarget, Target, describeTarget, validateTarget } from './target';
import { checkRootOwned } from './trustedPath';

/** Written by the bootstrap (ephemeral mode) before it reads stdin. */
export const READY_LINE = 'go-perf-lens-ready';
/** Written by `helper.py serve` (installed and user modes) before it reads the request. */
export const SERVE_READY_LINE = 'go-perf-lens-ready serve';

/**
 * The fixed `python3 -c` program of the ephemeral mode. No `$` `"` or backquote, so it sits inside
 * double quotes in sh.
 */
export const BOOTSTRAP = `import sys;sys.stdout.write('${READY_LINE}'+chr(10));sys.stdout.flush();exec(sys.stdin.buffer.readline())`;

/** The first stdin line: reads the envelope line and runs its loader (bpf/envelope_loader.py). */
export const LOADER =
  'import json,sys;E=json.loads(sys.stdin.buffer.readline());' +
  "exec(compile(E.pop('program'),'envelope_loader.py','exec'),{'__name__':'__go_perf_lens__','ENVELOPE':E})";

/** Where `go-perf-lens install-helper` puts the helper (root-owned). */
export const INSTALL_DIR = '/usr/local/lib/go-perf-lens/helper';
export const INSTALLED_HELPER = `${INSTALL_DIR}/helper.py`;
export const SUDOERS_FILE = '/etc/sudoers.d/go-perf-lens';
export const DEFAULT_GROUP = 'go-perf-lens';
/** The one Python the installed helper runs with (the sudoers rule names it). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const SUDO = '/usr/bin/sudo';
export const PKEXEC = '/usr/bin/pkexec';
export const SSH = '/usr/bin/ssh';
/** The argv the sudoers drop-in allows, exactly. */
export const INSTALLED_ARGV: readonly string[] = [SYSTEM_PYTHON, '-I', INSTALLED_HELPER, 'serve'];

/** The sudoers drop-in: members of `group` may run exactly the installed helper, without a password. */
export function sudoersRule(group = DEFAULT_GROUP): string {
  return `%${group} ALL=(root) NOPASSWD: ${INSTALLED_ARGV.join(' ')}\n`;
}

export function installHint(): string {
  return (
    'install the helper once: "sudo go-perf-lens install-helper" (or the command "Go Perf Lens: Set up this machine for profiling"), ' +
    `then "sudo usermod -aG ${DEFAULT_GROUP} ${currentUser()}" and log in again`
  );
}

/** The prompt we give `sudo -S`, so its stderr is recognisable. */
export const SUDO_PROMPT = '[go-perf-lens] sudo password: ';

export type Via = 'direct' | 'user' | 'sudo' | 'sudo-password' | 'pkexec' | 'ssh' | 'ssh-sudo-password';

export interface LaunchPlan {
  target: Target;
  file: string;
  args: string[];
  via: Via;
  /** installed: the request goes to `helper.py serve` (as root); user: the same without privilege; ephemeral: the envelope. */
  mode: 'installed' | 'user' | 'ephemeral';
  /** The Python the helper runs with (for ssh: the override, or /usr/bin/python3 there). */
  python: string;
  /** Written on stdin once sudo has printed its prompt, never before, never twice. */
  password?: string;
}

export function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'YOUR_USER';
  }
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The Python of the ephemeral mode on this machine: the setting (checked: root-owned all the way) or /usr/bin/python3. */
export function localPython(t: LocalTarget): string {
  const python = t.python ?? SYSTEM_PYTHON;
  if (!fs.existsSync(python))
    throw new UserError(`${python} is not installed on this machine`, 'install it: sudo apt-get install python3', 'python-missing');
  checkRootOwned(python, 'the Python that runs the helper as root');
  return python;
}

/** The installed helper is there (root-owned; the helper checks its own files when it runs). */
export function helperInstalled(): boolean {
  return fs.existsSync(INSTALLED_HELPER);
}

/** A POSIX sh command for the remote side: ephemeral when the login is root, else the installed helper through sudo. */
export function remoteCommand(python: string | undefined, sudo: '-n' | '-S'): string {
  const py = python ?? SYSTEM_PYTHON;
  const sudoArgs = sudo === '-n' ? '-n' : `-k -S -p '${SUDO_PROMPT}'`;
  return (
    `if [ "$(id -u)" = 0 ]; then [ -x '${py}' ] || { echo "go-perf-lens: ${py} is not an executable on this host" >&2; exit 127; }; ` +
    `cd / && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin '${py}' -I -c "${BOOTSTRAP}"; ` +
    `elif [ -f '${INSTALLED_HELPER}' ]; then cd / && exec sudo ${sudoArgs} -- ${INSTALLED_ARGV.join(' ')}; ` +
    `else echo "go-perf-lens: the helper is not installed on this host" >&2; exit 126; fi`
  );
}

function sshArgs(t: SshTarget, remote: string): string[] {
  const a = [...(t.extraArgs ?? [])];
  a.push('-T', '-o', 'BatchMode=yes', '-o', `ConnectTimeout=${t.connectTimeoutSec ?? 10}`, '-o', 'ServerAliveInterval=15');
  if (t.port !== undefined) a.push('-p', String(t.port));
  if (t.user !== undefined) a.push('-l', t.user);
  if (t.identityFile !== undefined) a.push('-i', t.identityFile);
  a.push('--', t.host, remote);
  return a;
}

/** The bundled helper (this installation's bpf/helper.py), run as the user in serve mode. */
export function userPlan(target: LocalTarget, helperPath: string): LaunchPlan {
  return { target, file: SYSTEM_PYTHON, args: ['-I', helperPath, 'serve'], via: 'user', mode: 'user', python: SYSTEM_PYTHON };
}

/** The first way to start the privileged helper on `target` (before any password is known). */
export function initialPlan(target: Target): LaunchPlan {
  validateTarget(target);
  if (target.kind === 'ssh') {
    return {
      target,
      file: SSH,
      args: sshArgs(target, remoteCommand(target.python, '-n')),
      via: 'ssh',
      mode: 'installed',
      python: target.python ?? SYSTEM_PYTHON,
    };
  }
  const elevation = target.elevation ?? 'auto';
  if (elevation === 'none' || (elevation === 'auto' && isRoot())) {
    if (!isRoot())
      throw new UserError('the helper is sent over stdin only to a Python that runs as root already', installHint(), 'not-root');
    const python = localPython(target);
    return { target, file: python, args: ['-I', '-c', BOOTSTRAP], via: 'direct', mode: 'ephemeral', python };
  }
  if (!helperInstalled()) {
    throw new UserError(
      'profiling another process, or with eBPF, needs the go-perf-lens helper, which is not installed on this machine',
      installHint(),
      'helper-not-installed',
    );
  }
  const sudo = fs.existsSync(SUDO);
  const pkexec = fs.existsSync(PKEXEC);
  if (elevation === 'sudo' || (elevation === 'auto' && sudo)) {
    if (!sudo) throw sudoMissing();
    return { target, file: SUDO, args: ['-n', '--', ...INSTALLED_ARGV], via: 'sudo', mode: 'installed', python: SYSTEM_PYTHON };
  }
  if (elevation === 'pkexec' || (elevation === 'auto' && pkexec)) {
    if (!pkexec)
      throw new UserError('pkexec is not installed on this machine', 'install policykit-1, use sudo, or run as root', 'pkexec-missing');
    return { target, file: PKEXEC, args: [...INSTALLED_ARGV], via: 'pkexec', mode: 'installed', python: SYSTEM_PYTHON };
  }
  throw sudoMissing();
}

function sudoMissing(): UserError {
  return new UserError(
    'profiling needs root, and sudo is not installed on this machine (nor pkexec)',
    `run as root, or install sudo (apt-get install sudo) and ${installHint()}`,
    'sudo-missing',
  );
}

/** The same launch, answering sudo's password prompt on stdin (`sudo -S`) once it appears. */
export function withPassword(plan: LaunchPlan, password: string): LaunchPlan {
  if (plan.via === 'sudo' || plan.via === 'sudo-password') {
    // -k: always ask, so the password line is read by sudo even when it has cached credentials.
    return { ...plan, args: ['-k', '-S', '-p', SUDO_PROMPT, '--', ...INSTALLED_ARGV], via: 'sudo-password', password };
  }
  if (plan.target.kind === 'ssh' && (plan.via === 'ssh' || plan.via === 'ssh-sudo-password')) {
    return { ...plan, args: sshArgs(plan.target, remoteCommand(plan.target.python, '-S')), via: 'ssh-sudo-password', password };
  }
  throw new Error(`a password cannot be given to a ${plan.via} launch`);
}

/** The environment a launcher gets: nothing that could steer Python, the loader or sudo. */
export function launchEnv(plan: LaunchPlan, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };
  // ssh needs the user's identity (config, agent, known hosts); pkexec its session.
  const keep = plan.via.startsWith('ssh')
    ? ['HOME', 'USER', 'LOGNAME', 'SSH_AUTH_SOCK']
    : plan.via === 'pkexec'
      ? ['HOME', 'USER', 'LOGNAME', 'DISPLAY', 'WAYLAND_DISPLAY', 'XAUTHORITY', 'DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR']
      : [];
  for (const k of keep) if (env[k] !== undefined) out[k] = env[k]!;
  return out;
}

/** "sudo on this machine" / "sudo on host" for messages. */
export function whereLabel(plan: LaunchPlan): string {
  return describeTarget(plan.target);
}
