/**
 * The client's private temporary folders (perf.data as it streams in) are named for the process
 * that made them: go-perf-lens-capture-<pid>-XXXXXX. A client killed outright (SIGKILL) cannot
 * remove its own; the next one that starts removes those whose process is gone.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const CAPTURE_DIR_PREFIX = 'go-perf-lens-capture-';
/** Folders from before the pid was in the name are removed once this old. */
const UNNAMED_STALE_MS = 24 * 3600 * 1000;

/** Whether a process with this pid exists (EPERM: it does, it is someone else's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes this user's capture folders in `dir` whose process has exited; resolves to their paths.
 * Never touches another user's folder, nor one of a live process. Asynchronous: a killed
 * client's folder may hold a recording of hundreds of megabytes, and the caller may be the
 * extension host, whose thread every extension shares.
 */
export async function removeStaleCaptureDirs(dir = os.tmpdir(), nowMs = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = (await fs.promises.readdir(dir)).filter((n) => n.startsWith(CAPTURE_DIR_PREFIX));
  } catch {
    return [];
  }
  const uid = process.getuid?.();
  const removed: string[] = [];
  for (const name of names) {
    const full = path.join(dir, name);
    try {
      const st = await fs.promises.lstat(full);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      const m = /^go-perf-lens-capture-(\d+)-/.exec(name);
      const stale = m ? Number(m[1]) !== process.pid && !alive(Number(m[1])) : nowMs - st.mtimeMs > UNNAMED_STALE_MS;
      if (!stale) continue;
      await fs.promises.rm(full, { recursive: true, force: true });
      removed.push(full);
    } catch {
      /* gone meanwhile, or not ours to remove */
    }
  }
  return removed;
}
