/** Shared by the capture integration tests: the spin fixture, process checks, polling. */
import * as assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BuildVariant, GoToolchain, buildGoFixture, newestGo } from '../../support/goToolchains';
import { runningProcesses } from '../../support/procScan';
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
  return runningProcesses()
    .filter(
      ({ pid: p, argv }) =>
        /(^|\/)perf$/.test(argv[0] ?? '') && argv.includes('-p') && argv[argv.indexOf('-p') + 1] === String(pid) && isAlive(p),
    )
    .map(({ pid: p }) => p);
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

/**
 * CPU time (ns) the process's live threads have used so far: the sum of their
 * /proc/PID/task/TID/schedstat (exact, unlike the clock ticks of /proc/PID/stat).
 */
export function cpuNs(pid: number): number {
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* the thread exited */
    }
  }
  return ns;
}

/** Resolves once the process has used `ms` more milliseconds of CPU than now: a condition, however loaded the machine. */
export async function usedCpu(pid: number, ms: number, limitMs = 120000): Promise<void> {
  const start = cpuNs(pid);
  assert.ok(await eventually(() => cpuNs(pid) - start >= ms * 1e6, limitMs), `PID ${pid} used ${ms} ms of CPU`);
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

/** What test/support/helperClientMain.ts prints: the helper's result or its error. */
export interface ClientReply {
  ok: boolean;
  hello?: { pid: number; tempDir: string; caller?: { uid: number; via: string } };
  result?: Record<string, unknown>;
  files?: string[];
  filePaths?: Record<string, string>;
  progress?: string[];
  error?: { code: string; message: string; hint?: string };
}

/** Where the helper looks for perf, in its order (PERF_PATHS in bpf/perflens_helper/perf_tools.py). */
const HELPER_PERF_PATHS = ['/usr/bin/perf', '/usr/sbin/perf', '/usr/local/bin/perf'];

/** A `record` run by the helper through a perf that is slow to start (startRecordWithSlowPerf). */
export interface SlowPerfRecord {
  /** The client's reply, once the helper has finished. */
  reply: Promise<ClientReply>;
  /** What the wrapper logged, a line per step: `waiting PID SLEEP_PID ARGS…` when a `perf record -p`
   * began its delay, then `attaching PID` (it execs perf) or `interrupted PID` (a signal ended it). */
  log(): string[];
  /** Resolves once a `perf record -p` waits in the wrapper (so perf has not started). */
  waiting(): Promise<void>;
  /** Makes the client ask the helper to stop (HelperClient.stop()). */
  stop(): void;
  /** The run's folder (the wrapper, its log, the received files): the caller removes it. */
  dir: string;
}

/**
 * Runs the helper's `record` with `args` through the real client code (helperClientMain, in a
 * child node) inside a private mount namespace (`unshare --mount`, propagation private), where
 * the perf the helper runs (the first of its fixed paths) is a wrapper bind-mounted over it: for
 * `perf record … -p …` it logs, waits `delaySec` seconds ('until-signalled': until a signal ends
 * it, a perf that never gets to attach), then execs the real perf (bind-mounted at DIR/real/perf,
 * so perf's argv[0] still ends in /perf). Nothing outside the namespace changes, and the helper
 * runs exactly what it always does: its own fixed path.
 */
export function startRecordWithSlowPerf(args: Record<string, unknown>, delaySec: number | 'until-signalled'): SlowPerfRecord {
  const perf = HELPER_PERF_PATHS.find((p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  assert.ok(perf, `no perf at any of ${HELPER_PERF_PATHS.join(', ')}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-slowperf-'));
  assert.match(dir, /^[\w./-]+$/, 'a folder name the wrapper script can hold unquoted');
  const real = path.join(dir, 'real', 'perf');
  fs.mkdirSync(path.dirname(real));
  fs.writeFileSync(real, ''); // the mount point of the real perf, inside the namespace only
  const log = path.join(dir, 'wrapper.log');
  const wrapper = path.join(dir, 'perf');
  fs.writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      '# A test stand-in for perf (captureSupport.ts startRecordWithSlowPerf): `perf record -p` starts late.',
      'case " $* " in',
      '*" record "*" -p "*)',
      `  sleep ${delaySec === 'until-signalled' ? 3600 : delaySec} & w=$!`,
      `  trap 'kill "$w" 2>/dev/null; echo "interrupted $$" >> ${log}; exit 130' INT TERM`,
      `  echo "waiting $$ $w $*" >> ${log}`,
      '  wait "$w"',
      '  trap - INT TERM',
      `  echo "attaching $$" >> ${log} ;;`,
      'esac',
      `exec ${real} "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const out = path.join(dir, 'received');
  fs.mkdirSync(out, { mode: 0o700 });
  const client = path.join(__dirname, '..', '..', 'support', 'helperClientMain.js');
  const req = { target: { kind: 'local' }, subcommand: 'record', args, tempDir: out, stopOnInput: true };
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      'mount --bind "$1" "$2" && mount --bind "$3" "$1" && shift 3 && exec "$@"',
      'sh',
      perf,
      real,
      wrapper,
      process.execPath,
      client,
      JSON.stringify(req),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let settled = false;
  const reply = new Promise<ClientReply>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      settled = true;
      const line = stdout.trim().split('\n').pop() ?? '';
      if (!line.startsWith('{')) reject(new Error(`the client in the namespace printed no reply (exit ${code}): ${stdout} ${stderr}`));
      else resolve(JSON.parse(line) as ClientReply);
    });
  });
  reply
    .finally(() => {
      // The wrapper's sleep outlives a wrapper that was SIGKILLed; and the namespace left nothing behind.
      for (const l of readLog()) {
        const sleeper = Number(l.split(' ')[2]);
        if (l.startsWith('waiting ') && isAlive(sleeper) && fs.readFileSync(`/proc/${sleeper}/cmdline`, 'utf8').startsWith('sleep')) {
          process.kill(sleeper, 'SIGKILL');
        }
      }
    })
    .catch(() => undefined);
  function readLog(): string[] {
    return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  }
  return {
    reply: reply.then((r) => {
      assert.ok(
        !fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${perf} `),
        `${perf} is not mounted over outside the namespace`,
      );
      return r;
    }),
    log: readLog,
    async waiting() {
      assert.ok(
        await eventually(() => settled || readLog().some((l) => l.startsWith('waiting ')), 60000),
        'a perf record waits in the wrapper',
      );
      assert.ok(!settled, `the helper ended before perf record reached the wrapper: ${stdout} ${stderr}`);
    },
    stop() {
      child.stdin.write('stop\n');
    },
    dir,
  };
}
