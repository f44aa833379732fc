/**
 * Test support for the eBPF suites: the tracee fixture as a child process (it prints "ready",
 * waits for SIGUSR1, works, prints "done ..."), and the CLI run as a child with its stderr
 * watched for the `attached` line. Every process started here is killed by killAll().
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../support/goToolchains';

const started = new Set<ChildProcess>();

export class LineWatcher {
  readonly lines: string[] = [];
  private waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  private buf = '';

  feed(chunk: Buffer): void {
    this.buf += chunk.toString('utf8');
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => (w.re.test(line) ? (w.resolve(line), false) : true));
    }
  }

  /** The first line (seen or to come) matching re; rejects after timeoutMs. */
  wait(re: RegExp, timeoutMs = 60000, what = String(re)): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got:\n${this.lines.join('\n')}`)), timeoutMs);
      this.waiters.push({
        re,
        resolve: (l) => {
          clearTimeout(t);
          resolve(l);
        },
      });
    });
  }
}

export interface Tracee {
  proc: ChildProcess;
  pid: number;
  out: LineWatcher;
  start(): void;
  /** The "done ..." line. */
  done(timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

export async function startTracee(binary: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Tracee> {
  const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  started.add(proc);
  const out = new LineWatcher();
  proc.stdout!.on('data', (d: Buffer) => out.feed(d));
  const exited = new Promise<number | null>((resolve) =>
    proc.on('close', (code) => {
      started.delete(proc);
      resolve(code);
    }),
  );
  await out.wait(/^ready \d+/, 30000, "the tracee's ready line");
  return {
    proc,
    pid: proc.pid!,
    out,
    start: () => {
      proc.kill('SIGUSR1');
    },
    done: (timeoutMs = 120000) => out.wait(/^done/, timeoutMs, "the tracee's done line"),
    exited,
  };
}

/**
 * Starts the tracee so that it gets PID `pid` again (a process that reuses an exited one's PID), as
 * root: the kernel gives the next fork ns_last_pid + 1. Another fork on the machine can take it
 * first; then that tracee is stopped and it is tried again.
 */
export async function startTraceeAtPid(pid: number, binary: string, args: string[]): Promise<Tracee> {
  for (let attempt = 1; ; attempt++) {
    fs.writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
    const t = await startTracee(binary, args);
    if (t.pid === pid) return t;
    t.proc.kill('SIGKILL');
    await t.exited;
    if (attempt === 100) throw new Error(`could not start a process with PID ${pid} again (100 tries; last got ${t.pid})`);
  }
}

export interface CliRun {
  proc: ChildProcess;
  stdout: LineWatcher;
  stderr: LineWatcher;
  /** Resolves with the exit code when the CLI ends. */
  exit: Promise<number | null>;
}

export const CLI = path.join(REPO_ROOT, 'out', 'src', 'cli.js');

export function startCli(args: string[]): CliRun {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(proc);
  const stdout = new LineWatcher();
  const stderr = new LineWatcher();
  proc.stdout!.on('data', (d: Buffer) => stdout.feed(d));
  proc.stderr!.on('data', (d: Buffer) => stderr.feed(d));
  const exit = new Promise<number | null>((resolve) =>
    proc.on('close', (code) => {
      started.delete(proc);
      resolve(code);
    }),
  );
  return { proc, stdout, stderr, exit };
}

/** Runs the CLI to its end and returns its exit code and output. */
export async function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = startCli(args);
  const code = await r.exit;
  // Let the pipes drain.
  await new Promise((res) => setImmediate(res));
  return { code, stdout: r.stdout.lines.join('\n'), stderr: r.stderr.lines.join('\n') };
}

export function killAll(): void {
  for (const p of started) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
  started.clear();
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
