/** Address range lists: .debug_ranges (DWARF 2–4) and .debug_rnglists (DWARF 5, every DW_RLE_* kind). */
import { ByteReader } from '../../util/byteReader';
import * as C from './constants';
import type { DwarfSections } from './dwarfSections';
import { BAD_ADDRESS, readAddress, type UnitHeader } from './unit';

/** Appends [lo, hi) pairs to `out` (flat: lo0, hi0, lo1, hi1, ...); empty and unresolvable ranges are dropped. */
export function readRanges(s: DwarfSections, u: UnitHeader, form: number, value: number, out: number[]): void {
  if (u.version >= 5) {
    let offset = value;
    if (form === C.DW_FORM_rnglistx) offset = rnglistxOffset(s, u, value);
    readRnglist(s, u, offset, out);
  } else {
    readDebugRanges(s, u, value, out);
  }
}

function push(out: number[], lo: number, hi: number): void {
  if (lo < hi && hi !== BAD_ADDRESS) out.push(lo, hi);
}

function readDebugRanges(s: DwarfSections, u: UnitHeader, offset: number, out: number[]): void {
  const r = new ByteReader(s.ranges, '.debug_ranges').seek(offset);
  const size = u.addrSize;
  const maxAddr = size === 4 ? 0xffffffff : BAD_ADDRESS;
  let base = u.baseAddress;
  for (;;) {
    const lo = readAddress(r, size);
    const hi = readAddress(r, size);
    if (lo === 0 && hi === 0) return;
    if (lo === maxAddr) {
      base = hi;
      continue;
    }
    push(out, base + lo, base + hi);
  }
}

function rnglistxOffset(s: DwarfSections, u: UnitHeader, index: number): number {
  // rnglists_base points just past the contribution's header, at its offset array.
  const base = u.rnglistsBase || (u.offsetSize === 8 ? 20 : 12);
  const at = base + index * u.offsetSize;
  const r = new ByteReader(s.rnglists, '.debug_rnglists');
  if (at + u.offsetSize > s.rnglists.length) r.fail(`range list index ${index} outside the offset table`, at);
  return base + r.seek(at).uN(u.offsetSize);
}

function addrIndex(s: DwarfSections, u: UnitHeader, index: number, r: ByteReader): number {
  const off = u.addrBase + index * u.addrSize;
  if (off + u.addrSize > s.addr.length) r.fail(`address index ${index} outside .debug_addr`);
  return readAddress(new ByteReader(s.addr, '.debug_addr').seek(off), u.addrSize);
}

function readRnglist(s: DwarfSections, u: UnitHeader, offset: number, out: number[]): void {
  const r = new ByteReader(s.rnglists, '.debug_rnglists').seek(offset);
  let base = u.baseAddress;
  for (let guard = 0; guard < 1_000_000; guard++) {
    const kind = r.u8();
    switch (kind) {
      case C.DW_RLE_end_of_list:
        return;
      case C.DW_RLE_base_addressx:
        base = addrIndex(s, u, r.uleb128(), r);
        break;
      case C.DW_RLE_startx_endx: {
        const a = addrIndex(s, u, r.uleb128(), r);
        const b = addrIndex(s, u, r.uleb128(), r);
        push(out, a, b);
        break;
      }
      case C.DW_RLE_startx_length: {
        const a = addrIndex(s, u, r.uleb128(), r);
        push(out, a, a + r.uleb128());
        break;
      }
      case C.DW_RLE_offset_pair: {
        const a = r.uleb128();
        const b = r.uleb128();
        push(out, base + a, base + b);
        break;
      }
      case C.DW_RLE_base_address:
        base = readAddress(r, u.addrSize);
        break;
      case C.DW_RLE_start_end: {
        const a = readAddress(r, u.addrSize);
        const b = readAddress(r, u.addrSize);
        push(out, a, b);
        break;
      }
      case C.DW_RLE_start_length: {
        const a = readAddress(r, u.addrSize);
        push(out, a, a + r.uleb128());
        break;
      }
      default:
        r.fail(`unknown range list entry kind ${kind}`, r.pos - 1);
    }
  }
  r.fail('range list has no end', offset);
}
