/**
 * What the process picker lists and in which order: processes built from this workspace first
 * (their build info's main module is one of the workspace's go.mod modules, or their executable
 * lies in a workspace folder), then by CPU use, then the youngest. CPU % is measured from
 * /proc/PID/stat (utime + stime, in clock ticks) over a short interval: here for this machine's
 * processes, by the helper on the host for a remote one's (CPU_SAMPLE_MS). No vscode import.
 */
import { readFile } from 'node:fs/promises';
import type { GoProcess } from '../capture';

export interface ListedProcess {
  process: GoProcess;
  /** Built from this workspace. */
  ownBuild: boolean;
  /** CPU use over the last measurement, % of one CPU; undefined until measured. */
  cpuPercent?: number;
}

/** Whether a process was built from one of the workspace's modules or lives in a workspace folder. */
export function isOwnBuild(p: GoProcess, modulePaths: readonly string[], folders: readonly string[]): boolean {
  if (p.modulePath && modulePaths.includes(p.modulePath)) return true;
  const exe = p.exe.replace(/ \(deleted\)$/, '');
  return folders.some((f) => exe.startsWith(f.endsWith('/') ? f : f + '/'));
}

export function orderProcesses(list: ListedProcess[]): ListedProcess[] {
  return [...list].sort(
    (a, b) =>
      Number(b.ownBuild) - Number(a.ownBuild) ||
      (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1) ||
      (a.process.uptimeSec ?? 0) - (b.process.uptimeSec ?? 0) ||
      a.process.pid - b.process.pid,
  );
}

/** How long CPU use is measured over, here or by a remote host's helper. */
export const CPU_SAMPLE_MS = 700;

/** The Linux clock tick /proc counts in (USER_HZ): 100 on every architecture Go runs on with Linux. */
const USER_HZ = 100;

/** utime + stime of a process in clock ticks, or undefined when it is gone or unreadable. */
export async function cpuTicks(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** CPU % of one CPU for each pid over `intervalMs` (pids that vanish or cannot be read are left out). */
export async function measureCpu(pids: readonly number[], intervalMs = CPU_SAMPLE_MS): Promise<Map<number, number>> {
  const before = await Promise.all(pids.map(cpuTicks));
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, intervalMs));
  const after = await Promise.all(pids.map(cpuTicks));
  const seconds = (performance.now() - t0) / 1000;
  const out = new Map<number, number>();
  pids.forEach((pid, i) => {
    const a = before[i];
    const b = after[i];
    if (a !== undefined && b !== undefined && seconds > 0) out.set(pid, (100 * (b - a)) / USER_HZ / seconds);
  });
  return out;
}

/** A typed filter that is a PID: digits only. */
export function typedPid(value: string): number | undefined {
  const v = value.trim();
  return /^\d{1,9}$/.test(v) && Number(v) > 0 ? Number(v) : undefined;
}
