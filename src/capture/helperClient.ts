/**
 * Starts one helper run (a LaunchPlan + an envelope) and yields its typed messages. Streamed
 * files are written into the caller's private directory chunk by chunk (a `received-chunk`
 * message after each) and checked (size and sha256) before a `received-file` message names
 * them. Cancellation: a stop line and EOF on stdin first (the helper stops perf and cleans up),
 * then SIGTERM, then SIGKILL to the whole process group (ours is detached; for ssh, ssh's exit
 * makes sshd close the remote side).
 */
import type { ChildProcess } from 'node:child_process';
import { execa } from 'execa';
import { UserError } from '../util/userError';
import { decodeHere, protocolError } from './helperOutput';
import { HELPER_VERSION, HelperMessage } from './helperProtocol';
import { LaunchPlan, LOADER, SUDO_PROMPT, installHint, launchEnv, whereLabel } from './launchPlan';

export interface Envelope {
  v: number;
  subcommand: string;
  args: Record<string, unknown>;
  files: Record<string, string>;
  /** The helper package's modules by dotted name, imported from memory by `program`. */
  modules: Record<string, string>;
  /** envelope_loader.py's text. */
  program: string;
}

export interface HelperClientOptions {
  /** Where streamed files go (a private directory the caller owns), or a function making it on first use. */
  tempDir: string | (() => string);
  signal?: AbortSignal;
  /** Wait between the stop request, SIGTERM and SIGKILL (default 3000 ms each). */
  graceMs?: number;
}

/**
 * One helper run as its callers use it, wherever its process was started and is read: a
 * HelperClient on this thread, or one on the ingest worker (RunElsewhere in runHelper.ts).
 */
export interface HelperProcess {
  /** The launched process (python, sudo, pkexec or ssh), leader of its own process group; undefined until known. */
  readonly pid: number | undefined;
  /** Asks the helper to finish early, keeping what it has (a record returns a shorter perf.data). */
  stop(): void;
  /** Cancels: stop + EOF on stdin, then SIGTERM, then SIGKILL to the process group. */
  cancel(): void;
  /** Resolves when the process has exited. */
  exit(): Promise<HelperExit>;
  /** The helper's messages, in order (HelperClient.messages); can be iterated once. */
  messages(): AsyncIterable<HelperMessage>;
}

export interface HelperExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const STDERR_KEEP = 16 * 1024;

export class HelperClient implements HelperProcess {
  /** Started with execa: no shell, exactly launchEnv's environment, its own process group. */
  private readonly child: ChildProcess;
  private stderrText = '';
  /** Why the process could not be started (code ENOENT: not installed), from execa's result. */
  private spawnError: { code: string | undefined; message: string } | undefined;
  private exited = false;
  private cancelled = false;
  private wrongPassword = false;
  private passwordSent = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly exitInfo: Promise<HelperExit>;
  private readonly onAbort = (): void => this.cancel();
  private consumed = false;

