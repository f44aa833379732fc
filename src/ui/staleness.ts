/**
 * Does the profiled binary match the sources in front of the user? Pure comparisons; the
 * caller gathers git HEAD and file times. Mismatches are flagged and their heat dimmed.
 */
import type { BinaryIdentity } from '../model/profile';

export interface WorkspaceRevision {
  /** `git rev-parse HEAD` of the workspace, when it is a git checkout. */
  head?: string;
  /** True when the work tree has uncommitted changes. */
  dirty?: boolean;
}

/** Why the binary does not match the workspace as a whole, or undefined when it does (or we cannot tell). */
export function binaryMismatch(binary: BinaryIdentity | undefined, ws: WorkspaceRevision): string | undefined {
  if (!binary?.vcsRevision || !ws.head) return undefined;
  const id = binary.buildId ? ` (build id ${binary.buildId})` : '';
  if (!ws.head.startsWith(binary.vcsRevision) && !binary.vcsRevision.startsWith(ws.head)) {
    return `The profiled binary ${binary.path}${id} was built from commit ${binary.vcsRevision.slice(0, 12)}, but the workspace is at ${ws.head.slice(0, 12)}: line numbers may be off.`;
  }
  if (binary.vcsModified) {
    return `The profiled binary ${binary.path}${id} was built from a work tree with uncommitted changes (vcs.modified): line numbers may be off where those changes were.`;
  }
  return undefined;
}

/** Why one file's heat may be off: it was saved after the binary was built. */
export function fileStaleness(
  filePath: string,
  fileMtimeMs: number | undefined,
  binaryMtimeMs: number | undefined,
  binary?: BinaryIdentity,
): string | undefined {
  if (fileMtimeMs === undefined || binaryMtimeMs === undefined) return undefined;
  // Allow the second of slack that file systems and build tools disagree by.
  if (fileMtimeMs <= binaryMtimeMs + 1000) return undefined;
  const id = binary?.buildId ? ` (build id ${binary.buildId})` : '';
  return `${filePath} changed after ${binary?.path ?? 'the binary'}${id} was built: its heat is dimmed because lines may have moved.`;
}
