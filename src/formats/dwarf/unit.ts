/**
 * Unit headers of .debug_info (DWARF 2–5) and attribute values: how to read or skip each form,
 * and how to resolve the indirect ones (strx, addrx) through the unit's bases.
 */
import { ByteReader, FormatError, cstringAt } from '../../util/byteReader';
import type { AbbrevTable } from './abbrev';
import * as C from './constants';
import type { DwarfSections } from './dwarfSections';

export interface UnitHeader {
  /** Offset of the unit header in .debug_info. */
  offset: number;
  /** Offset of the first DIE. */
  dieOffset: number;
  /** Offset one past the unit. */
  end: number;
  version: number;
  unitType: number;
  addrSize: number;
  offsetSize: number;
  abbrevOffset: number;
  abbrevs?: AbbrevTable;
  /** Bases from the unit DIE (DWARF 5); 0 when absent. */
  strOffsetsBase: number;
  addrBase: number;
  rnglistsBase: number;
  /** The unit DIE's low_pc: the base address for ranges and location lists. */
  baseAddress: number;
}

/** Every unit header in .debug_info, in order. */
export function parseUnitHeaders(info: Uint8Array): UnitHeader[] {
  const r = new ByteReader(info, '.debug_info');
  const units: UnitHeader[] = [];
  while (r.remaining > 0) {
    const offset = r.pos;
    let length = r.u32();
    let offsetSize = 4;
    if (length === 0xffffffff) {
      length = r.u64n();
      offsetSize = 8;
    } else if (length >= 0xfffffff0) {
      r.fail(`reserved unit length 0x${length.toString(16)}`, offset);
    }
    const start = r.pos;
    if (length > r.remaining) r.fail(`unit length 0x${length.toString(16)} runs past the section end`, offset);
    const end = start + length;
    const version = r.u16();
    if (version < 2 || version > 5) r.fail(`unsupported DWARF version ${version}`, start);
    let unitType = C.DW_UT_compile;
    let addrSize: number;
    let abbrevOffset: number;
    if (version >= 5) {
      unitType = r.u8();
      addrSize = r.u8();
      abbrevOffset = r.uN(offsetSize);
      if (unitType === C.DW_UT_skeleton || unitType === C.DW_UT_split_compile) r.skip(8);
      else if (unitType === C.DW_UT_type || unitType === C.DW_UT_split_type) r.skip(8 + offsetSize);
    } else {
      abbrevOffset = r.uN(offsetSize);
      addrSize = r.u8();
    }
    if (addrSize !== 4 && addrSize !== 8) r.fail(`unsupported address size ${addrSize}`, start);
    if (r.pos > end) r.fail('unit header longer than the unit', offset);
    units.push({
      offset,
      dieOffset: r.pos,
      end,
      version,
      unitType,
      addrSize,
      offsetSize,
      abbrevOffset,
      strOffsetsBase: 0,
      addrBase: 0,
      rnglistsBase: 0,
      baseAddress: 0,
    });
    r.seek(end);
  }
  return units;
}

/** An address that does not fit a JS number (e.g. a -1 tombstone for discarded code). */
export const BAD_ADDRESS = Infinity;

/** Reads an address of `size` bytes as a number; BAD_ADDRESS when above 2^53. */
export function readAddress(r: ByteReader, size: number): number {
  if (size === 4) return r.u32();
  const lo = r.u32();
  const hi = r.u32();
  return hi > 0x1fffff ? BAD_ADDRESS : hi * 0x1_0000_0000 + lo;
}

