/** Shared by the capture integration tests: the spin fixture, process checks, polling. */
import * as assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { BuildVariant, GoToolchain, buildGoFixture, newestGo } from '../../support/goToolchains';
import { UserError } from '../../../src/util/userError';

export interface Spinner {
  proc: ChildProcess;
  pid: number;
  bin: string;
  exited: Promise<void>;
}

/**
 * Starts the spin fixture built with `tc` and resolves once it printed its ready line. It exits
 * by itself after 5 minutes unless told otherwise, so a crashed test run leaves nothing spinning.
 */
export async function startSpin(
  tc: GoToolchain = newestGo(),
  extra: string[] = ['-exit-after-ms', '300000'],
  variant?: BuildVariant,
): Promise<Spinner> {
  const bin = buildGoFixture('spin', tc, variant);
  const proc = spawn(bin, extra, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`spin exited early (${code})`)));
  });
  return { proc, pid: proc.pid!, bin, exited };
}

/** The process state letter from /proc/PID/stat, or undefined when it does not exist. */
export function procState(pid: number): string | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  const s = procState(pid);
  return s !== undefined && s !== 'Z' && s !== 'X';
}

/** Live perf processes whose command line attaches to `pid` (-p PID). */
export function perfProcessesFor(pid: number): number[] {
  const found: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (/(^|\/)perf$/.test(argv[0] ?? '') && argv.includes('-p') && argv[argv.indexOf('-p') + 1] === String(pid) && isAlive(Number(d))) {
        found.push(Number(d));
      }
    } catch {
      /* gone */
    }
  }
  return found;
}

/** Polls `cond` every 100 ms until it holds or `limitMs` passes; returns whether it held. */
export async function eventually(cond: () => boolean, limitMs = 15000): Promise<boolean> {
  const end = Date.now() + limitMs;
  for (;;) {
    if (cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What `perf stat -e cycles true` says, independently of our helper. */
export function machineHasCycles(): boolean {
  const r = spawnSync('perf', ['stat', '-x', ',', '-e', 'cycles:u', 'true'], { stdio: ['ignore', 'ignore', 'pipe'] }).stderr.toString();
  const line = r.split('\n').find((l) => l.split(',')[2] === 'cycles:u');
  if (!line) throw new Error(`perf stat printed no cycles:u line: ${r}`);
  return !line.startsWith('<not supported>');
}

/** How many samples `perf script` reads from a perf.data (one line each with -F pid,event; -G, or a pipe-mode file's callchains would add lines). */
export function perfScriptSampleCount(file: string): number {
  const out = execFileSync('perf', ['script', '-G', '-i', file, '-F', 'pid,event'], {
    maxBuffer: 256 << 20,
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
  return out.split('\n').filter((l) => l.trim()).length;
}

/** The perf command line a perf.data's header records (`perf report --header-only`). */
export function perfCmdline(file: string): string {
  const out = execFileSync('perf', ['report', '--header-only', '-i', file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const line = out.split('\n').find((l) => l.startsWith('# cmdline :'));
  if (!line) throw new Error(`no cmdline in the header of ${file}`);
  return `${line.slice('# cmdline :'.length).trim()} `;
}

/** Whether this perf documents `--control fifo:` (perf record -h), read independently of the helper. */
export function perfHasControl(): boolean {
  const r = spawnSync('perf', ['record', '-h'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return /--control <fd:ctl-fd\[,ack-fd\] or fifo:ctl-fifo/.test(`${r.stdout}${r.stderr}`);
}

export function perfEvents(file: string): string[] {
  return execFileSync('perf', ['evlist', '-i', file], { stdio: ['ignore', 'pipe', 'ignore'] })
    .toString()
    .split('\n')
    .filter((l) => l.trim());
}

export function killSpin(s: Spinner | undefined): void {
  if (s && s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
}

/** Awaits p and checks it fails with a UserError of this code (and message); returns it. */
export async function expectUserError(p: Promise<unknown>, code: string, re?: RegExp): Promise<UserError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${(e as Error)?.stack ?? e}`);
    assert.equal(e.code, code, `code of: ${e.message}`);
    if (re) assert.match(e.message, re);
    return e;
  }
  assert.fail(`expected a UserError with code ${code}`);
}