  constructor(
    readonly plan: LaunchPlan,
    private readonly envelope: Envelope,
    private readonly opts: HelperClientOptions,
  ) {
    if (opts.signal?.aborted) throw cancelledError();
    const child = execa(plan.file, plan.args, {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false, // the messages are read as they come (lines()), stderr's tail below
      detached: true, // own process group: cancel can signal the whole tree
      cwd: '/', // nothing of the caller's folder can be imported or read
      env: launchEnv(plan),
      extendEnv: false, // exactly launchEnv: nothing else of the caller's environment
      reject: false,
    });
    this.child = child;
    // execa's result comes once the process has exited and its output ended (ChildProcess's
    // 'close'); a process that never started (no pid) carries the reason, ENOENT when missing.
    this.exitInfo = child.then((r) => {
      this.exited = true;
      if (child.pid === undefined) this.spawnError = { code: r.code, message: r.originalMessage ?? r.shortMessage ?? 'could not start' };
      return { code: r.exitCode ?? null, signal: r.signal ?? null };
    });
    void this.exitInfo.then(() => this.finish());
    // Held until messages() reads it: execa resumes an output nobody reads yet (buffer: false),
    // and the lines that flowed by then (the ready line) would be lost.
    this.child.stdout!.pause();
    this.child.stdin!.on('error', () => {
      /* the helper exited first: EPIPE is expected */
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderrText = (this.stderrText + d.toString('utf8')).slice(-STDERR_KEEP);
      if (plan.password !== undefined && /Sorry, try again|incorrect password/i.test(this.stderrText) && !this.wrongPassword) {
        // sudo would read its next attempt from stdin: never let it; stop now.
        this.wrongPassword = true;
        this.killGroup('SIGKILL');
      } else if (plan.password !== undefined && !this.passwordSent && this.stderrText.includes(SUDO_PROMPT)) {
        // Only now, once sudo itself asks: before, the line could reach a Python (a login that
        // is root already) as code, or a host that merely claims to want a password.
        this.passwordSent = true;
        this.child.stdin!.write(`${plan.password}\n`);
      }
    });
    opts.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The pid of the launched process (python, sudo, pkexec or ssh), leader of its own process group. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The helper's stderr so far (its last 16 KiB), for diagnostics. */
  get stderr(): string {
    return this.stderrText.split(SUDO_PROMPT).join('');
  }

  /** Asks the helper to finish early, keeping what it has (a record returns a shorter perf.data). */
  stop(): void {
    if (!this.exited && this.child.stdin!.writable) this.child.stdin!.write('{"cmd":"stop"}\n');
  }

  /** Cancels: stop + EOF on stdin, then SIGTERM, then SIGKILL to the process group. */
  cancel(): void {
    if (this.exited || this.cancelled) return;
    this.cancelled = true;
    this.stop();
    this.child.stdin!.end();
    const grace = this.opts.graceMs ?? 3000;
    this.timers.push(
      setTimeout(() => {
        this.killGroup('SIGTERM');
        this.timers.push(setTimeout(() => this.killGroup('SIGKILL'), grace));
      }, grace),
    );
  }

  /** Resolves when the process has exited. */
  async exit(): Promise<HelperExit> {
    return this.exitInfo;
  }

  private finish(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.opts.signal?.removeEventListener('abort', this.onAbort);
  }

  private killGroup(sig: NodeJS.Signals): void {
    if (this.exited || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, sig);
    } catch {
      try {
        this.child.kill(sig);
      } catch {
        /* gone */
      }
    }
  }

  /**
   * The helper's messages, in order; ends after `result` or `error` (an `error` message is
   * yielded, not thrown: runHelper turns it into a UserError). Throws a UserError when the helper
   * could not be started or stopped without a result, and code "cancelled" after cancel().
   * Breaking out of the loop cancels the helper.
   */
  async *messages(): AsyncGenerator<HelperMessage> {
    if (this.consumed) throw new Error('HelperClient.messages() can be iterated once');
    this.consumed = true;
    let ready = false;
    let terminal = false;
    const where = whereLabel(this.plan);
    const items = decodeHere(this.child.stdout! as AsyncIterable<Buffer>, { dir: this.opts.tempDir, where });
    try {
      for await (const m of items) {
        switch (m.type) {
          case 'ready':
            if (m.ephemeral) {
              // The program goes only to a Python that runs as root already (see launchPlan).
              if (this.plan.mode !== 'ephemeral' && this.plan.target.kind === 'local')
                throw protocolError('the ephemeral ready line where the installed helper was started');
              this.child.stdin!.write(`${LOADER}\n${JSON.stringify(this.envelope)}\n`);
            } else {
              const { v, subcommand, args } = this.envelope;
              this.child.stdin!.write(`${JSON.stringify({ v, client: HELPER_VERSION, subcommand, args })}\n`);
            }
            ready = true;
            break;
          case 'error':
            // After cancel(), whatever went wrong next (perf killed before it could write,
            // say) is a consequence of the cancel: report that, not the symptom.
            if (this.cancelled) throw cancelledError();
            terminal = true;
            yield m;
            break;
          case 'result':
            terminal = true;
            yield m;
            break;
          default:
            yield m;
        }
      }
      const exit = await this.exitInfo;
      if (this.cancelled) throw cancelledError();
      if (!terminal) throw this.failure(ready, exit.code, exit.signal);
    } finally {
      if (!this.exited) this.cancel();
    }
  }

