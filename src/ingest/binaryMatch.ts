/**
 * Is the given binary the one that was recorded? Decided by build id: the GNU build id perf
 * keeps for the file (its build-id table — perf 6.1 writes pid −1 for every entry, user files
 * included — or MMAP2 records with build ids), and the ids the recorder read from the process
 * itself (Go's and GNU's). Different ids are refused, naming both ids and both files. Where the
 * recording holds no id for the file, the match is unchecked and the profile says so; the code
 * mappings must then at least fit the binary's segments (a rebuild of the same size passes that
 * test, which is why it is no proof).
 */
import * as fs from 'node:fs';
import { type PerfData, type PerfMmap } from '../formats/perfData';
import { parseElf } from '../formats/elf';
import { UserError } from '../util/userError';
import type { LoadedBinary } from './loadBinary';

const PAGE = 4096;
const PROT_EXEC = 4;
const CPUMODE_KERNEL = 1;

/** Build ids of the recorded executable that the recorder read from the process (not from perf.data). */
export interface RecordedIds {
  gnu?: string;
  go?: string;
}

/** How the binary was matched to the recording: by which id, or not at all (and why). */
export type BinaryMatch = { checked: true; kind: 'gnu' | 'go'; id: string } | { checked: false; reason: string };

export function isExecMmap(m: PerfMmap): boolean {
  if (m.pid === -1 || m.isData) return false;
  return m.prot === undefined || (m.prot & PROT_EXEC) !== 0;
}

export function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return false;
  }
}

/** True for a build-id table entry of a user-space file (kernel entries: cpumode kernel, or a [name]). */
export function isUserBuildIdEntry(b: { cpumode: number; filename: string }): boolean {
  return b.cpumode !== CPUMODE_KERNEL && !b.filename.startsWith('[');
}

/** The GNU build id perf recorded for `file`: from an MMAP2 record, else from its build-id table. */
export function perfBuildIdOf(d: PerfData, file: string): string | undefined {
  for (const m of d.mmaps) if (m.filename === file && m.buildId) return m.buildId;
  for (const b of d.features.buildIds) if (b.filename === file && isUserBuildIdEntry(b)) return b.buildId;
  return undefined;
}

/** The build ids of the file now at `file`, if it is there and is an ELF (to name them in errors). */
function idsOnDisk(file: string): { gnu?: string; go?: string } | undefined {
  try {
    const elf = parseElf(fs.readFileSync(file));
    const out: { gnu?: string; go?: string } = {};
    if (elf.gnuBuildId !== undefined) out.gnu = elf.gnuBuildId;
    if (elf.goBuildId !== undefined) out.go = elf.goBuildId;
    return out;
  } catch {
    return undefined;
  }
}

/**
 * Matches `bin` to the recorded `file` (the mapped file the samples fall in); throws a
 * UserError with code 'binary-mismatch' when they differ.
 */
export function matchBinary(d: PerfData, file: string, bin: LoadedBinary, recorded: RecordedIds = {}): BinaryMatch {
  const ours = { gnu: bin.elf.gnuBuildId, go: bin.elf.goBuildId };
  const refuse = (kind: string, theirs: string, mine: string | undefined): never => {
    const now = sameFile(file, bin.path) ? '' : nowAt(file);
    throw new UserError(
      `the recording is of another build than ${bin.path}: the recorded binary ${file} had ${kind} build id ${theirs}${now}, ` +
        `the given binary ${bin.path} has ${mine === undefined ? `no ${kind} build id` : `${kind} build id ${mine}`}`,
      'pass the executable the process was running (--binary PATH): a rebuilt binary does not match an older recording',
      'binary-mismatch',
    );
  };
  const gnu = perfBuildIdOf(d, file) ?? recorded.gnu;
  if (gnu !== undefined) {
    if (gnu !== ours.gnu) refuse('GNU', gnu, ours.gnu);
    checkLayout(d, file, bin);
    return { checked: true, kind: 'gnu', id: gnu };
  }
  if (recorded.go !== undefined) {
    if (recorded.go !== ours.go) refuse('Go', recorded.go, ours.go);
    checkLayout(d, file, bin);
    return { checked: true, kind: 'go', id: recorded.go };
  }
  checkLayout(d, file, bin);
  return {
    checked: false,
    reason: `the recording holds no build id for ${file} (perf keeps only GNU build ids, and Go binaries have none unless linked with -B)`,
  };
}

/** The warning a profile carries when the match is unchecked. */
export function uncheckedWarning(m: BinaryMatch, bin: LoadedBinary): string | undefined {
  return m.checked
    ? undefined
    : `that ${bin.path} is the recorded binary is unchecked: ${m.reason}; only the sizes of its code mappings were compared`;
}

/** ", now <ids> at that path" when the file at the recorded path is there and differs. */
function nowAt(file: string): string {
  const ids = idsOnDisk(file);
  if (!ids) return '';
  const parts = [ids.gnu && `GNU build id ${ids.gnu}`, ids.go && `Go build id ${ids.go}`].filter(Boolean);
  return parts.length ? ` (the file at that path now has ${parts.join(', ')})` : '';
}

/**
 * Each executable mapping of `file` must match one of the binary's PT_LOAD segments in offset
 * and size: a binary of another layout is refused even when no build id was recorded.
 */
function checkLayout(d: PerfData, file: string, bin: LoadedBinary): void {
  const text = bin.segments.filter((s) => s.flags & 1);
  // With an interpreter (PIE), the kernel first maps the whole image executable in one piece
  // and perf records only that exec mapping: its length is the image's span.
  const lo = Math.min(...bin.segments.map((s) => s.vaddr - (s.vaddr % PAGE)));
  const span = Math.max(...bin.segments.map((s) => Math.ceil((s.vaddr + s.memsz) / PAGE) * PAGE)) - lo;
  for (const m of d.mmaps) {
    if (m.filename !== file || !isExecMmap(m)) continue;
    const pgoff = Number(m.pgoff);
    const len = Number(m.len);
    const ok = text.some((s) => {
      const off0 = s.offset - (s.offset % PAGE);
      const end = s.offset + s.filesz;
      return off0 === pgoff && (Math.abs(Math.ceil(end / PAGE) * PAGE - off0 - len) < PAGE || (pgoff === 0 && Math.abs(span - len) < PAGE));
    });
    if (!ok) {
      const ids =
        [bin.elf.gnuBuildId && `GNU build id ${bin.elf.gnuBuildId}`, bin.elf.goBuildId && `Go build id ${bin.elf.goBuildId}`]
          .filter(Boolean)
          .join(', ') || 'no build id';
      throw new UserError(
        `the recording is of another binary than ${bin.path}: the code mapping of the recorded ${file} (file offset 0x${pgoff.toString(16)}, ` +
          `0x${len.toString(16)} bytes) matches none of its code segments; the recording holds no build id for ${file}${nowAt(file)}, the given binary has ${ids}`,
        'pass the executable the process was running (--binary PATH): a rebuilt binary does not match an older recording',
        'binary-mismatch',
      );
    }
  }
}
