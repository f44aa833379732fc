/**
 * Syscall call sites as a Go programmer reads them: each recorded stack is charged to its first
 * frame in the user's own code (runtime, syscall and standard-library frames folded into "via"),
 * and the runtime's idle waits — futex, nanosleep, epoll and sched_yield made by the scheduler
 * and the netpoller, with no user frame on the stack or only a parked goroutine's below the
 * scheduler — are told apart, so they can be hidden.
 * Pure: no vscode import.
 */
import type { SyscallStat } from '../model/profile';
import type { CodeKinds } from './codeKind';

export interface SiteFrame {
  function: string;
  /** As recorded: a full path (new sessions) or a base name (older ones). */
  file: string;
  line1: number;
}

export interface SyscallSite {
  /** The first frame of the user's code (else of another module, else the outermost known frame). */
  at: SiteFrame | undefined;
  /** The frames between the syscall and `at`, innermost first, folded. */
  via: string[];
  count: number;
  /** No frame outside the runtime: a wait of the scheduler, the GC or the netpoller. */
  runtimeOnly: boolean;
}

/** Syscalls the runtime makes to sleep, park threads or poll the network. */
export const IDLE_WAIT_SYSCALLS: ReadonlySet<string> = new Set([
  'futex',
  'nanosleep',
  'clock_nanosleep',
  'epoll_wait',
  'epoll_pwait',
  'epoll_pwait2',
  'sched_yield',
  'pselect6',
  'select',
  'poll',
  'ppoll',
]);

/**
 * Frames of the scheduler and of idle threads: a stack through one of them is a thread waiting
 * for work (mcall switched to the scheduler's stack; the goroutine below it is merely parked), so
 * the frames of user code under it did not make the syscall.
 */
const SCHEDULER_FRAMES: ReadonlySet<string> = new Set([
  'runtime.mcall',
  'runtime.schedule',
  'runtime.findRunnable',
  'runtime.findrunnable',
  'runtime.park_m',
  'runtime.stopm',
  'runtime.notesleep',
  'runtime.notetsleep',
  'runtime.notetsleepg',
  'runtime.startm',
  'runtime.wakep',
  'runtime.netpoll',
  'runtime.sysmon',
  'runtime.goschedImpl',
  'runtime.gosched_m',
  'runtime.gopreempt_m',
  'runtime.mPark',
  'runtime.gcBgMarkWorker',
]);

/** "main.handle (/src/main.go:12)" → its parts. */
export function parseSiteFrame(text: string): SiteFrame | undefined {
  const m = /^(.*) \((.*):(\d+)\)$/.exec(text);
  return m ? { function: m[1]!, file: m[2]!, line1: Number(m[3]) } : undefined;
}

export function syscallSites(stat: SyscallStat, kinds: CodeKinds): SyscallSite[] {
  return (stat.topSites ?? []).map((site) => {
    const all = site.frames.map((f) => ({ text: f, parsed: parseSiteFrame(f) }));
    // Up to the scheduler, if the stack goes through it: what lies beyond is a parked goroutine.
    const sched = all.findIndex((f) => SCHEDULER_FRAMES.has(f.parsed?.function ?? f.text));
    const frames = sched >= 0 ? all.slice(0, sched + 1) : all;
    const kindOf = (f: (typeof frames)[number]): string => kinds.kindOf(f.parsed?.function ?? f.text);
    let i = frames.findIndex((f) => kindOf(f) === 'mine');
    if (i < 0) i = frames.findIndex((f) => kindOf(f) === 'other');
    if (i < 0) i = frames.findIndex((f) => kindOf(f) === 'std');
    const runtimeOnly = frames.every((f) => kindOf(f) === 'runtime');
    return {
      at: i >= 0 ? frames[i]!.parsed : undefined,
      via: frames.slice(0, Math.max(i, 0)).map((f) => f.parsed?.function ?? f.text),
      count: site.count,
      runtimeOnly,
    };
  });
}

/** An idle wait of the runtime: an idle-wait syscall whose recorded sites (if any) all lie in the runtime. */
export function isRuntimeIdleWait(stat: SyscallStat, kinds: CodeKinds): boolean {
  if (!IDLE_WAIT_SYSCALLS.has(stat.name)) return false;
  const sites = syscallSites(stat, kinds);
  return sites.length === 0 || sites.every((s) => s.runtimeOnly || s.at === undefined);
}
