/**
 * CPU sampling of a command we start ourselves, with the user's own `perf record` and no helper:
 * Linux lets an unprivileged user sample their own processes' user space when
 * kernel.perf_event_paranoid ≤ 2 (root may always). Used for benchmarks and tests, whose test
 * binary is our child from its first instruction to its exit.
 */
import * as fs from 'node:fs';
import { execa } from 'execa';
import { UserError } from '../util/userError';

const PERF_PATHS = ['/usr/bin/perf', '/usr/sbin/perf', '/usr/local/bin/perf'];
const NO_PMU_REASON = 'cycles is not supported on this machine (no hardware PMU; virtual machine?)';

export interface OwnPerfPlan {
  perf: string;
  event: 'cycles:u' | 'cpu-clock';
  fallbackReason?: string;
}

/** kernel.perf_event_paranoid, or undefined when it cannot be read. */
export function readParanoid(): number | undefined {
  try {
    const n = Number(fs.readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function findPerf(): string | undefined {
  return PERF_PATHS.find((p) => fs.existsSync(p));
}

/** `perf stat -e EVENT true`: whether the event opens here (a VM has no cycles). */
async function eventOpens(perf: string, event: string): Promise<boolean> {
  const r = await execa(perf, ['stat', '-x', ',', '-e', event, '--', 'true'], { timeout: 10_000, reject: false, stdin: 'ignore' });
  const line = r.stderr.split('\n').find((l) => l.split(',')[2] === event);
  return !r.failed && line !== undefined && !line.startsWith('<not supported>');
}

/**
 * Whether this user may sample their own processes here, and with which event; a UserError
 * saying what to do when not (no perf, or a paranoid level above 2 for a non-root user).
 */
export async function planOwnProcessPerf(): Promise<OwnPerfPlan> {
  const perf = findPerf();
  if (!perf)
    throw new UserError(
      'perf is not installed',
      'install it: sudo apt-get install linux-perf (Debian) or linux-tools-$(uname -r) (Ubuntu)',
      'perf-missing',
    );
  const paranoid = readParanoid();
  const root = process.getuid?.() === 0;
  if (!root && (paranoid === undefined || paranoid > 2)) {
    throw new UserError(
      `this kernel does not let users profile their own processes (kernel.perf_event_paranoid is ${paranoid ?? 'unreadable'}; 2 or less is needed)`,
      'allow it with: sudo sysctl kernel.perf_event_paranoid=2 (or profile as root)',
      'perf-not-allowed',
    );
  }
  if (await eventOpens(perf, 'cycles:u')) return { perf, event: 'cycles:u' };
  return { perf, event: 'cpu-clock', fallbackReason: NO_PMU_REASON };
}

export interface RecordedCommand {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The command's stdout (perf passes it through) and perf's and the command's stderr. */
  stdout: string;
  stderr: string;
}

export interface RecordCommandOptions {
  cwd: string;
  freqHz?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/**
 * `perf record -g --call-graph fp` of `argv` from its start to its exit, into `outFile`.
 * Cancelling kills perf and the command (their process group) and rejects with 'cancelled'.
 */
export async function recordCommand(
  plan: OwnPerfPlan,
  argv: string[],
  outFile: string,
  opts: RecordCommandOptions,
): Promise<RecordedCommand> {
  const args = [
    'record',
    '-q',
    '-g',
    '--call-graph',
    'fp',
    '-F',
    String(opts.freqHz ?? 999),
    '-e',
    plan.event,
    '-o',
    outFile,
    '--',
    ...argv,
  ];
  if (opts.signal?.aborted) throw new UserError('cancelled', undefined, 'cancelled');
  const sub = execa(plan.perf, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    extendEnv: false,
    stdin: 'ignore',
    detached: true, // its own process group: a cancel stops the command too, not only perf
    maxBuffer: 256 << 20,
    stripFinalNewline: false,
    reject: false,
  });
  // execa's cancelSignal would signal perf alone, and the command it started would run on.
  const onAbort = (): void => {
    try {
      process.kill(-sub.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const r = await sub;
    if (opts.signal?.aborted) throw new UserError('cancelled', undefined, 'cancelled');
    if (r.exitCode === undefined && r.signal === undefined)
      throw new UserError(`cannot start ${plan.perf}: ${r.originalMessage ?? r.shortMessage}`, undefined, 'perf-failed');
    return { exitCode: r.exitCode ?? null, signal: (r.signal as NodeJS.Signals | undefined) ?? null, stdout: r.stdout, stderr: r.stderr };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
