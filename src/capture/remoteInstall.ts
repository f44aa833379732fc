/**
 * Installs or removes the helper on a REMOTE host over ssh; the host needs Python 3 only (not
 * Node). Two ssh calls. The first (no tty) sends the installer and the helper sources as one JSON
 * bundle on stdin; a stdlib-only one-liner writes it to bundle.json (0600) in a fresh private
 * (0700) temporary folder of the ssh user. The second (with a tty) runs under sudo, whose one
 * password prompt names the host, a fixed check that comes on its command line (nothing of it is
 * read from that folder): as root it opens the folder and the bundle without following links,
 * requires both to be the sudo user's and private, reads the bundle once, requires its sha256 to be
 * the one computed here, unpacks it into a new folder only root can write and runs
 * install_helper.py from there. Whatever changed in the folder between the two calls is refused,
 * never run. The folder is removed after; the password goes only to sudo's prompt.
 */
import { execa } from 'execa';
import { createHash } from 'node:crypto';
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
/** What the first call may print as its folder (it goes into the second call's command line). */
const UPLOAD_DIR = /^\/[A-Za-z0-9._/-]+$/;

// As the ssh user: stdin into bundle.json (0600, a new file) of a new 0700 folder; prints the folder.
const UPLOAD = [
  'import os,sys,tempfile',
  'd=tempfile.mkdtemp(prefix="go-perf-lens-install-")',
  'f=os.open(os.path.join(d,"bundle.json"),os.O_WRONLY|os.O_CREAT|os.O_EXCL|os.O_NOFOLLOW,0o600)',
  'with os.fdopen(f,"wb") as o: o.write(sys.stdin.buffer.read())',
  'print(d)',
].join('\n');

/**
 * Run as root by sudo with argv DIR SHA256 ACTION [OPTIONS]: DIR and DIR/bundle.json must belong
 * to the sudo user (SUDO_UID) and be private (the folder 0700; the bundle a regular file nobody
 * else may read or write, with no other link), and the bundle's sha256 must be SHA256. Its files
 * (names checked) go to a new root-only folder in /tmp, whose install_helper.py then runs with
 * ACTION and OPTIONS (install gets --source that folder). Free of single quotes: it is passed
 * inside them.
 */
export const VERIFY_AND_INSTALL = [
  'import hashlib,json,os,re,shutil,stat,subprocess,sys,tempfile',
  'def no(why): sys.exit("go-perf-lens: not installing: "+why)',
  'd,want,rest=sys.argv[1],sys.argv[2],sys.argv[3:]',
  'uid=int(os.environ.get("SUDO_UID",os.getuid()))',
  'try:',
  ' fd=os.open(d,os.O_RDONLY|os.O_DIRECTORY|os.O_NOFOLLOW)',
  ' f=os.open("bundle.json",os.O_RDONLY|os.O_NOFOLLOW|os.O_NONBLOCK,dir_fd=fd)',
  'except OSError as e: no("cannot open %s/bundle.json: %s" % (d,e.strerror))',
  'sd,sf=os.fstat(fd),os.fstat(f)',
  'if sd.st_uid!=uid or stat.S_IMODE(sd.st_mode)!=0o700: no("%s is not a private (0700) folder of uid %d" % (d,uid))',
  'if not stat.S_ISREG(sf.st_mode) or sf.st_uid!=uid or sf.st_mode&0o077 or sf.st_nlink!=1 or sf.st_size>64<<20:',
  ' no("%s/bundle.json is not a private regular file of uid %d" % (d,uid))',
  'b=b"".join(iter(lambda: os.read(f,1<<20),b""))',
  'if hashlib.sha256(b).hexdigest()!=want: no("%s/bundle.json is not what was sent (its sha256 differs): it was changed on this host" % d)',
  'files=json.loads(b.decode())',
  'root=tempfile.mkdtemp(prefix="go-perf-lens-install-root-",dir="/tmp")',
  'try:',
  ' for n,t in files.items():',
  '  if not re.match(r"^(perflens_helper/)?[A-Za-z0-9_]+[.](py|c|h|json)$",n): no("unexpected file %s in the bundle" % n)',
  '  os.makedirs(os.path.join(root,os.path.dirname(n)),0o755,exist_ok=True)',
  '  with open(os.path.join(root,n),"x") as o: o.write(t)',
  ' if rest[:1]==["install"]: rest=["install","--source",root]+rest[1:]',
  ' rc=subprocess.call(["/usr/bin/python3","-I",os.path.join(root,"install_helper.py")]+rest,cwd="/")',
  'finally: shutil.rmtree(root,True)',
  'sys.exit(rc)',
].join('\n');

