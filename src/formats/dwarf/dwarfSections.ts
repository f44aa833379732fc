/** The DWARF sections of one binary, inflated once. Missing sections are empty arrays. */
import type { ElfFile } from '../elf';

export interface DwarfSections {
  info: Uint8Array;
  abbrev: Uint8Array;
  line: Uint8Array;
  str: Uint8Array;
  lineStr: Uint8Array;
  strOffsets: Uint8Array;
  addr: Uint8Array;
  ranges: Uint8Array;
  rnglists: Uint8Array;
  aranges: Uint8Array;
}

const EMPTY = new Uint8Array(0);

export function emptyDwarfSections(): DwarfSections {
  return {
    info: EMPTY,
    abbrev: EMPTY,
    line: EMPTY,
    str: EMPTY,
    lineStr: EMPTY,
    strOffsets: EMPTY,
    addr: EMPTY,
    ranges: EMPTY,
    rnglists: EMPTY,
    aranges: EMPTY,
  };
}

/** The binary's DWARF, or undefined when it has no .debug_info (stripped, or never built with -g). */
export function dwarfSectionsOf(elf: ElfFile): DwarfSections | undefined {
  const info = elf.sectionData('.debug_info');
  if (!info || info.length === 0) return undefined;
  const get = (n: string): Uint8Array => elf.sectionData(n) ?? EMPTY;
  return {
    info,
    abbrev: get('.debug_abbrev'),
    line: get('.debug_line'),
    str: get('.debug_str'),
    lineStr: get('.debug_line_str'),
    strOffsets: get('.debug_str_offsets'),
    addr: get('.debug_addr'),
    ranges: get('.debug_ranges'),
    rnglists: get('.debug_rnglists'),
    aranges: get('.debug_aranges'),
  };
}
