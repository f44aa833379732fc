/**
 * When the helper needs no privilege: on this machine, for a user who is not root, listing and
 * reading their own processes (listing them too while the privileged helper is not installed), and CPU sampling of their own process where the kernel lets a user
 * do it (perf_event_paranoid ≤ 2). Then the helper runs as the user (no sudo, no password); the
 * result says so (hello.caller.via === 'user').
 */
import * as fs from 'node:fs';
import { helperInstalled } from './launchPlan';
import { LocalTarget, Target } from './target';

/** Subcommands a user may run on their own processes without the privileged helper. */
const USER_SUBCOMMANDS = new Set(['probe', 'binary', 'record']);

export function perfEventParanoid(): number | undefined {
  try {
    const n = Number(fs.readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Whether every uid of PID (real, effective, saved, filesystem) is `uid`. */
export function ownedBy(pid: number, uid: number): boolean {
  try {
    const line = fs
      .readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Uid:'));
    return (
      line !== undefined &&
      line
        .split(/\s+/)
        .slice(1, 5)
        .every((u) => Number(u) === uid)
    );
  } catch {
    return false;
  }
}

/** The local target to run as the user, or undefined when the privileged helper is needed. */
export function mayRunAsUser(target: Target, subcommand: string, args: Record<string, unknown>): LocalTarget | undefined {
  if (target.kind !== 'local' || typeof process.getuid !== 'function') return undefined;
  const uid = process.getuid();
  if (uid === 0 || (target.elevation !== undefined && target.elevation !== 'auto')) return undefined;
  // Listing: as the user (their own processes) unless the installed helper can show an admin more.
  if (subcommand === 'processes') return helperInstalled() ? undefined : target;
  if (!USER_SUBCOMMANDS.has(subcommand)) return undefined;
  const pid = Number(args.pid);
  if (args.pid === undefined) return subcommand === 'probe' ? target : undefined;
  if (!Number.isInteger(pid) || !ownedBy(pid, uid)) return undefined;
  if (subcommand === 'record') {
    const paranoid = perfEventParanoid();
    if (paranoid === undefined || paranoid > 2) return undefined;
  }
  return target;
}