export function checkDestination(host: string): string {
  if (!DESTINATION.test(host))
    throw new UserError(
      `"${host}" is not a host the helper can be installed on`,
      'give it as user@host or a Host alias from your ssh config',
      'usage',
    );
  return host;
}

export interface Bundle {
  /** {"relative/path": "text"} of the installer and the helper's sources, as JSON. */
  bytes: Buffer;
  sha256: string;
}

/** The installer and the helper's sources as the one file the first ssh call sends. */
export function bundle(): Bundle {
  const bpf = resolveBpfDir();
  const files: Record<string, string> = {};
  for (const sub of ['', 'perflens_helper']) {
    for (const name of fs.readdirSync(path.join(bpf, sub)).sort()) {
      if (SOURCE.test(name)) files[path.posix.join(sub, name)] = fs.readFileSync(path.join(bpf, sub, name), 'utf8');
    }
  }
  const bytes = Buffer.from(JSON.stringify(files), 'utf8');
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * The remote command of the second ssh call: `dir` is the folder the first one made (checked by
 * the caller), `sha256` the bundle's; `check` stands in for VERIFY_AND_INSTALL where it is shown.
 */
export function installStepCommand(
  host: string,
  dir: string,
  sha256: string,
  action: 'install' | 'uninstall',
  opts: InstallOptions = {},
  check = VERIFY_AND_INSTALL,
): string {
  const group = opts.group ?? DEFAULT_GROUP;
  const prompt = `'[sudo] password for %u on ${host} (go-perf-lens ${action}-helper): '`;
  const args =
    action === 'install' ? ['install', '--group', group, ...(opts.adminGroup ? ['--admin-group', opts.adminGroup] : [])] : ['uninstall'];
  // The usermod reuses the ticket of the same tty: still one prompt.
  const after = action === 'install' ? ` && sudo -n /usr/sbin/usermod -aG ${group} "$(id -un)"` : '';
  return `sudo -p ${prompt} ${SYSTEM_PYTHON} -I -c '${check}' ${dir} ${sha256} ${args.join(' ')}${after}; rc=$?; rm -rf ${dir}; exit $rc`;
}

/** The exact commands shown before anything runs (the second one's folder is made by the first). */
export function remoteCommands(host: string, action: 'install' | 'uninstall', opts: InstallOptions = {}): string[] {
  checkDestination(host);
  const check =
    '<as root: DIR and DIR/bundle.json must be yours, private, and of this sha256; unpack it into a root-only folder and run its install_helper.py>';
  return [
    `ssh -T ${host} python3 -I -c '<write the installer and helper sources sent on stdin to DIR/bundle.json, DIR a new private temporary folder>'`,
    `ssh -t ${host} ${JSON.stringify(installStepCommand(host, 'DIR', bundle().sha256, action, opts, check))}`,
  ];
}

/** The first ssh call: the bundle into a new private folder of the ssh user there; returns the folder. */
export async function uploadBundle(host: string, b: Bundle): Promise<string> {
  checkDestination(host);
  const sent = await execa('ssh', ['-T', '-o', 'ConnectTimeout=15', '--', host, `python3 -I -c '${UPLOAD}'`], {
    input: b.bytes,
    reject: false,
    timeout: 120000,
  });
  const dir = String(sent.stdout).trim();
  if (sent.exitCode !== 0 || !UPLOAD_DIR.test(dir)) {
    const why = String(sent.stderr).trim() || (sent.timedOut ? 'timed out' : `exit code ${sent.exitCode}`);
    throw new UserError(
      `could not send the installer to ${host}: ${why}`,
      `check that "ssh ${host}" logs in and that python3 is installed there`,
      'remote-unreachable',
    );
  }
  return dir;
}

export async function remoteInstall(host: string, action: 'install' | 'uninstall', opts: InstallOptions = {}): Promise<void> {
  checkDestination(host);
  for (const g of [opts.group, opts.adminGroup]) {
    if (g !== undefined && !GROUP_NAME.test(g)) throw new UserError(`"${g}" is not a valid group name`, undefined, 'usage');
  }
  const b = bundle();
  const dir = await uploadBundle(host, b);
  const ran = await execa('ssh', ['-t', '-o', 'ConnectTimeout=15', '--', host, installStepCommand(host, dir, b.sha256, action, opts)], {
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
