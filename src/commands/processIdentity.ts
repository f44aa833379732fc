/**
 * Which process a result measured: PID, host, start time (clock ticks after boot, from
 * /proc/PID/stat, so a reused PID is told apart) and the executable's build id. A result is
 * only ever added to a profile of the same process. No vscode here.
 */
import * as fs from 'node:fs';
import { binaryInfo, type PasswordPrompt, type Target } from '../capture';
import type { Profile } from '../model/profile';
import { UserError } from '../util/userError';

export interface ProcessIdentity {
  pid: number;
  host?: string;
  /** Start time in clock ticks after boot (/proc/PID/stat field 22), read where the process runs. */
  startTicks?: number;
  /** The executable's Go build id, else its GNU build id. */
  buildId?: string;
}

/** The start time of a local process, or undefined when it is gone. */
export function localStartTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[22 - 3]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** The build id a profile's binary is known by (Go's first, as the tracers read it). */
export function profileBuildId(p: Profile): string | undefined {
  return p.binary?.goBuildId ?? p.binary?.buildId;
}

/**
 * Whether `p` is a profile of the process `id` measured. What is unknown on either side is not
 * held against it (a pprof file has no PID), what is known must agree.
 */
export function sameProcess(p: Profile, id: ProcessIdentity): boolean {
  const t = p.target;
  if (t?.pid !== undefined && t.pid !== id.pid) return false;
  if ((t?.host ?? undefined) !== id.host && t?.pid !== undefined) return false;
  if (t?.startTicks !== undefined && id.startTicks !== undefined && t.startTicks !== id.startTicks) return false;
  const bid = profileBuildId(p);
  if (bid !== undefined && id.buildId !== undefined && bid !== id.buildId) return false;
  return true;
}

/** "PID 123", "PID 123 on host". */
export function processName(id: { pid?: number; host?: string }): string {
  return `PID ${id.pid ?? '?'}${id.host ? ` on ${id.host}` : ''}`;
}

/**
 * Why the process that now has `saved.pid` is not the one `saved` describes (a loaded profile's),
 * or undefined when nothing known disagrees. `now` undefined: no process has that PID.
 */
export function identityMismatch(saved: ProcessIdentity, now: ProcessIdentity | undefined): string | undefined {
  const who = processName(saved);
  if (!now) return `${who} of the loaded profile has exited`;
  if (saved.startTicks !== undefined && now.startTicks !== undefined && saved.startTicks !== now.startTicks)
    return `${who} is now another process than the loaded profile's (it started at clock tick ${now.startTicks} after boot, the profile's at ${saved.startTicks})`;
  if (saved.buildId && now.buildId && saved.buildId !== now.buildId)
    return `${who} now runs another program than the loaded profile's (build id ${now.buildId}, the profile's ${saved.buildId})`;
  return undefined;
}

/**
 * What identifies the process that has PID `pid` now, or undefined when none has: here, its start
 * time from /proc (the build id is checked when the tracer reads the executable); on an ssh host,
 * its start time and build id as the helper reads them there.
 */
export async function currentIdentity(
  target: Target,
  pid: number,
  opts: { askPassword?: PasswordPrompt; signal?: AbortSignal } = {},
): Promise<ProcessIdentity | undefined> {
  if (target.kind === 'local') {
    const startTicks = localStartTicks(pid);
    return startTicks === undefined ? undefined : { pid, startTicks };
  }
  try {
    const info = await binaryInfo(target, pid, opts);
    const id: ProcessIdentity = { pid, host: target.host };
    if (info.startTicks !== undefined) id.startTicks = info.startTicks;
    const buildId = info.goBuildId ?? info.gnuBuildId;
    if (buildId) id.buildId = buildId;
    return id;
  } catch (e) {
    if (e instanceof UserError && e.code === 'pid-gone') return undefined;
    throw e;
  }
}

/** The identity a loaded profile saved of the process it measured, or undefined when it names no PID. */
export function savedIdentity(p: Profile): ProcessIdentity | undefined {
  const t = p.target;
  if (t?.pid === undefined) return undefined;
  const id: ProcessIdentity = { pid: t.pid };
  if (t.host) id.host = t.host;
  if (t.startTicks !== undefined) id.startTicks = t.startTicks;
  const buildId = profileBuildId(p);
  if (buildId) id.buildId = buildId;
  return id;
}
