/**
 * Installs or removes the helper on this machine: runs bpf/install_helper.py (as root: the caller
 * is `sudo go-perf-lens install-helper`) with the system Python, isolated, from `/`.
 */
import { execa } from 'execa';
import * as path from 'node:path';
import { UserError } from '../util/userError';
import { resolveBpfDir } from './helperFiles';
import { DEFAULT_GROUP, SYSTEM_PYTHON } from './launchPlan';

export interface InstallOptions {
  group?: string;
  adminGroup?: string;
}

/** The exact commands "Set up this machine for profiling" shows, then runs in a terminal. */
export function setupCommands(cli: string, user: string, opts: InstallOptions = {}): string[] {
  const group = opts.group ?? DEFAULT_GROUP;
  const install = [
    'sudo',
    process.execPath,
    cli,
    'install-helper',
    '--group',
    group,
    ...(opts.adminGroup ? ['--admin-group', opts.adminGroup] : []),
  ];
  return [install.join(' '), `sudo usermod -aG ${group} ${user}`];
}

async function runInstaller(args: string[]): Promise<string> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new UserError('installing the helper needs root', 'run it with sudo: sudo go-perf-lens install-helper', 'not-root');
  }
  const script = path.join(resolveBpfDir(), 'install_helper.py');
  const r = await execa(SYSTEM_PYTHON, ['-I', script, ...args], {
    cwd: '/',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    extendEnv: false,
    reject: false,
    timeout: 120000,
    stdin: 'ignore',
  });
  if (r.exitCode !== 0) {
    const why =
      String(r.stderr)
        .trim()
        .replace(/^go-perf-lens: /, '') || (r.timedOut ? 'timed out' : `exit code ${r.exitCode}`);
    throw new UserError(`the helper was not ${args[0] === 'install' ? 'installed' : 'removed'}: ${why}`, undefined, 'install-failed');
  }
  return String(r.stdout);
}

export async function installHelper(opts: InstallOptions = {}): Promise<string> {
  const args = ['install', '--source', resolveBpfDir(), '--group', opts.group ?? DEFAULT_GROUP];
  if (opts.adminGroup) args.push('--admin-group', opts.adminGroup);
  return runInstaller(args);
}

export async function uninstallHelper(): Promise<string> {
  return runInstaller(['uninstall']);
}
