/**
 * Hand-written DWARF bytes, one comment per field, for the encodings real binaries exercise
 * only by chance: LEB128 edges, DW_FORM_implicit_const, strx/addrx/rnglistx through their
 * bases, a DWARF 5 file table, and line programs with special opcodes, DW_LNS_const_add_pc
 * and DW_LNS_fixed_advance_pc.
 */
import * as assert from 'node:assert/strict';
import { DwarfIndex } from '../../../src/formats/dwarf/dwarfIndex';
import { emptyDwarfSections } from '../../../src/formats/dwarf/dwarfSections';
import { lookupRow, parseLineTable } from '../../../src/formats/dwarf/lineTable';
import { parseUnitHeaders, skipLeb128, type UnitHeader } from '../../../src/formats/dwarf/unit';
import { ByteReader, FormatError } from '../../../src/util/byteReader';

/** Little byte builder: each call appends one field. */
class Bytes {
  private readonly out: number[] = [];
  get length(): number {
    return this.out.length;
  }
  u8(...v: number[]): this {
    this.out.push(...v);
    return this;
  }
  u16(v: number): this {
    return this.u8(v & 0xff, (v >> 8) & 0xff);
  }
  u32(v: number): this {
    return this.u8(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  u64(v: number): this {
    return this.u32(v % 0x1_0000_0000).u32(Math.floor(v / 0x1_0000_0000));
  }
  uleb(v: number): this {
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v) b |= 0x80;
      this.out.push(b);
    } while (v);
    return this;
  }
  sleb(v: number): this {
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
      this.out.push(done ? b : b | 0x80);
      if (done) return this;
    }
  }
  str(s: string): this {
    for (const c of Buffer.from(s, 'utf8')) this.out.push(c);
    return this.u8(0);
  }
  bytes(b: Bytes | Uint8Array): this {
    this.out.push(...(b instanceof Bytes ? b.build() : b));
    return this;
  }
  build(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

describe('DWARF encodings from hand-written bytes', () => {
  describe('LEB128', () => {
    const u = (...b: number[]): number => new ByteReader(Uint8Array.from(b), 'test').uleb128();
    const s = (...b: number[]): number => new ByteReader(Uint8Array.from(b), 'test').sleb128();
    it('unsigned edges', () => {
      assert.equal(u(0x00), 0); // smallest
      assert.equal(u(0x7f), 127); // largest single byte
      assert.equal(u(0x80, 0x01), 128); // first two-byte value
      assert.equal(u(0x80, 0x80, 0x80, 0x80, 0x10), 2 ** 32); // 4 x continuation + 0x10 << 28
      assert.equal(u(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f), Number.MAX_SAFE_INTEGER); // 7 x 7 bits + 4 bits = 53 bits
      assert.equal(u(0x81, 0x80, 0x80, 0x00), 1); // padded with redundant zero groups (legal)
      assert.throws(() => u(0x80, 0x80), FormatError); // truncated
    });
    it('signed edges', () => {
      assert.equal(s(0x00), 0);
      assert.equal(s(0x7f), -1); // sign bit 0x40 set in the last byte
      assert.equal(s(0x3f), 63);
      assert.equal(s(0x40), -64);
      assert.equal(s(0x80, 0x7f), -128);
      assert.equal(s(0xff, 0x7e), -129);
      assert.equal(s(0x80, 0x01), 128);
    });
    it('skipping a 10-byte constant (math.MinInt64) that no number holds', () => {
      const r = new ByteReader(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f, 0xaa]), 'test');
      skipLeb128(r);
      assert.equal(r.pos, 10);
      assert.equal(r.u8(), 0xaa);
    });
  });

  describe('line program (version 4)', () => {
    // Header fields after unit_length, in order.
    const header = new Bytes()
      .u16(4) // version
      .u32(0) // header_length: patched below
      .u8(1) // minimum_instruction_length
      .u8(1) // maximum_operations_per_instruction
      .u8(1) // default_is_stmt
      .u8(0xfb) // line_base = -5
      .u8(14) // line_range
      .u8(13) // opcode_base
      .u8(0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1) // standard_opcode_lengths[1..12]
      .str('/src')
      .u8(0) // include_directories: "/src", end
      .str('a.c')
      .uleb(1)
      .uleb(0)
      .uleb(0) // file 1: a.c in dir 1, mtime, length
      .str('b.h')
      .uleb(0)
      .uleb(0)
      .uleb(0) // file 2: b.h in dir 0 (the compilation directory)
      .u8(0); // end of file_names
    const program = new Bytes()
      .u8(0, 9, 2)
      .u64(0x1000) // DW_LNE_set_address 0x1000
      .u8(3)
      .sleb(9) // DW_LNS_advance_line +9 → 10
      .u8(1) // DW_LNS_copy → row 0x1000 line 10
      .u8(62) // special: adj 49 = 3*14 + 7 → address +3, line += -5 + 7 = +2 → row 0x1003 line 12
      .u8(8) // DW_LNS_const_add_pc: address += (255-13)/14 = 17 → 0x1014
      .u8(9)
      .u16(0x100) // DW_LNS_fixed_advance_pc 0x100 → 0x1114
      .u8(4)
      .uleb(2) // DW_LNS_set_file 2
      .u8(0, 2, 4, 3) // DW_LNE_set_discriminator 3
      .u8(3)
      .sleb(-4) // DW_LNS_advance_line -4 → 8
      .u8(13) // special: adj 0 → address +0, line -5 → row 0x1114 line 3
      .u8(2)
      .uleb(0x10) // DW_LNS_advance_pc 0x10 → 0x1124
      .u8(0, 1, 1); // DW_LNE_end_sequence at 0x1124
    const hb = header.build();
    new DataView(hb.buffer).setUint32(2, hb.length - 6 /* version + header_length */, true);
    const unit = new Bytes()
      .u32(hb.length + program.length)
      .bytes(hb)
      .bytes(program)
      .build();
    const u: UnitHeader = {
      offset: 0,
      dieOffset: 0,
      end: 0,
      version: 4,
      unitType: 1,
      addrSize: 8,
      offsetSize: 4,
      abbrevOffset: 0,
      strOffsetsBase: 0,
      addrBase: 0,
      rnglistsBase: 0,
      baseAddress: 0,
    };

    it('decodes rows and looks addresses up like llvm (last row ≤ pc, end_sequence excluded)', () => {
      const s = emptyDwarfSections();
      s.line = unit;
      const t = parseLineTable(s, 0, u, '/cu');
      assert.deepEqual(t.header.files, ['', '/src/a.c', '/cu/b.h']);
      assert.deepEqual([...t.addr], [0x1000, 0x1003, 0x1114, 0x1124]);
      assert.deepEqual([...t.line.subarray(0, 3)], [10, 12, 3]);
      const at = (pc: number): string => {
        const i = lookupRow(t, pc);
        return i < 0 ? 'none' : `${t.header.files[t.file[i]!]}:${t.line[i]}`;
      };
      assert.equal(at(0xfff), 'none');
      assert.equal(at(0x1000), '/src/a.c:10');
      assert.equal(at(0x1002), '/src/a.c:10');
      assert.equal(at(0x1003), '/src/a.c:12');
      assert.equal(at(0x1113), '/src/a.c:12');
      assert.equal(at(0x1114), '/cu/b.h:3');
      assert.equal(at(0x1123), '/cu/b.h:3');
      assert.equal(at(0x1124), 'none');
    });

    it('a program running past its unit is a FormatError', () => {
      const s = emptyDwarfSections();
      s.line = unit.slice(0, unit.length - 2);
      assert.throws(() => parseLineTable(s, 0, u, '/cu'), FormatError);
    });
  });

  describe('a DWARF 5 unit: implicit_const, strx, addrx, rnglistx, line_strp and a v5 file table', () => {
    const DW_AT = {
      name: 0x03,
      stmt_list: 0x10,
      low_pc: 0x11,
      high_pc: 0x12,
      comp_dir: 0x1b,
      abstract_origin: 0x31,
      decl_file: 0x3a,
      decl_line: 0x3b,
      ranges: 0x55,
      call_file: 0x58,
      call_line: 0x59,
      str_offsets_base: 0x72,
      addr_base: 0x73,
      rnglists_base: 0x74,
    };
    const F = {
      addr: 0x01,
      data1: 0x0b,
      data4: 0x06,
      string: 0x08,
      udata: 0x0f,
      ref4: 0x13,
      sec_offset: 0x17,
      strx1: 0x25,
      addrx: 0x1b,
      line_strp: 0x1f,
      implicit_const: 0x21,
      rnglistx: 0x23,
      data16: 0x1e,
    };
    const abbrev = new Bytes()
      .uleb(1)
      .uleb(0x11)
      .u8(1) // 1: DW_TAG_compile_unit, has children
      .uleb(DW_AT.name)
      .uleb(F.string)
      .uleb(DW_AT.comp_dir)
      .uleb(F.line_strp)
      .uleb(DW_AT.stmt_list)
      .uleb(F.sec_offset)
      .uleb(DW_AT.low_pc)
      .uleb(F.addr)
      .uleb(DW_AT.high_pc)
      .uleb(F.data4) // an offset from low_pc (constant class)
      .uleb(DW_AT.str_offsets_base)
      .uleb(F.sec_offset) // bases come after low_pc/name on purpose:
      .uleb(DW_AT.addr_base)
      .uleb(F.sec_offset) //       the unit DIE's own attributes may need them
      .uleb(DW_AT.rnglists_base)
      .uleb(F.sec_offset)
      .uleb(0)
      .uleb(0)
      .uleb(2)
      .uleb(0x2e)
      .u8(1) // 2: DW_TAG_subprogram (concrete), has children
      .uleb(DW_AT.name)
      .uleb(F.strx1)
      .uleb(DW_AT.decl_file)
      .uleb(F.implicit_const)
      .sleb(0) // implicit_const: value in the abbreviation, none in the DIE
      .uleb(DW_AT.decl_line)
      .uleb(F.implicit_const)
      .sleb(42)
      .uleb(DW_AT.low_pc)
      .uleb(F.addrx)
      .uleb(DW_AT.high_pc)
      .uleb(F.data1)
      .uleb(0)
      .uleb(0)
      .uleb(3)
      .uleb(0x1d)
      .u8(0) // 3: DW_TAG_inlined_subroutine, no children
      .uleb(DW_AT.abstract_origin)
      .uleb(F.ref4)
      .uleb(DW_AT.ranges)
      .uleb(F.rnglistx)
      .uleb(DW_AT.call_file)
      .uleb(F.data1)
      .uleb(DW_AT.call_line)
      .uleb(F.udata)
      .uleb(0)
      .uleb(0)
      .uleb(4)
      .uleb(0x2e)
      .u8(0) // 4: DW_TAG_subprogram (abstract: a name, no code)
      .uleb(DW_AT.name)
      .uleb(F.string)
      .uleb(DW_AT.decl_line)
      .uleb(F.implicit_const)
      .sleb(3)
      .uleb(0)
      .uleb(0)
      .uleb(0); // end of table
    const lineStr = new Bytes().str('/work').str('m.c').str('h.h'); // offsets 0, 6, 10
    const str = new Bytes().str('main'); // offset 0
    const strOffsets = new Bytes().u32(8).u16(5).u16(0).u32(0); // header (length 8, version 5, padding); [0] → "main"
    const addr = new Bytes().u32(12).u16(5).u8(8).u8(0).u64(0x2000); // header (length, version, address_size, segment size); [0] = 0x2000
    const rnglists = new Bytes()
      .u32(0) // unit_length: patched
      .u16(5)
      .u8(8)
      .u8(0) // version, address_size, segment_selector_size
      .u32(1) // offset_entry_count
      .u32(4) // offsets[0]: list 0 starts 4 bytes after the offsets array's start (the base, 12)
      .u8(4)
      .uleb(0x10)
      .uleb(0x20) // DW_RLE_offset_pair: [base+0x10, base+0x20) with base = the unit's low_pc
      .u8(7)
      .u64(0x2030)
      .uleb(8) // DW_RLE_start_length: [0x2030, 0x2038)
      .u8(0); // DW_RLE_end_of_list
    const rb = rnglists.build();
    new DataView(rb.buffer).setUint32(0, rb.length - 4, true);
    // .debug_line, version 5.
    const lhdr = new Bytes()
      .u16(5) // version
      .u8(8)
      .u8(0) // address_size, segment_selector_size
      .u32(0) // header_length: patched
      .u8(1)
      .u8(1)
      .u8(1) // minimum_instruction_length, maximum_operations_per_instruction, default_is_stmt
      .u8(0xfb)
      .u8(14)
      .u8(13) // line_base -5, line_range 14, opcode_base 13
      .u8(0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1) // standard_opcode_lengths
      .u8(1)
      .uleb(1)
      .uleb(F.line_strp) // directory_entry_format: (DW_LNCT_path, line_strp)
      .uleb(1)
      .u32(0) // directories_count 1: "/work" (index 0 = compilation directory)
      .u8(3)
      .uleb(1)
      .uleb(F.string)
      .uleb(2)
      .uleb(F.udata)
      .uleb(5)
      .uleb(F.data16) // file formats: path string, directory_index udata, MD5 data16
      .uleb(2) // file_names_count
      .str('m.c')
      .uleb(0)
      .bytes(new Uint8Array(16)) // file 0: m.c in dir 0, MD5
      .str('h.h')
      .uleb(0)
      .bytes(new Uint8Array(16).fill(0xab)); // file 1: h.h in dir 0, MD5
    const lprog = new Bytes()
      .u8(0, 9, 2)
      .u64(0x2000) // set_address 0x2000
      .u8(4)
      .uleb(0) // set_file 0 (the file register starts at 1, in DWARF 5 too)
      .u8(3)
      .sleb(4)
      .u8(1) // advance_line → 5; copy: 0x2000 m.c:5
      .u8(2)
      .uleb(0x10)
      .u8(4)
      .uleb(1)
      .u8(3)
      .sleb(95)
      .u8(1) // 0x2010 h.h:100
      .u8(2)
      .uleb(0x10)
      .u8(4)
      .uleb(0)
      .u8(3)
      .sleb(-93)
      .u8(1) // 0x2020 m.c:7
      .u8(2)
      .uleb(0x10)
      .u8(4)
      .uleb(1)
      .u8(3)
      .sleb(93)
      .u8(1) // 0x2030 h.h:100
      .u8(2)
      .uleb(8)
      .u8(4)
      .uleb(0)
      .u8(3)
      .sleb(-92)
      .u8(1) // 0x2038 m.c:8
      .u8(2)
      .uleb(8)
      .u8(0, 1, 1); // end_sequence at 0x2040
    const lh = lhdr.build();
    new DataView(lh.buffer).setUint32(4, lh.length - 8, true);
    const line = new Bytes()
      .u32(lh.length + lprog.length)
      .bytes(lh)
      .bytes(lprog)
      .build();

    // .debug_info: header, then DIEs.
    const HEADER = 12; // unit_length 4, version 2, unit_type 1, address_size 1, debug_abbrev_offset 4
    const cuDie = new Bytes()
      .uleb(1) // abbrev 1: compile unit
      .str('m.c') // DW_AT_name
      .u32(0) // DW_AT_comp_dir → .debug_line_str "/work"
      .u32(0) // DW_AT_stmt_list
      .u64(0x2000) // DW_AT_low_pc
      .u32(0x40) // DW_AT_high_pc (offset)
      .u32(8) // DW_AT_str_offsets_base
      .u32(8) // DW_AT_addr_base
      .u32(12); // DW_AT_rnglists_base
    const helperOffset = HEADER + cuDie.length;
    const dies = new Bytes()
      .bytes(cuDie)
      .uleb(4)
      .str('helper') // abstract subprogram "helper", decl_line 3 (implicit)
      .uleb(2) // concrete subprogram
      .u8(0) // DW_AT_name: strx1 0 → "main"
      .uleb(0) // DW_AT_low_pc: addrx 0 → 0x2000
      .u8(0x40) // DW_AT_high_pc: 0x40 bytes
      .uleb(3) // inlined subroutine
      .u32(helperOffset) // DW_AT_abstract_origin → "helper"
      .uleb(0) // DW_AT_ranges: rnglistx 0
      .u8(0) // DW_AT_call_file 0 (m.c)
      .uleb(6) // DW_AT_call_line 6
      .u8(0) // end of main's children
      .u8(0); // end of the unit's children
    const info = new Bytes()
      .u32(8 + dies.length)
      .u16(5)
      .u8(1)
      .u8(8)
      .u32(0)
      .bytes(dies)
      .build();

    function sections() {
      const s = emptyDwarfSections();
      Object.assign(s, {
        info,
        abbrev: abbrev.build(),
        line,
        lineStr: lineStr.build(),
        str: str.build(),
        strOffsets: strOffsets.build(),
        addr: addr.build(),
        rnglists: rb,
      });
      return s;
    }

    it('parses the unit header', () => {
      const [h] = parseUnitHeaders(info);
      assert.equal(h!.version, 5);
      assert.equal(h!.dieOffset, HEADER);
      assert.equal(h!.end, info.length);
    });

    it('symbolizes through the inline tree with the v5 file table', () => {
      const ix = new DwarfIndex(sections());
      assert.equal(ix.version, 5);
      assert.deepEqual(ix.symbolize(0x2000), [{ function: 'main', file: '/work/m.c', line: 5 }]);
      const inlined = [
        { function: 'helper', file: '/work/h.h', line: 100 },
        { function: 'main', file: '/work/m.c', line: 6 },
      ];
      assert.deepEqual(ix.symbolize(0x2015), inlined); // first range (offset_pair)
      assert.deepEqual(ix.symbolize(0x2030), inlined); // second range (start_length)
      assert.deepEqual(ix.symbolize(0x2037), inlined);
      assert.deepEqual(ix.symbolize(0x2025), [{ function: 'main', file: '/work/m.c', line: 7 }]);
      assert.deepEqual(ix.symbolize(0x2038), [{ function: 'main', file: '/work/m.c', line: 8 }]);
      assert.deepEqual(ix.symbolize(0x2040), []);
      assert.deepEqual(ix.symbolize(0x1fff), []);
    });

    it('functions carry implicit_const declarations', () => {
      const ix = new DwarfIndex(sections());
      const fns = ix.functions();
      assert.equal(fns.length, 1);
      assert.deepEqual(
        { ...fns[0], dieOffset: 0 },
        { name: 'main', lowPc: 0x2000, highPc: 0x2040, declFile: '/work/m.c', declLine: 42, dieOffset: 0 },
      );
      assert.equal(ix.functionAt(0x2015)?.name, 'main');
    });

    it('a bad abbreviation code is a FormatError in .debug_info', () => {
      const s = sections();
      const bad = info.slice();
      bad[helperOffset] = 9; // no abbreviation 9
      s.info = bad;
      const ix = new DwarfIndex(s);
      assert.throws(
        () => ix.symbolize(0x2000),
        (e: unknown) => e instanceof FormatError && e.section === '.debug_info' && /abbreviation code 9/.test(e.message),
      );
    });
  });
});
