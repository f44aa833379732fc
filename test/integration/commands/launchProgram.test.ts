/**
 * "Launch a binary…" starts the user's program with execa (launchProgram): with its arguments, in
 * the workspace folder, running on after it started until the extension ends it (kill(), at
 * deactivation), even one that ignores SIGTERM; a program that cannot start says which command
 * and why. The process's state is read from /proc, not from what launchProgram says.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { launchProgram } from '../../../src/commands/launchProgram';
import { UserError } from '../../../src/util/userError';

/** Alive and not a zombie, per /proc. */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

async function until<T>(what: string, ms: number, check: () => T | undefined): Promise<T> {
  for (const end = Date.now() + ms; ;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function launchError(file: string): Promise<UserError> {
  try {
    await launchProgram(file, ['--flag', 'two words'], undefined);
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${(e as Error)?.stack ?? e}`);
    assert.equal(e.code, 'launch-failed');
    assert.equal(e.hint, 'pick an executable Go binary');
    return e;
  }
  assert.fail(`${file} was launched`);
}

describe('commands: Launch a binary… starts the program with execa', function () {
  this.timeout(60_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-launch-ingest13-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('runs the program with its arguments in the folder given, and it runs on until kill()', async () => {
    const script = 'printf "%s|%s|%s" "$PWD" "$0" "$1" > args.tmp && mv args.tmp args.txt; exec sleep 600';
    const p = await launchProgram('/bin/sh', ['-c', script, 'first', 'second arg'], tmp);
    const args = await until('the program to write its arguments', 30_000, () =>
      fs.existsSync(path.join(tmp, 'args.txt')) ? fs.readFileSync(path.join(tmp, 'args.txt'), 'utf8') : undefined,
    );
    assert.equal(args, `${fs.realpathSync(tmp)}|first|second arg`);
    await until('the program to become sleep', 30_000, () =>
      fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').startsWith('sleep\0') ? true : undefined,
    );
    assert.ok(running(p.pid), 'the launched program runs on');
    p.kill();
    await p.exited;
    await until(`PID ${p.pid} to be gone`, 30_000, () => (running(p.pid) ? undefined : true));
  });

  it('kill() ends a program that ignores SIGTERM too (SIGKILL follows)', async () => {
    const p = await launchProgram('/bin/sh', ['-c', "trap '' TERM; echo > ready; exec sleep 600"], tmp);
    await until('the program to ignore SIGTERM', 30_000, () => (fs.existsSync(path.join(tmp, 'ready')) ? true : undefined));
    p.kill();
    await p.exited;
    assert.ok(!running(p.pid), `PID ${p.pid} still runs`);
  });

  it('a program that exits by itself with a failure is only gone (exited resolves)', async () => {
    const p = await launchProgram('/bin/false', [], undefined);
    await p.exited;
    assert.ok(!running(p.pid));
  });

  it('a program that cannot start says which command and why', async () => {
    const missing = path.join(tmp, 'no-such-binary');
    assert.equal((await launchError(missing)).message, `cannot launch ${missing} --flag 'two words': no such file (ENOENT)`);
    const notExecutable = path.join(tmp, 'not-executable');
    fs.writeFileSync(notExecutable, 'package main\n', { mode: 0o644 });
    assert.equal(
      (await launchError(notExecutable)).message,
      `cannot launch ${notExecutable} --flag 'two words': permission denied (is it an executable file?) (EACCES)`,
    );
    assert.match((await launchError(tmp)).message, /^cannot launch .* permission denied .*\(EACCES\)$/);
    // execvp would hand a file the kernel does not run to /bin/sh, which would "start" it.
    const garbage = path.join(tmp, 'garbage');
    fs.writeFileSync(garbage, 'not a program\n', { mode: 0o755 });
    assert.equal((await launchError(garbage)).message, `cannot launch ${garbage}: not an executable format this machine runs (ENOEXEC)`);
    const empty = path.join(tmp, 'empty');
    fs.writeFileSync(empty, '', { mode: 0o755 });
    assert.equal((await launchError(empty)).message, `cannot launch ${empty}: not an executable format this machine runs (ENOEXEC)`);
  });

  it('a script the kernel runs by itself ("#!") starts, as execve would start it', async () => {
    const script = path.join(tmp, 'wrapper.sh');
    fs.writeFileSync(script, '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 });
    const p = await launchProgram(script, [], tmp);
    await until('the script to become sleep', 30_000, () =>
      fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').startsWith('sleep\0') ? true : undefined,
    );
    p.kill();
    await p.exited;
  });
});