  /** Why the helper gave no result: the launcher's failure (sudo, ssh, python) or a crash. */
  private failure(ready: boolean, code: number | null, signal: NodeJS.Signals | null): UserError {
    const err = this.stderr.trim();
    const tail = err.split('\n').slice(-4).join(' / ').slice(0, 600);
    const where = whereLabel(this.plan);
    const plan = this.plan;
    const sudoHint = installHint();
    if (this.spawnError) {
      const e = this.spawnError;
      if (e.code === 'ENOENT') {
        if (plan.via === 'ssh' || plan.via === 'ssh-sudo-password')
          return new UserError('ssh is not installed on this machine', 'install it: sudo apt-get install openssh-client', 'ssh-missing');
        if (plan.via.startsWith('sudo'))
          return new UserError('sudo is not installed on this machine', `run as root, or install sudo and ${sudoHint}`, 'sudo-missing');
        if (plan.via === 'pkexec')
          return new UserError(
            'pkexec is not installed on this machine',
            'install policykit-1, use sudo, or run as root',
            'pkexec-missing',
          );
        return new UserError(
          `${plan.python} is not installed on this machine`,
          'install python3, or set the Python path in the settings',
          'python-missing',
        );
      }
      return new UserError(`cannot start ${plan.file}: ${e.message}`, undefined, 'launch-failed');
    }
    if (!ready) {
      if (this.wrongPassword || /Sorry, try again|incorrect password/i.test(err)) {
        return new UserError(`sudo on ${where} did not accept the password`, 'try again with the right password', 'sudo-wrong-password');
      }
      if (/a password is required/i.test(err)) {
        return new UserError(`sudo on ${where} needs a password and none could be asked for`, sudoHint, 'sudo-password-required');
      }
      if (/not in the sudoers file|not allowed to (execute|run)|may not run sudo|is not allowed/i.test(err)) {
        return new UserError(`sudo on ${where} refused to start the helper: ${tail}`, sudoHint, 'sudo-refused');
      }
      if (/no password was provided|no tty present|a terminal is required/i.test(err)) {
        return new UserError(`sudo on ${where} needs a password: ${tail}`, sudoHint, 'sudo-password-required');
      }
      if (/the helper is not installed on this host/.test(err)) {
        return new UserError(
          `the go-perf-lens helper is not installed on ${where}`,
          `install it there: "go-perf-lens install-helper" as root on that host (or "Set up this machine for profiling"); ${installHint()}`,
          'helper-not-installed',
        );
      }
      if (/python3 was not found|is not an executable on this host/.test(err) || (code === 127 && /python/i.test(err))) {
        return new UserError(
          `Python 3 is missing on ${where}: ${tail}`,
          'install python3 there (apt-get install python3), or set the Python path',
          'python-missing',
        );
      }
      if (/sudo: (command )?not found|sudo: not found/.test(err)) {
        return new UserError(
          `sudo is not installed on ${where}`,
          'log in as root (user "root" in the target), or install sudo there',
          'sudo-missing',
        );
      }
      if (plan.via === 'pkexec' && (code === 126 || code === 127)) {
        return new UserError(
          'pkexec did not authorize the helper (dismissed or not allowed)',
          'try again, or use sudo / run as root',
          'pkexec-refused',
        );
      }
      if ((plan.via === 'ssh' || plan.via === 'ssh-sudo-password') && code === 255) return sshError(where, err, tail);
    }
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    if (!ready)
      return new UserError(`the helper could not be started on ${where} (${how}): ${tail || 'no output'}`, undefined, 'launch-failed');
    return new UserError(`the helper on ${where} stopped without a result (${how})${tail ? `: ${tail}` : ''}`, undefined, 'helper-crashed');
  }
}

function sshError(where: string, err: string, tail: string): UserError {
  if (/Permission denied|Too many authentication failures|no mutual signature|Authentication failed/i.test(err)) {
    return new UserError(
      `ssh could not log in to ${where}: ${tail}`,
      'ssh runs with BatchMode=yes (no password prompts): set up a key (ssh-copy-id) or an agent, and check the user name',
      'ssh-auth',
    );
  }
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(err)) {
    return new UserError(
      `ssh does not trust the host key of ${where}`,
      `connect once with "ssh ${where}" to check and accept its key`,
      'ssh-hostkey',
    );
  }
  if (
    /Connection refused|timed out|No route to host|Could not resolve|Name or service not known|Network is unreachable|Connection closed|Connection reset|port \d+:/i.test(
      err,
    )
  ) {
    return new UserError(
      `cannot reach ${where} over ssh: ${tail}`,
      'check the host name, port and network (and that sshd runs there)',
      'ssh-unreachable',
    );
  }
  return new UserError(`ssh to ${where} failed: ${tail || 'exit code 255'}`, 'try "ssh HOST true" in a terminal to see why', 'ssh-failed');
}

export function cancelledError(): UserError {
  return new UserError('cancelled', undefined, 'cancelled');
}
