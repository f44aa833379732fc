/**
 * .debug_line (versions 2–5): the header's directory and file tables (both forms) and the
 * line-number program, decoded into typed arrays sorted by sequence for binary search.
 * Lookup follows llvm-symbolizer: in the sequence containing pc, the last row whose address
 * is ≤ pc (the end_sequence row never matches).
 */
import { ByteReader } from '../../util/byteReader';
import * as C from './constants';
import type { DwarfSections } from './dwarfSections';
import { FloorIndex } from './floorIndex';
import { readAddress, readString, readFormNumber, skipForm, type UnitHeader } from './unit';

export interface LineHeader {
  version: number;
  offsetSize: number;
  addrSize: number;
  minInstLength: number;
  maxOpsPerInst: number;
  defaultIsStmt: boolean;
  lineBase: number;
  lineRange: number;
  opcodeBase: number;
  standardOpcodeLengths: number[];
  /** Include directories as recorded (v5: index 0 is the compilation directory). */
  dirs: string[];
  /** Full file names, indexed by the file numbers the program, decl_file and call_file use. */
  files: string[];
  /** Section offsets of the program and of the unit's end. */
  programOffset: number;
  end: number;
}

export interface LineTable {
  header: LineHeader;
  /**
   * Rows of all sequences merged in address order. A sequence's end_sequence row stays, with
   * file -1, so that addresses past a sequence's end map to nothing (overlapping sequences,
   * which only broken or discarded code produces, are dropped).
   */
  addr: Float64Array;
  line: Int32Array;
  file: Int32Array;
  index: FloorIndex;
}

function isAbsolute(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p);
}

/** Joins path parts like llvm's sys::path::append, skipping empty parts. */
export function joinPath(...parts: string[]): string {
  let out = '';
  for (const p of parts) {
    if (!p) continue;
    if (!out || isAbsolute(p)) out = p;
    else out = out.endsWith('/') ? out + p : `${out}/${p}`;
  }
  return out;
}

/**
 * Full file name as llvm-symbolizer builds it, except that a compilation directory of "."
 * (Go's) is not prefixed: Go's -trimpath names stay module-relative, as the binary records them.
 */
function fullName(name: string, dir: string, compDir: string, prefixCompDir: boolean): string {
  if (isAbsolute(name)) return name;
  const base = prefixCompDir && !isAbsolute(dir) && compDir !== '.' ? compDir : '';
  return joinPath(base, dir, name);
}

/** Decodes the header of the line program at `offset` (DW_AT_stmt_list). */
export function parseLineHeader(s: DwarfSections, offset: number, u: UnitHeader, compDir: string): LineHeader {
  const r = new ByteReader(s.line, '.debug_line').seek(offset);
  let length = r.u32();
  let offsetSize = 4;
  if (length === 0xffffffff) {
    length = r.u64n();
    offsetSize = 8;
  }
  if (length > r.remaining) r.fail(`line program length 0x${length.toString(16)} runs past the section end`, offset);
  const end = r.pos + length;
  const version = r.u16();
  if (version < 2 || version > 5) r.fail(`unsupported line table version ${version}`, offset);
  let addrSize = u.addrSize;
  if (version >= 5) {
    addrSize = r.u8();
    r.u8(); // segment_selector_size
  }
  const headerLength = r.uN(offsetSize);
  const programOffset = r.pos + headerLength;
  if (programOffset > end) r.fail('line header longer than its unit', offset);
  const minInstLength = r.u8();
  const maxOpsPerInst = version >= 4 ? r.u8() : 1;
  const defaultIsStmt = r.u8() !== 0;
  const lineBase = r.i8();
  const lineRange = r.u8();
  const opcodeBase = r.u8();
  if (lineRange === 0) r.fail('line_range is 0', r.pos - 2);
  const standardOpcodeLengths: number[] = [];
  for (let i = 1; i < opcodeBase; i++) standardOpcodeLengths.push(r.u8());
  const dirs: string[] = [];
  const files: string[] = [];
  // The header's own unit context, for forms in v5 entry formats (strp, line_strp, data*).
  const hu: UnitHeader = { ...u, offsetSize, addrSize };
  if (version >= 5) {
    const readEntries = (isDir: boolean): void => {
      const formatCount = r.u8();
      const kinds: number[] = [];
      const forms: number[] = [];
      for (let i = 0; i < formatCount; i++) {
        kinds.push(r.uleb128());
        forms.push(r.uleb128());
      }
      const count = r.uleb128();
      if (count > r.remaining) r.fail(`${count} line table entries cannot fit`, r.pos);
      for (let i = 0; i < count; i++) {
        let path = '';
        let dirIndex = 0;
        for (let k = 0; k < kinds.length; k++) {
          const kind = kinds[k]!;
          const form = forms[k]!;
          if (kind === C.DW_LNCT_path) path = readString(r, form, hu, s);
          else if (kind === C.DW_LNCT_directory_index) dirIndex = readFormNumber(r, form, hu, s, 0);
          else skipForm(r, form, hu);
        }
        if (isDir) dirs.push(path);
        else {
          // llvm: the compilation directory is prefixed unless the entry uses directory 0.
          const dir = dirs[dirIndex] ?? '';
          files.push(fullName(path, dir, dirs[0] ?? compDir, dirIndex !== 0));
        }
      }
    };
    readEntries(true);
    readEntries(false);
  } else {
    files.push(''); // file numbers start at 1
    for (;;) {
      const d = r.cstring();
      if (!d) break;
      dirs.push(d);
    }
    for (;;) {
      const name = r.cstring();
      if (!name) break;
      const dirIndex = r.uleb128();
      r.uleb128(); // mtime
      r.uleb128(); // length
      files.push(fullName(name, dirIndex > 0 ? (dirs[dirIndex - 1] ?? '') : '', compDir, true));
    }
  }
  return {
    version,
    offsetSize,
    addrSize,
    minInstLength,
    maxOpsPerInst,
    defaultIsStmt,
    lineBase,
    lineRange,
    opcodeBase,
    standardOpcodeLengths,
    dirs,
    files,
    programOffset,
    end,
  };
}