/** Byte size of a form when it is fixed for this unit; -1 when variable. */
export function fixedFormSize(form: number, u: UnitHeader): number {
  switch (form) {
    case C.DW_FORM_flag_present:
    case C.DW_FORM_implicit_const:
      return 0;
    case C.DW_FORM_data1:
    case C.DW_FORM_ref1:
    case C.DW_FORM_flag:
    case C.DW_FORM_strx1:
    case C.DW_FORM_addrx1:
      return 1;
    case C.DW_FORM_data2:
    case C.DW_FORM_ref2:
    case C.DW_FORM_strx2:
    case C.DW_FORM_addrx2:
      return 2;
    case C.DW_FORM_strx3:
    case C.DW_FORM_addrx3:
      return 3;
    case C.DW_FORM_data4:
    case C.DW_FORM_ref4:
    case C.DW_FORM_strx4:
    case C.DW_FORM_addrx4:
    case C.DW_FORM_ref_sup4:
      return 4;
    case C.DW_FORM_data8:
    case C.DW_FORM_ref8:
    case C.DW_FORM_ref_sig8:
    case C.DW_FORM_ref_sup8:
      return 8;
    case C.DW_FORM_data16:
      return 16;
    case C.DW_FORM_addr:
      return u.addrSize;
    case C.DW_FORM_strp:
    case C.DW_FORM_sec_offset:
    case C.DW_FORM_line_strp:
    case C.DW_FORM_strp_sup:
    case C.DW_FORM_GNU_ref_alt:
    case C.DW_FORM_GNU_strp_alt:
      return u.offsetSize;
    case C.DW_FORM_ref_addr:
      return u.version <= 2 ? u.addrSize : u.offsetSize;
    default:
      return -1;
  }
}

/** Skips a LEB128 of any length: constants (e.g. math.MinInt64) may not fit a number, and need not. */
export function skipLeb128(r: ByteReader): void {
  const b = r.bytes;
  let p = r.pos;
  while (p < b.length && (b[p]! & 0x80) !== 0) p++;
  if (p >= b.length) r.fail('truncated LEB128');
  r.pos = p + 1;
}

/** Skips one attribute value. */
export function skipForm(r: ByteReader, form: number, u: UnitHeader): void {
  const n = fixedFormSize(form, u);
  if (n >= 0) {
    r.skip(n);
    return;
  }
  switch (form) {
    case C.DW_FORM_string: {
      const end = r.bytes.indexOf(0, r.pos);
      if (end < 0) r.fail('unterminated string');
      r.pos = end + 1;
      return;
    }
    case C.DW_FORM_block1:
      r.skip(r.u8());
      return;
    case C.DW_FORM_block2:
      r.skip(r.u16());
      return;
    case C.DW_FORM_block4:
      r.skip(r.u32());
      return;
    case C.DW_FORM_block:
    case C.DW_FORM_exprloc:
      r.skip(r.uleb128());
      return;
    case C.DW_FORM_udata:
    case C.DW_FORM_ref_udata:
    case C.DW_FORM_strx:
    case C.DW_FORM_addrx:
    case C.DW_FORM_loclistx:
    case C.DW_FORM_rnglistx:
    case C.DW_FORM_GNU_addr_index:
    case C.DW_FORM_GNU_str_index:
    case C.DW_FORM_sdata:
      skipLeb128(r);
      return;
    case C.DW_FORM_indirect:
      skipForm(r, r.uleb128(), u);
      return;
    default:
      r.fail(`unknown attribute form 0x${form.toString(16)}`);
  }
}

/**
 * Reads a constant, reference, offset, index or address as a number. References come back
 * as absolute .debug_info offsets; addresses (addr, addrx) resolved; strx and strp give the
 * string's offset (use readString for the text). Blocks give their length (not needed here).
 */
