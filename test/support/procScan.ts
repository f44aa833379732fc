/**
 * The processes running now, with their argument vectors, read from /proc (independent of the
 * code under test). A process that exits while it is read is left out.
 */
import * as fs from 'node:fs';

export interface RunningProcess {
  pid: number;
  argv: string[];
}

export function runningProcesses(): RunningProcess[] {
  const out: RunningProcess[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      out.push({ pid: Number(d), argv: fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0') });
    } catch {
      /* exited */
    }
  }
  return out;
}
