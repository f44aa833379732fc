/**
 * The executable of the process being profiled: read directly when it is local and readable,
 * else copied by the privileged helper (cached by build id). One place for every recorder
 * (perf, the eBPF sampler, the tracers), so they agree on what "not a Go program" means.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fetchBinary, type PasswordPrompt, type Target } from '../capture';
import { type LoadedBinary, loadBinaryBytes } from '../ingest/loadBinary';
import { FormatError } from '../util/byteReader';
import { UserError } from '../util/userError';
import { localStartTicks } from './processIdentity';

export interface TargetBinaryOptions {
  signal?: AbortSignal;
  askPassword?: PasswordPrompt;
  /** Where copies of remote (or unreadable) executables are cached; default defaultBinaryCacheDir(). */
  binaryCacheDir?: string;
}

export function defaultBinaryCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'go-perf-lens', 'binaries');
}

export interface TargetExecutable {
  bytes: Uint8Array;
  /** The executable's path, or the cached copy's. */
  path: string;
  /** The process's start time (clock ticks after boot), read where it runs: with the PID, which process this is. */
  startTicks?: number;
}

/** The bytes of /proc/PID/exe, where they came from, and the process's start time. */
export async function readTargetExecutable(target: Target, pid: number, opts: TargetBinaryOptions = {}): Promise<TargetExecutable> {
  if (target.kind === 'local') {
    const link = `/proc/${pid}/exe`;
    const startTicks = localStartTicks(pid);
    try {
      // Asynchronous reads: on the extension host a large executable would hold every extension.
      const bytes = await fs.promises.readFile(link);
      let where = link;
      try {
        where = (await fs.promises.readlink(link)).replace(/ \(deleted\)$/, '');
      } catch {
        /* keep /proc path */
      }
      return startTicks === undefined ? { bytes, path: where } : { bytes, path: where, startTicks };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH')
        throw new UserError(`no process with PID ${pid}`, 'check the PID (it may have exited)', 'pid-gone');
      // EACCES: someone else's process; the privileged helper can read it.
    }
  }
  const got = await fetchBinary(target, pid, opts.binaryCacheDir ?? defaultBinaryCacheDir(), {
    signal: opts.signal,
    askPassword: opts.askPassword,
  });
  const exe: TargetExecutable = { bytes: await fs.promises.readFile(got.path), path: got.path };
  if (got.info.startTicks !== undefined) exe.startTicks = got.info.startTicks;
  return exe;
}

/** The executable of PID `pid` (readTargetExecutable's), opened for symbolization; a non-Go (or unreadable) one is a clear not-go UserError. */
export function openTargetBinary(bytes: Uint8Array, exePath: string, pid: number): LoadedBinary {
  const exe = { bytes, path: exePath };
  let bin: LoadedBinary;
  try {
    bin = loadBinaryBytes(exe.bytes, exe.path);
  } catch (e) {
    if (e instanceof FormatError || e instanceof UserError) {
      throw new UserError(
        `PID ${pid} (${exe.path}) is not a Go program we can read: ${e.message}`,
        'pass the PID of a Go process',
        'not-go',
      );
    }
    throw e;
  }
  if (!bin.info.goVersion && !bin.elf.section('.gopclntab')) {
    throw new UserError(
      `PID ${pid} (${exe.path}) is not a Go program: its executable has no Go build information`,
      'pass the PID of a Go process',
      'not-go',
    );
  }
  return bin;
}
