/**
 * Starts the program a user picked to profile ("Profile Go process" → "Launch a binary…"): no
 * shell, its output ignored, in the workspace folder. It runs on while it is recorded and after;
 * only the extension ends it, when it deactivates (`kill()`; execa's cleanup also ends it if the
 * extension host exits without deactivating). A program that cannot start is a UserError that
 * says which command and why.
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/userError';

export interface LaunchedProgram {
  pid: number;
  /** SIGTERM, then SIGKILL if it is still running 5 s later (execa's forceKillAfterDelay). */
  kill(): void;
  /** Resolves when the program has exited, however it ended. */
  exited: Promise<void>;
}

/**
 * execvp (libuv's) runs a file the kernel refuses as ENOEXEC with /bin/sh instead: a garbage file
 * with its executable bit set would "start", fail in the shell and be reported as a process that
 * exited. What the kernel runs by itself starts with ELF's magic or a script's "#!"; anything else
 * is refused here, as execve would have. A file that cannot be executed or read is left to execa
 * to report.
 */
async function refuseUnknownFormat(file: string, cwd: string | undefined): Promise<void> {
  if (!file.includes('/')) return; // found on PATH by execvp
  const head = Buffer.alloc(4);
  let n: number;
  try {
    const where = path.resolve(cwd ?? '.', file);
    await fs.promises.access(where, fs.constants.X_OK); // not executable: execa says so (EACCES)
    const fh = await fs.promises.open(where, 'r');
    try {
      n = (await fh.read(head, 0, 4, 0)).bytesRead;
    } finally {
      await fh.close();
    }
  } catch {
    return;
  }
  const magic = head.subarray(0, n);
  if (magic.equals(ELF_MAGIC) || magic.subarray(0, 2).toString('latin1') === '#!') return;
  throw new UserError(`cannot launch ${file}: ${WHY.ENOEXEC} (ENOEXEC)`, 'pick an executable Go binary', 'launch-failed');
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** Why a program could not start, in words, for the errors execve gives most. */
const WHY: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied (is it an executable file?)',
  ENOEXEC: 'not an executable format this machine runs',
};

export async function launchProgram(file: string, args: string[], cwd: string | undefined): Promise<LaunchedProgram> {
  await refuseUnknownFormat(file, cwd);
  const child = execa(file, args, { ...(cwd !== undefined ? { cwd } : {}), stdio: 'ignore', reject: false });
  // Started: 'spawn'. Not started: no pid, and execa's result comes at once with the reason.
  const spawned = new Promise<void>((resolve) => {
    child.once('spawn', resolve);
    void child.then(() => resolve());
  });
  await spawned;
  if (child.pid === undefined) {
    const r = await child;
    const why = (r.code !== undefined ? WHY[r.code] : undefined) ?? r.originalMessage ?? r.shortMessage;
    throw new UserError(
      `cannot launch ${r.escapedCommand}: ${why}${r.code ? ` (${r.code})` : ''}`,
      'pick an executable Go binary',
      'launch-failed',
    );
  }
  return {
    pid: child.pid,
    kill: () => void child.kill(),
    exited: child.then(() => undefined),
  };
}
