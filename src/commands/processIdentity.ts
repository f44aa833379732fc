/**
 * Which process a result measured: PID, host, start time (clock ticks after boot, from
 * /proc/PID/stat, so a reused PID is told apart) and the executable's build id. A result is
 * only ever added to a profile of the same process. No vscode here.
 */
import * as fs from 'node:fs';
import type { Profile } from '../model/profile';

export interface ProcessIdentity {
  pid: number;
  host?: string;
  /** Start time in clock ticks after boot (/proc/PID/stat field 22); local processes only. */
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
