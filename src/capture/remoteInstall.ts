/**
 * Installs or removes the helper on a REMOTE host over ssh; the host needs Python 3 only (not
 * Node). Two ssh calls: the first (no tty) sends the installer and the helper sources as JSON on
 * stdin to a stdlib-only unpacker, which writes them to a fresh private (0700) temporary folder of
 * the ssh user; the second (with a tty) runs install_helper.py from there under sudo, whose one
 * password prompt names the host, then removes the folder. The password goes only to that prompt.
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/userError';
import { resolveBpfDir } from './helperFiles';
import type { InstallOptions } from './installHelper';
import { DEFAULT_GROUP, SYSTEM_PYTHON } from './launchPlan';

/** user@host or an ssh config alias: nothing a remote shell or ssh's option parser would read. */
const DESTINATION = /^(?:[a-z_][a-z0-9_.-]{0,31}@)?[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$/;
const GROUP_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const SOURCE = /^[A-Za-z0-9_]+\.(py|c|h|json)$/;

// Reads {"relative/path": "text"} on stdin into a new 0700 folder and prints the folder.
const UNPACK =
  'import json,os,sys,tempfile\n' +
  'd=tempfile.mkdtemp(prefix="go-perf-lens-install-")\n' +
  'for n,t in json.load(sys.stdin).items():\n' +
  ' p=os.path.join(d,n)\n' +
  ' if os.path.dirname(n): os.makedirs(os.path.dirname(p),0o700,exist_ok=True)\n' +
  ' with open(p,"x") as f: f.write(t)\n' +
  'print(d)\n';

export function checkDestination(host: string): string {
  if (!DESTINATION.test(host))
    throw new UserError(
      `"${host}" is not a host the helper can be installed on`,
      'give it as user@host or a Host alias from your ssh config',
      'usage',
    );
  return host;
}

function bundle(): string {
  const bpf = resolveBpfDir();
  const files: Record<string, string> = {};
  for (const sub of ['', 'perflens_helper']) {
    for (const name of fs.readdirSync(path.join(bpf, sub)).sort()) {
      if (SOURCE.test(name)) files[path.posix.join(sub, name)] = fs.readFileSync(path.join(bpf, sub, name), 'utf8');
    }
  }
  return JSON.stringify(files);
}

/** The remote command of the second ssh call; `dir` is the temporary folder (checked by the caller). */
function sudoCommand(host: string, dir: string, action: 'install' | 'uninstall', opts: InstallOptions): string {
  const group = opts.group ?? DEFAULT_GROUP;
  const prompt = `'[sudo] password for %u on ${host} (go-perf-lens ${action}-helper): '`;
  const args =
    action === 'install'
      ? ['install', '--source', dir, '--group', group, ...(opts.adminGroup ? ['--admin-group', opts.adminGroup] : [])]
      : ['uninstall'];
  // The usermod reuses the ticket of the same tty: still one prompt.
  const after = action === 'install' ? ` && sudo -n /usr/sbin/usermod -aG ${group} "$(id -un)"` : '';
  return `sudo -p ${prompt} ${SYSTEM_PYTHON} -I ${dir}/install_helper.py ${args.join(' ')}${after}; rc=$?; rm -rf ${dir}; exit $rc`;
}

/** The exact commands shown before anything runs (the second one's folder is made by the first). */
export function remoteCommands(host: string, action: 'install' | 'uninstall', opts: InstallOptions = {}): string[] {
  checkDestination(host);
  return [
    `ssh -T ${host} python3 -I -c '<unpack the installer and helper sources sent on stdin into a private temporary folder DIR>'`,
    `ssh -t ${host} ${JSON.stringify(sudoCommand(host, 'DIR', action, opts))}`,
  ];
}

export async function remoteInstall(host: string, action: 'install' | 'uninstall', opts: InstallOptions = {}): Promise<void> {
  checkDestination(host);
  for (const g of [opts.group, opts.adminGroup]) {
    if (g !== undefined && !GROUP_NAME.test(g)) throw new UserError(`"${g}" is not a valid group name`, undefined, 'usage');
  }
  const sent = await execa('ssh', ['-T', '-o', 'ConnectTimeout=15', '--', host, `python3 -I -c '${UNPACK}'`], {
    input: bundle(),
    reject: false,
    timeout: 120000,
  });
  const dir = String(sent.stdout).trim();
  if (sent.exitCode !== 0 || !/^\/[A-Za-z0-9._/-]+$/.test(dir)) {
    const why = String(sent.stderr).trim() || (sent.timedOut ? 'timed out' : `exit code ${sent.exitCode}`);
    throw new UserError(
      `could not send the installer to ${host}: ${why}`,
      `check that "ssh ${host}" logs in and that python3 is installed there`,
      'remote-unreachable',
    );
  }
  const ran = await execa('ssh', ['-t', '-o', 'ConnectTimeout=15', '--', host, sudoCommand(host, dir, action, opts)], {
    stdio: 'inherit',
    reject: false,
  });
  if (ran.exitCode !== 0) {
    throw new UserError(
      `the helper was not ${action === 'install' ? 'installed' : 'removed'} on ${host} (exit code ${ran.exitCode})`,
      "see the message above (a refused sudo password, or the installer's reason)",
      'install-failed',
    );
  }
}