export function readFormNumber(r: ByteReader, form: number, u: UnitHeader, s: DwarfSections, implicitConst: number): number {
  switch (form) {
    case C.DW_FORM_addr:
      return readAddress(r, u.addrSize);
    case C.DW_FORM_data1:
    case C.DW_FORM_flag:
      return r.u8();
    case C.DW_FORM_data2:
      return r.u16();
    case C.DW_FORM_data4:
      return r.u32();
    case C.DW_FORM_data8:
      return readAddress(r, 8);
    case C.DW_FORM_data16:
      r.skip(16);
      return 0;
    case C.DW_FORM_udata:
      return r.uleb128();
    case C.DW_FORM_sdata:
      return r.sleb128();
    case C.DW_FORM_implicit_const:
      return implicitConst;
    case C.DW_FORM_flag_present:
      return 1;
    case C.DW_FORM_ref1:
      return u.offset + r.u8();
    case C.DW_FORM_ref2:
      return u.offset + r.u16();
    case C.DW_FORM_ref4:
      return u.offset + r.u32();
    case C.DW_FORM_ref8:
      return u.offset + r.u64n();
    case C.DW_FORM_ref_udata:
      return u.offset + r.uleb128();
    case C.DW_FORM_ref_addr:
      return r.uN(u.version <= 2 ? u.addrSize : u.offsetSize);
    case C.DW_FORM_sec_offset:
    case C.DW_FORM_strp:
    case C.DW_FORM_line_strp:
      return r.uN(u.offsetSize);
    case C.DW_FORM_addrx:
    case C.DW_FORM_GNU_addr_index:
      return addrx(r.uleb128(), u, s, r);
    case C.DW_FORM_addrx1:
      return addrx(r.u8(), u, s, r);
    case C.DW_FORM_addrx2:
      return addrx(r.u16(), u, s, r);
    case C.DW_FORM_addrx3:
      return addrx(r.u16() + r.u8() * 0x10000, u, s, r);
    case C.DW_FORM_addrx4:
      return addrx(r.u32(), u, s, r);
    case C.DW_FORM_strx:
    case C.DW_FORM_GNU_str_index:
    case C.DW_FORM_loclistx:
    case C.DW_FORM_rnglistx:
      return r.uleb128();
    case C.DW_FORM_strx1:
      return r.u8();
    case C.DW_FORM_strx2:
      return r.u16();
    case C.DW_FORM_strx3:
      return r.u16() + r.u8() * 0x10000;
    case C.DW_FORM_strx4:
      return r.u32();
    case C.DW_FORM_indirect: {
      const f = r.uleb128();
      return readFormNumber(r, f, u, s, implicitConst);
    }
    default: {
      const at = r.pos;
      skipForm(r, form, u);
      return r.pos - at;
    }
  }
}

function addrx(index: number, u: UnitHeader, s: DwarfSections, r: ByteReader): number {
  const off = u.addrBase + index * u.addrSize;
  if (off + u.addrSize > s.addr.length) r.fail(`address index ${index} outside .debug_addr`);
  return readAddress(new ByteReader(s.addr, '.debug_addr').seek(off), u.addrSize);
}

/** Resolves a string-form value (already read as a number for strp/strx forms). */
export function stringFromOffset(form: number, value: number, u: UnitHeader, s: DwarfSections): string {
  switch (form) {
    case C.DW_FORM_strp:
      return cstringAt(s.str, value, '.debug_str');
    case C.DW_FORM_line_strp:
      return cstringAt(s.lineStr, value, '.debug_line_str');
    case C.DW_FORM_strx:
    case C.DW_FORM_strx1:
    case C.DW_FORM_strx2:
    case C.DW_FORM_strx3:
    case C.DW_FORM_strx4:
    case C.DW_FORM_GNU_str_index: {
      const base = u.strOffsetsBase || (u.offsetSize === 8 ? 16 : 8);
      const at = base + value * u.offsetSize;
      if (at + u.offsetSize > s.strOffsets.length) throw new FormatError(`string index ${value} outside table`, '.debug_str_offsets', at);
      const off = new ByteReader(s.strOffsets, '.debug_str_offsets').seek(at).uN(u.offsetSize);
      return cstringAt(s.str, off, '.debug_str');
    }
    default:
      return '';
  }
}

/** Reads a string-valued attribute (string, strp, line_strp, strx*); '' for other forms. */
export function readString(r: ByteReader, form: number, u: UnitHeader, s: DwarfSections): string {
  if (form === C.DW_FORM_string) return r.cstring();
  if (form === C.DW_FORM_indirect) return readString(r, r.uleb128(), u, s);
  if (
    form === C.DW_FORM_strp ||
    form === C.DW_FORM_line_strp ||
    form === C.DW_FORM_strx ||
    form === C.DW_FORM_strx1 ||
    form === C.DW_FORM_strx2 ||
    form === C.DW_FORM_strx3 ||
    form === C.DW_FORM_strx4 ||
    form === C.DW_FORM_GNU_str_index
  ) {
    return stringFromOffset(form, readFormNumber(r, form, u, s, 0), u, s);
  }
  skipForm(r, form, u);
  return '';
}

/** Whether a form is in the address class (DW_AT_high_pc is then absolute, else an offset from low_pc). */
export function isAddressForm(form: number): boolean {
  return (
    form === C.DW_FORM_addr ||
    form === C.DW_FORM_addrx ||
    form === C.DW_FORM_addrx1 ||
    form === C.DW_FORM_addrx2 ||
    form === C.DW_FORM_addrx3 ||
    form === C.DW_FORM_addrx4 ||
    form === C.DW_FORM_GNU_addr_index
  );
}
