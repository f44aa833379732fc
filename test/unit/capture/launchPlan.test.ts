import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BOOTSTRAP,
  INSTALLED_ARGV,
  LOADER,
  READY_LINE,
  SUDO,
  SUDO_PROMPT,
  initialPlan,
  installHint,
  launchEnv,
  remoteCommand,
  sudoersRule,
  withPassword,
} from '../../../src/capture/launchPlan';
import { HelperClient, Envelope } from '../../../src/capture/helperClient';
import { HELPER_VERSION, HelperMessage } from '../../../src/capture/helperProtocol';
import { rememberPassword } from '../../../src/capture/runHelper';
import { validateTarget } from '../../../src/capture/target';
import { UserError } from '../../../src/util/userError';

const PY = '/usr/bin/python3';

describe('capture: launch plans (argv, sudoers rule, remote command)', () => {
  it('the bootstrap needs no escaping inside double quotes in sh', () => {
    assert.doesNotMatch(BOOTSTRAP, /[$`"\\]/); // sh specials inside "..."
    assert.doesNotMatch(BOOTSTRAP, /\n/);
  });

  it('the sudoers rule lets a group run exactly the installed helper, isolated, with no arguments of the caller', () => {
    assert.equal(sudoersRule('ops'), '%ops ALL=(root) NOPASSWD: /usr/bin/python3 -I /usr/local/lib/go-perf-lens/helper/helper.py serve\n');
    assert.doesNotMatch(sudoersRule(), /-c|stdin|exec/);
  });

  it('local as root runs Python isolated (-I) directly; otherwise only the installed helper, through /usr/bin/sudo', () => {
    if (process.getuid?.() === 0) {
      const p = initialPlan({ kind: 'local' });
      assert.equal(p.via, 'direct');
      assert.equal(p.mode, 'ephemeral');
      assert.deepEqual([p.file, ...p.args], [PY, '-I', '-c', BOOTSTRAP]);
    }
    const plan = {
      target: { kind: 'local' as const },
      file: SUDO,
      args: ['-n', '--', ...INSTALLED_ARGV],
      via: 'sudo' as const,
      mode: 'installed' as const,
      python: PY,
    };
    const q = withPassword(plan, 'secret');
    assert.deepEqual([q.file, ...q.args], [SUDO, '-k', '-S', '-p', SUDO_PROMPT, '--', ...INSTALLED_ARGV]);
    assert.equal(q.password, 'secret');
    assert.ok(!q.args.includes('secret'), 'the password never goes into argv');
  });

  it('the launch environment carries nothing that steers Python (PYTHON*, LD_*), and ssh keeps its agent', () => {
    const env = {
      PATH: '/home/x/bin:/usr/bin',
      PYTHONPATH: '/tmp/evil',
      PYTHONSTARTUP: '/tmp/e.py',
      LD_PRELOAD: '/tmp/x.so',
      HOME: '/home/x',
      SSH_AUTH_SOCK: '/run/a',
    };
    const local = launchEnv({ target: { kind: 'local' }, file: PY, args: [], via: 'direct', mode: 'ephemeral', python: PY }, env);
    assert.deepEqual(local, { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' });
    const ssh = launchEnv(
      { target: { kind: 'ssh', host: 'h' }, file: '/usr/bin/ssh', args: [], via: 'ssh', mode: 'installed', python: PY },
      env,
    );
    assert.deepEqual(ssh, { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/home/x', SSH_AUTH_SOCK: '/run/a' });
  });

  it('ssh: /usr/bin/ssh, user options first (they win), BatchMode, then port, user, key, --, host, fixed command', () => {
    const p = initialPlan({
      kind: 'ssh',
      host: 'db-1.example',
      port: 2200,
      user: 'ops',
      identityFile: '/k/id',
      extraArgs: ['-o', 'BatchMode=no'],
    });
    assert.equal(p.file, '/usr/bin/ssh');
    assert.deepEqual(p.args.slice(0, -1), [
      '-o',
      'BatchMode=no',
      '-T',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=10',
      '-o',
      'ServerAliveInterval=15',
      '-p',
      '2200',
      '-l',
      'ops',
      '-i',
      '/k/id',
      '--',
      'db-1.example',
    ]);
    assert.equal(p.args.at(-1), remoteCommand(undefined, '-n'));
    assert.match(
      remoteCommand(undefined, '-n'),
      /exec sudo -n -- \/usr\/bin\/python3 -I \/usr\/local\/lib\/go-perf-lens\/helper\/helper.py serve/,
    );
    const q = withPassword(p, 'pw');
    assert.equal(q.args.at(-1), remoteCommand(undefined, '-S'));
    assert.equal(q.password, 'pw');
  });

  it('rejects targets that could be taken for options or shell syntax', () => {
    const bad = [
      { kind: 'ssh' as const, host: '-oProxyCommand=touch /tmp/x' },
      { kind: 'ssh' as const, host: 'a b' },
      { kind: 'ssh' as const, host: 'h', user: '-l' },
      { kind: 'ssh' as const, host: 'h', port: 70000 },
      { kind: 'ssh' as const, host: 'h', python: "/usr/bin/python3'; reboot; '" },
      { kind: 'local' as const, python: 'python3' },
    ];
    for (const t of bad)
      assert.throws(
        () => validateTarget(t),
        (e: unknown) => e instanceof UserError && e.code === 'bad-target',
        JSON.stringify(t),
      );
  });

  it('the remote command as root, run by a real sh, prints the ready line and runs the loader from stdin [root]', function () {
    assert.equal(process.getuid?.(), 0, "this test runs as root (the remote login's root branch)");
    const r = spawnSync('sh', ['-c', remoteCommand(undefined, '-n')], {
      input: "import sys;sys.stdout.write('ran '+sys.executable)\n",
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${READY_LINE}\nran ${PY}`);
    const missing = spawnSync('sh', ['-c', remoteCommand('/nonexistent/python3', '-n')], { input: '', encoding: 'utf8' });
    assert.equal(missing.status, 127);
    assert.match(missing.stderr, /\/nonexistent\/python3 is not an executable on this host/);
  });

  it('rememberPassword keeps one password per user@host, asks again after forget() and after it expires', async () => {
    let asked = 0;
    let now = 1000;
    const ask = rememberPassword(
      async (where) => {
        asked++;
        return `${where}#${asked}`;
      },
      60000,
      () => now,
    );
    assert.equal(await ask('a@one'), 'a@one#1');
    assert.equal(await ask('a@one'), 'a@one#1');
    assert.equal(await ask('a@two'), 'a@two#2', 'another host is asked, never given the first password');
    ask.forget!('a@one');
    assert.equal(await ask('a@one'), 'a@one#3');
    now += 60001;
    assert.equal(await ask('a@two'), 'a@two#4', 'expired');
    assert.equal(asked, 4);
  });

  it('the install hint names the install command', () => {
    assert.match(installHint(), /sudo go-perf-lens install-helper/);
  });
});

/** A stand-in helper: a real Python process that prints the ready line, reads LOADER, then runs `body`. */
async function runFake(body: string): Promise<{ messages: HelperMessage[]; error?: UserError; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-client-'));
  const envelope: Envelope = { v: 1, subcommand: 'fake', args: {}, files: {}, modules: {}, program: body };
  const client = new HelperClient(
    { target: { kind: 'local' }, file: PY, args: ['-I', '-c', BOOTSTRAP], via: 'direct', mode: 'ephemeral', python: PY },
    envelope,
    { tempDir: dir },
  );
  const messages: HelperMessage[] = [];
  try {
    for await (const m of client.messages()) messages.push(m);
    return { messages, dir };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { messages, error: e, dir };
  }
}

const PRELUDE =
  'import sys,json,base64,hashlib\nW=lambda **m: (sys.stdout.write(json.dumps(m)+chr(10)), sys.stdout.flush())\n' +
  `W(type='hello',protocol=1,helper='${HELPER_VERSION}',subcommand='fake',capabilities=[],pid=1,root=True,python='',pythonVersion='',tempDir='/x')\n`;

describe('capture: HelperClient over real processes', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('receives a streamed file intact and yields the result', async () => {
    const body =
      PRELUDE +
      [
        'data=bytes(range(256))*5000',
        "W(type='file',name='blob.bin',size=len(data))",
        "[W(type='chunk',name='blob.bin',data=base64.b64encode(data[i:i+70000]).decode()) for i in range(0,len(data),70000)]",
        "W(type='file-end',name='blob.bin',size=len(data),sha256=hashlib.sha256(data).hexdigest())",
        "W(type='result',data={'ok':1})",
      ].join('\n');
    const r = await runFake(body);
    dirs.push(r.dir);
    assert.equal(r.error, undefined, r.error?.message);
    const f = r.messages.find((m) => m.type === 'received-file');
    assert.ok(f && f.type === 'received-file');
    const expected = Buffer.alloc(256 * 5000);
    for (let i = 0; i < expected.length; i++) expected[i] = i % 256;
    assert.ok(fs.readFileSync(f.path).equals(expected));
    assert.deepEqual(r.messages.at(-1), { type: 'result', data: { ok: 1 } });
  });

  it('a damaged file, a non-JSON line, a bad file name: "helper-protocol"', async () => {
    const damaged =
      PRELUDE +
      "W(type='file',name='a',size=3)\nW(type='chunk',name='a',data='YWJj')\nW(type='file-end',name='a',size=3,sha256='00')\nW(type='result',data=1)";
    const junk = PRELUDE + "sys.stdout.write('not json'+chr(10))";
    const escape = PRELUDE + "W(type='file',name='../../etc/x',size=1)";
    for (const body of [damaged, junk, escape]) {
      const r = await runFake(body);
      dirs.push(r.dir);
      assert.equal(r.error?.code, 'helper-protocol', body);
    }
  });

  it('a helper that exits without a result: "helper-crashed" with its stderr', async () => {
    const r = await runFake(PRELUDE + "sys.stderr.write('boom happened'+chr(10))\nsys.exit(3)");
    dirs.push(r.dir);
    assert.equal(r.error?.code, 'helper-crashed');
    assert.match(r.error!.message, /exit code 3.*boom happened/);
  });

  it('a launcher that fails before the ready line: "launch-failed" / "python-missing"', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-client-'));
    dirs.push(dir);
    const env: Envelope = { v: 1, subcommand: 'x', args: {}, files: {}, modules: {}, program: '' };
    const missing = new HelperClient(
      {
        target: { kind: 'local' },
        file: '/nonexistent/python3',
        args: [],
        via: 'direct',
        mode: 'ephemeral',
        python: '/nonexistent/python3',
      },
      env,
      { tempDir: dir },
    );
    await assert.rejects(
      (async () => {
        for await (const _ of missing.messages()) void _;
      })(),
      (e: unknown) => e instanceof UserError && e.code === 'python-missing',
    );
    const refused = new HelperClient(
      {
        target: { kind: 'local' },
        file: 'sh',
        args: ['-c', 'echo "sudo: a password is required" >&2; exit 1'],
        via: 'sudo',
        mode: 'installed',
        python: '/usr/bin/python3',
      },
      env,
      { tempDir: dir },
    );
    await assert.rejects(
      (async () => {
        for await (const _ of refused.messages()) void _;
      })(),
      (e: unknown) => e instanceof UserError && e.code === 'sudo-password-required' && (e.hint ?? '').includes('install-helper'),
    );
  });

  it('lines before the ready line (a chatty login shell) are ignored', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-client-'));
    dirs.push(dir);
    const env: Envelope = { v: 1, subcommand: 'x', args: {}, files: {}, modules: {}, program: PRELUDE + "W(type='result',data='fine')" };
    const c = new HelperClient(
      {
        target: { kind: 'local' },
        file: 'sh',
        args: ['-c', `echo 'Welcome!'; echo '{"type":"result","data":"forged"}'; exec ${PY} -I -c "${BOOTSTRAP}"`],
        via: 'direct',
        mode: 'ephemeral',
        python: PY,
      },
      env,
      { tempDir: dir },
    );
    const got: HelperMessage[] = [];
    for await (const m of c.messages()) got.push(m);
    assert.deepEqual(got.at(-1), { type: 'result', data: 'fine' });
    void LOADER;
  });

  it('what the helper printed before messages() is read stays there (the ready line is not lost)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-client-'));
    dirs.push(dir);
    const env: Envelope = { v: 1, subcommand: 'x', args: {}, files: {}, modules: {}, program: PRELUDE + "W(type='result',data='late')" };
    // BOOTSTRAP, and a word on stderr once the ready line is out.
    const bootstrap = BOOTSTRAP.replace(
      'sys.stdout.flush();',
      "sys.stdout.flush();sys.stderr.write('ready-sent'+chr(10));sys.stderr.flush();",
    );
    assert.notEqual(bootstrap, BOOTSTRAP);
    const c = new HelperClient(
      { target: { kind: 'local' }, file: PY, args: ['-I', '-c', bootstrap], via: 'direct', mode: 'ephemeral', python: PY },
      env,
      { tempDir: dir, signal: AbortSignal.timeout(60_000) },
    );
    for (const deadline = Date.now() + 30_000; !c.stderr.includes('ready-sent');) {
      assert.ok(Date.now() < deadline, `the stand-in printed no ready line within 30 s: ${c.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const got: HelperMessage[] = [];
    for await (const m of c.messages()) got.push(m);
    assert.deepEqual(got.at(-1), { type: 'result', data: 'late' });
  });

  it("a password is written only once sudo's prompt appears: never to a launch that does not ask (a login that is root already), never twice", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-client-pw-'));
    dirs.push(dir);
    const secret = 'SECRET-pw-4711';
    const env: Envelope = { v: 1, subcommand: 'x', args: {}, files: {}, modules: {}, program: PRELUDE + "W(type='result',data='fine')" };
    // Python reads its first line on stdin as code (the loader): a password written to a launch
    // that did not ask for it, or written again after the answer, would end the run as a crash.
    const run = async (prompt: boolean): Promise<HelperMessage[]> => {
      const ask = prompt ? `printf '%s' '${SUDO_PROMPT}' >&2; IFS= read -r pw; printf '%s' "$pw" > ${dir}/answer; ` : '';
      const c = new HelperClient(
        {
          target: { kind: 'local' },
          file: 'sh',
          args: ['-c', `${ask}exec ${PY} -I -c "${BOOTSTRAP}"`],
          via: 'sudo-password',
          mode: 'ephemeral',
          python: PY,
          password: secret,
        },
        env,
        { tempDir: dir },
      );
      const got: HelperMessage[] = [];
      for await (const m of c.messages()) got.push(m);
      return got;
    };
    assert.deepEqual((await run(false)).at(-1), { type: 'result', data: 'fine' });
    assert.ok(!fs.existsSync(path.join(dir, 'answer')));
    // The prompt: the password answers it, once.
    assert.deepEqual((await run(true)).at(-1), { type: 'result', data: 'fine' });
    assert.equal(fs.readFileSync(path.join(dir, 'answer'), 'utf8'), secret);
  });
});
