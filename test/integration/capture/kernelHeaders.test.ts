/**
 * The eBPF modes without usable kernel headers, for real: the real helper, started by the real
 * client (test/support/helperClientMain.ts) and by the CLI, inside a private mount namespace
 * (`unshare --mount`) where /lib/modules/$(uname -r) is another folder — empty (no headers), or
 * with a `build` owned by another user (headers anyone could have prepared). Each is refused as
 * `headers-missing` before BCC is loaded, with what happened and what to do, and nothing is left:
 * no probe on the target, no process in the namespace, no helper folder. It never falls back to a
 * /tmp/kheaders-RELEASE folder that another user prepared (BCC's own fallback when
 * /lib/modules/RELEASE/build is missing), even with BCC_KERNEL_SOURCE naming it in the caller's
 * environment. Nothing outside the namespace changes, except the empty mount point
 * /tmp/kheaders-RELEASE while a test runs, when it did not exist.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../../support/goToolchains';
import { type ClientReply, type Spinner, eventually, isAlive, killSpin, startSpin } from './captureSupport';

const RELEASE = os.release();
const MODULES = `/lib/modules/${RELEASE}`;
const KHEADERS = `/tmp/kheaders-${RELEASE}`;
const NOBODY = 65534;

interface NamespaceRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The namespace's id (readlink /proc/self/ns/mnt inside it). */
  mntNs: string;
}

/**
 * Runs `argv` in a private mount namespace after bind-mounting each [source, mount point]; the
 * caller's environment plus `env`.
 */
function inPrivateMounts(mounts: [string, string][], argv: string[], env: Record<string, string>, dir: string): Promise<NamespaceRun> {
  const nsFile = path.join(dir, 'mnt-ns');
  const script = [
    'readlink /proc/self/ns/mnt > "$1" || exit 97',
    'shift',
    'while [ "$1" != -- ]; do mount --bind "$1" "$2" || exit 98; shift 2; done',
    'shift',
    'exec "$@"',
  ].join('\n');
  const child = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', nsFile, ...mounts.flat(), '--', ...argv],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => {
      const mntNs = fs.existsSync(nsFile) ? fs.readFileSync(nsFile, 'utf8').trim() : '';
      if (!mntNs || status === 97 || status === 98) reject(new Error(`the namespace was not set up (exit ${status}): ${stderr}`));
      else resolve({ status, stdout, stderr, mntNs });
    });
  });
}

/** Processes (still) in the mount namespace `mntNs`. */
function processesIn(mntNs: string): number[] {
  const found: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readlinkSync(`/proc/${d}/ns/mnt`) === mntNs) found.push(Number(d));
    } catch {
      /* exited */
    }
  }
  return found;
}

/** Whether a uprobe ever fired in `pid`: the kernel maps its [uprobes] page into the process then. */
function hasUprobePage(pid: number): boolean {
  return fs.readFileSync(`/proc/${pid}/maps`, 'utf8').includes('[uprobes]');
}