/** Decodes a whole line program. */
export function parseLineTable(s: DwarfSections, offset: number, u: UnitHeader, compDir: string): LineTable {
  const h = parseLineHeader(s, offset, u, compDir);
  const r = new ByteReader(s.line, '.debug_line').seek(h.programOffset);
  const endPos = h.end;
  // Every row costs at least one opcode byte: the program's length bounds the row count.
  const capacity = Math.max(0, endPos - h.programOffset) + 1;
  const addrs = new Float64Array(capacity);
  const lines = new Int32Array(capacity);
  const fileNums = new Int32Array(capacity);
  let rows = 0;
  const seqs: { lo: number; hi: number; first: number; end: number }[] = [];
  const minInst = h.minInstLength;
  const lineBase = h.lineBase;
  const lineRange = h.lineRange;
  const opcodeBase = h.opcodeBase;
  const constAddPc = Math.floor((255 - opcodeBase) / lineRange) * minInst;
  const bytes = s.line;

  let address = 0;
  let file = 1;
  let line = 1;
  let seqFirst = 0;

  while (r.pos < endPos) {
    const op = bytes[r.pos++]!;
    if (op >= opcodeBase) {
      const adj = op - opcodeBase;
      address += Math.floor(adj / lineRange) * minInst;
      line += lineBase + (adj % lineRange);
      addrs[rows] = address;
      lines[rows] = line;
      fileNums[rows] = file;
      rows++;
      continue;
    }
    // Literal cases (a jump table); the names are in constants.ts.
    switch (op) {
      case 0: {
        const len = r.uleb128();
        const start = r.pos;
        if (len === 0 || len > endPos - start) r.fail(`extended opcode length ${len} runs past the program`, start);
        const sub = r.u8();
        if (sub === C.DW_LNE_end_sequence) {
          addrs[rows] = address;
          lines[rows] = line;
          fileNums[rows] = file;
          rows++;
          const endRow = rows - 1;
          if (endRow > seqFirst && addrs[seqFirst]! < address)
            seqs.push({ lo: addrs[seqFirst]!, hi: address, first: seqFirst, end: endRow });
          address = 0;
          file = 1;
          line = 1;
          seqFirst = rows;
        } else if (sub === C.DW_LNE_set_address) {
          address = readAddress(r, len - 1 === 4 ? 4 : 8);
        }
        // define_file, set_discriminator and vendor opcodes: nothing the lookup needs.
        r.seek(start + len);
        break;
      }
      case 1:
        /* DW_LNS_copy */ addrs[rows] = address;
        lines[rows] = line;
        fileNums[rows] = file;
        rows++;
        break;
      case 2:
        /* DW_LNS_advance_pc */ address += r.uleb128() * minInst;
        break;
      case 3:
        /* DW_LNS_advance_line */ line += r.sleb128();
        break;
      case 4:
        /* DW_LNS_set_file */ file = r.uleb128();
        break;
      case 5:
        /* DW_LNS_set_column */ r.uleb128();
        break;
      case 6:
      case 7:
      case 10:
      case 11:
        /* negate_stmt, set_basic_block, set_prologue_end, set_epilogue_begin */ break;
      case 8:
        /* DW_LNS_const_add_pc */ address += constAddPc;
        break;
      case 9:
        /* DW_LNS_fixed_advance_pc */ address += r.u16();
        break;
      case 12:
        /* DW_LNS_set_isa */ r.uleb128();
        break;
      default: {
        // An opcode this version does not define: skip its declared ULEB128 operands.
        const n = h.standardOpcodeLengths[op - 1] ?? 0;
        for (let i = 0; i < n; i++) r.uleb128();
      }
    }
  }
  seqs.sort((a, b) => a.lo - b.lo || a.hi - b.hi);
  let total = 0;
  let lastHi = -Infinity;
  const kept = seqs.filter((q) => {
    if (q.lo < lastHi) return false;
    lastHi = q.hi;
    total += q.end - q.first + 1;
    return true;
  });
  if (
    kept.length === seqs.length &&
    total === rows &&
    kept.every((q, i) => i === 0 || q.first === kept[i - 1]!.end + 1) &&
    (kept.length === 0 || kept[0]!.first === 0)
  ) {
    // Sequences already in address order, back to back: keep the arrays, just mark the ends.
    for (const q of kept) fileNums[q.end] = -1;
    const addr = addrs.slice(0, rows);
    return { header: h, addr, line: lines.slice(0, rows), file: fileNums.slice(0, rows), index: new FloorIndex(addr) };
  }
  const addr = new Float64Array(total);
  const lineOut = new Int32Array(total);
  const fileOut = new Int32Array(total);
  let k = 0;
  for (const q of kept) {
    for (let i = q.first; i <= q.end; i++, k++) {
      addr[k] = addrs[i]!;
      lineOut[k] = lines[i]!;
      fileOut[k] = i === q.end ? -1 : fileNums[i]!;
    }
  }
  return { header: h, addr, line: lineOut, file: fileOut, index: new FloorIndex(addr) };
}

/** Index of the row describing pc (the last row at or before it in its sequence), or -1. */
export function lookupRow(t: LineTable, pc: number): number {
  const i = t.index.floor(pc);
  return i >= 0 && t.file[i]! >= 0 ? i : -1;
}
