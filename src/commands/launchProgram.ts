/**
 * Starts the program a user picked to profile ("Profile Go process" → "Launch a binary…"): no
 * shell, its output ignored, in the workspace folder. It runs on while it is recorded and after;
 * only the extension ends it, when it deactivates (`kill()`; execa's cleanup also ends it if the
 * extension host exits without deactivating). A program that cannot start is a UserError that
 * says which command and why.
 */
import { execa } from 'execa';
import { UserError } from '../util/userError';

export interface LaunchedProgram {
  pid: number;
  /** SIGTERM, then SIGKILL if it is still running 5 s later (execa's forceKillAfterDelay). */
  kill(): void;
  /** Resolves when the program has exited, however it ended. */
  exited: Promise<void>;
}

/** Why a program could not start, in words, for the errors execve gives most. */
const WHY: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied (is it an executable file?)',
  ENOEXEC: 'not an executable format this machine runs',
};

export async function launchProgram(file: string, args: string[], cwd: string | undefined): Promise<LaunchedProgram> {
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
