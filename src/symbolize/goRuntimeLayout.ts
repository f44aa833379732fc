/**
 * Offsets of runtime.g fields the goroutine-latency probe reads (goid). From the binary's DWARF
 * when it has it; for stripped binaries, from a per-version table of amd64 layouts whose rows
 * for the toolchains we have (1.19, 1.21, 1.22, 1.23) are tested against their DWARF, and
 * whose 1.17/1.18 rows follow runtime2.go of those releases (same fields before goid as 1.19).
 */
import type { ElfFile } from '../formats/elf';
import { dwarfIndexOf } from '../formats/dwarf/dwarfIndex';
import { FormatError } from '../util/byteReader';
import { UserError } from '../util/userError';
import type { GoVersion } from './goTracePlan';

/** runtime.g.goid on amd64, by Go minor version. Go 1.23 added g.syscallbp before goid. */
const GOID_OFFSET_AMD64: Record<number, number> = {
  17: 152,
  18: 152,
  19: 152,
  20: 152,
  21: 152,
  22: 152,
  23: 160,
};

/** The table's goid offset for a Go version, or undefined when the table has no row for it. */
export function goidOffsetFromTable(v: GoVersion): number | undefined {
  return v.major === 1 ? GOID_OFFSET_AMD64[v.minor] : undefined;
}

export interface FieldOffset {
  offset: number;
  source: 'dwarf' | 'table';
}

/** Offset of runtime.g.goid in this binary; a UserError when neither DWARF nor the table knows. */
export function goidOffset(elf: ElfFile, v: GoVersion): FieldOffset {
  let fromDwarf: number | undefined;
  try {
    fromDwarf = dwarfIndexOf(elf)?.structFieldOffset('runtime.g', 'goid');
  } catch (e) {
    // Unreadable DWARF is no worse than none: the table still knows the tested versions.
    if (!(e instanceof FormatError)) throw e;
  }
  if (fromDwarf !== undefined) return { offset: fromDwarf, source: 'dwarf' };
  const fromTable = goidOffsetFromTable(v);
  if (fromTable !== undefined) return { offset: fromTable, source: 'table' };
  throw new UserError(
    `cannot find runtime.g.goid: the binary has no DWARF (stripped) and ${v.text} is newer than the layouts this version knows`,
    'trace an unstripped build (without -ldflags=-w), or update Go Perf Lens',
    'no-goid-offset',
  );
}

/**
 * Offset of another runtime.g field (gopc, startpc: where a goroutine was created and what it
 * runs) from the binary's DWARF; undefined for stripped binaries (the caller goes without).
 */
export function gFieldOffsetFromDwarf(elf: ElfFile, field: string): number | undefined {
  try {
    return dwarfIndexOf(elf)?.structFieldOffset('runtime.g', field);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    return undefined;
  }
}
