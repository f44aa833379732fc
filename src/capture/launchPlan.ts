/**
 * How the helper is started: a fixed command line (no user data in argv), so one precise
 * sudoers line can allow it. The bootstrap prints a ready line, then executes the first line of
 * stdin (LOADER), which reads the JSON envelope (program text, resource files, arguments).
 *
 * Waiting for the ready line before sending anything matters for `sudo -S`: sudo reads the
 * password from the same stdin, and must never see the program if the password was wrong.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../util/userError';
import { LocalTarget, SshTarget, Target, describeTarget, validateTarget } from './target';

/** Written by the bootstrap before it reads stdin. */
export const READY_LINE = 'go-perf-lens-ready';

/**
 * The fixed `python3 -c` program. No `,` `:` `=` `\` or wildcards, so it goes into a sudoers
 * rule without escaping, and no `$` `"` or backquote, so it sits inside double quotes in sh.
 */
export const BOOTSTRAP = `import sys;sys.stdout.write('${READY_LINE}'+chr(10));sys.stdout.flush();exec(sys.stdin.buffer.readline())`;

/** The first stdin line: reads the envelope line and runs its loader (bpf/envelope_loader.py). */
export const LOADER =
  "import json,sys;E=json.loads(sys.stdin.buffer.readline());" +
  "exec(compile(E.pop('program'),'envelope_loader.py','exec'),{'__name__':'__go_perf_lens__','ENVELOPE':E})";

/** The prompt we give `sudo -S`, so its stderr is recognisable. */
export const SUDO_PROMPT = '[go-perf-lens] sudo password: ';

export type Via = 'direct' | 'sudo' | 'sudo-password' | 'pkexec' | 'ssh' | 'ssh-sudo-password';

export interface LaunchPlan {
  target: Target;
  file: string;
  args: string[];
  via: Via;
  /** The Python the helper runs with (for ssh: the override, or "python3" when chosen there). */
  python: string;
  /** Written first on stdin (sudo -S), before the ready line is awaited. Never stored elsewhere. */
  password?: string;
}

/** The sudoers line that lets `user` start the helper without a password (see README). */
export function sudoersLine(user: string, python = '/usr/bin/python3'): string {
  return `${user} ALL=(root) NOPASSWD: ${python} -c ${BOOTSTRAP}`;
}

export function sudoersHint(user: string, python = '/usr/bin/python3'): string {
  return `allow the helper without a password: run "sudo visudo -f /etc/sudoers.d/go-perf-lens" and add the line\n` +
    `    ${sudoersLine(user, python)}\n` +
    `  (or run as root). The rule runs Python programs sent on stdin as root, so give it only to users who may be root.`;
}

/** The first executable called `name` on PATH, or undefined. */
export function findOnPath(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch { /* next */ }
  }
  return undefined;
}

export function localPython(t: LocalTarget): string {
  if (t.python) return t.python;
  if (fs.existsSync('/usr/bin/python3')) return '/usr/bin/python3';
  const p = findOnPath('python3');
  if (!p) throw new UserError('python3 is not installed on this machine', 'install it: sudo apt-get install python3', 'python-missing');
  return p;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function currentUser(): string {
  try { return os.userInfo().username; } catch { return process.env.USER ?? 'YOUR_USER'; }
}

/** A POSIX sh command for the remote side: pick Python, then run it directly as root or via sudo. */
export function remoteCommand(python: string | undefined, sudo: '-n' | '-S'): string {
  const pick = python
    ? `PY='${python}'; [ -x "$PY" ] || { echo "go-perf-lens: $PY is not an executable on this host" >&2; exit 127; }; `
    : `PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3) || { echo "go-perf-lens: python3 was not found on this host" >&2; exit 127; }; `;
  const sudoArgs = sudo === '-n' ? '-n' : `-k -S -p '${SUDO_PROMPT}'`;
  return `${pick}B="${BOOTSTRAP}"; if [ "$(id -u)" = 0 ]; then exec "$PY" -c "$B"; else exec sudo ${sudoArgs} -- "$PY" -c "$B"; fi`;
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

/** The first way to start the helper on `target` (before any password is known). */
export function initialPlan(target: Target): LaunchPlan {
  validateTarget(target);
  if (target.kind === 'ssh') {
    return { target, file: 'ssh', args: sshArgs(target, remoteCommand(target.python, '-n')), via: 'ssh', python: target.python ?? 'python3' };
  }
  const python = localPython(target);
  const elevation = target.elevation ?? 'auto';
  if (elevation === 'none' || (elevation === 'auto' && isRoot())) {
    return { target, file: python, args: ['-c', BOOTSTRAP], via: 'direct', python };
  }
  const sudo = findOnPath('sudo');
  const pkexec = findOnPath('pkexec');
  if (elevation === 'sudo' || (elevation === 'auto' && sudo)) {
    if (!sudo) throw sudoMissing(python);
    return { target, file: sudo, args: ['-n', '--', python, '-c', BOOTSTRAP], via: 'sudo', python };
  }
  if (elevation === 'pkexec' || (elevation === 'auto' && pkexec)) {
    if (!pkexec) throw new UserError('pkexec is not installed on this machine', 'install policykit-1, use sudo, or run as root', 'pkexec-missing');
    return { target, file: pkexec, args: [python, '-c', BOOTSTRAP], via: 'pkexec', python };
  }
  throw sudoMissing(python);
}

function sudoMissing(python: string): UserError {
  return new UserError('profiling needs root, and sudo is not installed on this machine (nor pkexec)',
    `run as root, or install sudo (apt-get install sudo) and ${sudoersHint(currentUser(), python)}`, 'sudo-missing');
}

/** The same launch, answering sudo's password prompt on stdin (`sudo -S`). */
export function withPassword(plan: LaunchPlan, password: string): LaunchPlan {
  if (plan.via === 'sudo' || plan.via === 'sudo-password') {
    // -k: always ask, so the password line is read by sudo even when it has cached credentials
    // (otherwise the line would reach Python as its first stdin line).
    return { ...plan, args: ['-k', '-S', '-p', SUDO_PROMPT, '--', plan.python, '-c', BOOTSTRAP], via: 'sudo-password', password };
  }
  if (plan.target.kind === 'ssh' && (plan.via === 'ssh' || plan.via === 'ssh-sudo-password')) {
    return { ...plan, args: sshArgs(plan.target, remoteCommand(plan.target.python, '-S')), via: 'ssh-sudo-password', password };
  }
  throw new Error(`a password cannot be given to a ${plan.via} launch`);
}

/** "sudo on this machine" / "sudo on host" for messages. */
export function whereLabel(plan: LaunchPlan): string {
  return describeTarget(plan.target);
}
