/**
 * Is a program safe to run as root? Only if root owns it and every folder above it, and nobody
 * else may write to any of them: otherwise whoever can write there chooses what runs as root.
 * Symbolic links are followed and the target is checked the same way (as are the links' folders).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/userError';

/** Why `file` is not safe to run as root, or undefined when it is. */
export function rootOwnedProblem(file: string): string | undefined {
  if (!path.isAbsolute(file)) return `${file} is not an absolute path`;
  if (path.normalize(file) !== file || file.includes('/proc/')) return `${file} is not a plain path`;
  const checked = new Set<string>();
  const check = (p: string): string | undefined => {
    for (let d = p; ; d = path.dirname(d)) {
      if (checked.has(d)) return undefined;
      checked.add(d);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(d);
      } catch (e) {
        return `${d} cannot be checked (${(e as NodeJS.ErrnoException).code})`;
      }
      if (st.uid !== 0) return `${d} is owned by uid ${st.uid}, not root`;
      if (!st.isSymbolicLink() && (st.mode & 0o022) !== 0) return `${d} is writable by ${st.mode & 0o002 ? 'everyone' : 'its group'}`;
      if (d === '/') return undefined;
    }
  };
  const first = check(file);
  if (first) return first;
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (e) {
    return `${file} cannot be resolved (${(e as NodeJS.ErrnoException).code})`;
  }
  return real === file ? undefined : check(real);
}

/** Throws a UserError naming `what` when `file` is not safe to run as root. */
export function checkRootOwned(file: string, what: string): void {
  const why = rootOwnedProblem(file);
  if (why) {
    throw new UserError(
      `${what} must be root-owned and writable by root only: ${why}`,
      'use /usr/bin/python3, or a Python installed by root in a folder only root can write (set it in the user or machine settings, never per workspace)',
      'untrusted-path',
    );
  }
}