/** The files below `dir` with their owners and sizes (what a prepared folder holds). */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = fs.lstatSync(p);
      out.push(`${path.relative(dir, p)} ${st.uid} ${st.size} ${st.mtimeMs}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

describe('capture: eBPF modes without usable kernel headers are refused [root, bcc, unshare]', function () {
  this.timeout(180000);
  let spin: Spinner;
  let dir = '';
  let madeMountPoint = false;
  /** A /tmp/kheaders-RELEASE as another user would prepare it: theirs, with headers that look right. */
  let prepared = '';

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'these tests run as root (mount namespaces, the helper)');
    spin = await startSpin();
    assert.ok(!hasUprobePage(spin.pid), 'a fresh process has never been probed');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-kheaders-test-'));
    fs.chmodSync(dir, 0o755);
    prepared = path.join(dir, 'prepared');
    fs.mkdirSync(path.join(prepared, 'include', 'linux'), { recursive: true });
    fs.writeFileSync(path.join(prepared, 'include', 'linux', 'kconfig.h'), '/* prepared by another user */\n');
    for (const p of [
      prepared,
      path.join(prepared, 'include'),
      path.join(prepared, 'include', 'linux'),
      path.join(prepared, 'include', 'linux', 'kconfig.h'),
    ])
      fs.chownSync(p, NOBODY, NOBODY);
    if (!fs.existsSync(KHEADERS)) {
      fs.mkdirSync(KHEADERS, { mode: 0o700 }); // only a mount point, for the namespace
      madeMountPoint = true;
    }
  });

  after(() => {
    killSpin(spin);
    if (madeMountPoint) fs.rmdirSync(KHEADERS);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A stand-in for /lib/modules/RELEASE; `build`, when given, is what its build link points at. */
  function modulesDir(name: string, build?: string): string {
    const d = path.join(dir, name);
    fs.mkdirSync(d);
    if (build) fs.symlinkSync(build, path.join(d, 'build'));
    return d;
  }

  /** The headers refusal through the real client, and everything it must leave as it was. */
  async function refusedByHelper(modules: string, why: RegExp): Promise<void> {
    const before = listing(prepared);
    const client = path.join(REPO_ROOT, 'out', 'test', 'support', 'helperClientMain.js');
    const req = { target: { kind: 'local' }, subcommand: 'syscalls', args: { pid: spin.pid, duration: 1 } };
    const run = await inPrivateMounts(
      [
        [modules, MODULES],
        [prepared, KHEADERS],
      ],
      [process.execPath, client, JSON.stringify(req)],
      { BCC_KERNEL_SOURCE: KHEADERS },
      dir,
    );
    const line = run.stdout.trim().split('\n').pop() ?? '';
    assert.ok(line.startsWith('{'), `the client printed no reply (exit ${run.status}): ${run.stdout} ${run.stderr}`);
    const reply = JSON.parse(line) as ClientReply;
    assert.equal(reply.ok, false, `the helper ran the eBPF mode without usable headers: ${line}`);
    assert.equal(reply.error?.code, 'headers-missing', line);
    assert.match(reply.error!.message, /^the eBPF modes need the kernel headers, and /);
    assert.match(reply.error!.message, why);
    assert.match(reply.error!.hint ?? '', /install them: sudo apt-get install linux-headers-\$\(uname -r\)/);
    // Refused before anything was loaded: the target never met a probe and runs on; nothing of
    // the run is left in the namespace (helper, BCC, perf); the helper's private folder is gone.
    assert.ok(isAlive(spin.pid), 'the target runs on');
    assert.ok(!hasUprobePage(spin.pid), 'no uprobe was ever hit in the target');
    assert.ok(
      await eventually(() => processesIn(run.mntNs).length === 0, 30000),
      `processes left in the namespace: ${processesIn(run.mntNs).join(', ')}`,
    );
    assert.ok(reply.hello, `the helper said hello before refusing: ${line}`);
    assert.equal(fs.existsSync(reply.hello.tempDir), false, `${reply.hello.tempDir} is left`);
    assert.deepEqual(listing(prepared), before, 'the prepared kheaders folder is untouched');
    assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${MODULES} `), `${MODULES} is not mounted over out here`);
  }

  it('no /lib/modules/RELEASE/build: headers-missing, says what to install; a prepared /tmp/kheaders-RELEASE is not used', async () => {
    await refusedByHelper(modulesDir('empty'), new RegExp(`${MODULES.replace(/\./g, '\\.')}/build is missing`));
  });

  it('headers another user owns (build → their folder): headers-missing, never compiled against them', async () => {
    const theirs = path.join(dir, 'theirs');
    fs.cpSync(prepared, theirs, { recursive: true });
    fs.chownSync(theirs, NOBODY, NOBODY); // the headers' folder is theirs: they could change it at any time
    await refusedByHelper(
      modulesDir('foreign', theirs),
      new RegExp(`${theirs.replace(/\./g, '\\.')} is not owned by root or is writable by others`),
    );
  });

  it('the CLI (trace, syscalls) says what happened and what to do, with no stack trace, and exits non-zero', async () => {
    const modules = modulesDir('empty-cli');
    const cli = path.join(REPO_ROOT, 'dist', 'cli.js');
    for (const args of [
      ['trace', '--pid', String(spin.pid), '--func', 'main.main', '--duration', '1'],
      ['syscalls', '--pid', String(spin.pid), '--duration', '1'],
    ]) {
      const run = await inPrivateMounts([[modules, MODULES]], [process.execPath, cli, ...args], {}, dir);
      assert.notEqual(run.status, 0, `${args[0]}: ${run.stdout} ${run.stderr}`);
      assert.match(run.stderr, /the eBPF modes need the kernel headers, and \/lib\/modules\/\S+\/build is missing/, args[0]);
      assert.match(run.stderr, /sudo apt-get install linux-headers-\$\(uname -r\)/, args[0]);
      assert.doesNotMatch(run.stderr, /^\s+at /m, `${args[0]}: a stack trace`);
      assert.doesNotMatch(run.stderr, /^attached/m, `${args[0]}: something attached`);
      assert.ok(await eventually(() => processesIn(run.mntNs).length === 0, 30000), `${args[0]}: processes left in the namespace`);
    }
    assert.ok(isAlive(spin.pid), 'the target runs on');
    assert.ok(!hasUprobePage(spin.pid), 'no uprobe was ever hit in the target');
  });
});
