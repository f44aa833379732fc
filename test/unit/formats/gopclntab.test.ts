/**
 * .gopclntab decoding from hand-written bytes (pcvalue zig-zag deltas, a tiny synthetic Go 1.20
 * table) and bad input: truncated and corrupted tables — synthetic and real — must fail with a
 * FormatError naming '.gopclntab' and an offset, never another exception or a hang.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { FormatError } from '../../../src/util/byteReader';
import { parseElf } from '../../../src/formats/elf';
import { GoPclntab, decodePcValueTable, pcTableValue } from '../../../src/formats/gopclntab';
import { findPclntabSection, openGoPclntab } from '../../../src/formats/openGoPclntab';
import { FramesJson } from '../../../src/cli/framesJson';
import { GopclntabSymbolizer } from '../../../src/symbolize/gopclntabSymbolizer';
import { BUILD_VARIANTS, buildGoFixture, goToolchains } from '../../support/goToolchains';
import { seededRandom } from '../../support/symbolizerCompare';

describe('gopclntab: pcvalue tables (hand-written bytes)', () => {
  it('decodes zig-zag value deltas and varint pc deltas', () => {
    const bytes = new Uint8Array([
      0x02,
      0x05, //       value delta zz(2) = +1 → 0;   pc delta 5   → value 0 for pc [0, 5)
      0x03,
      0xc8,
      0x01, // value delta zz(3) = -2 → -2;  pc delta 200 (varint c8 01) → [5, 205)
      0x80,
      0x01,
      0x01, // value delta zz(128) = +64 → 62 (two-byte varint); pc delta 1 → [205, 206)
      0x00, //             a 0 value delta after the first pair ends the table
    ]);
    const t = decodePcValueTable(bytes, 0, 1, 1000);
    assert.deepEqual([...t.ends], [5, 205, 206]);
    assert.deepEqual([...t.vals], [0, -2, 62]);
    assert.equal(pcTableValue(t, 0), 0);
    assert.equal(pcTableValue(t, 4), 0);
    assert.equal(pcTableValue(t, 5), -2);
    assert.equal(pcTableValue(t, 204), -2);
    assert.equal(pcTableValue(t, 205), 62);
    assert.equal(pcTableValue(t, 206), -1, 'past the table: -1, as the runtime');
  });

  it('a first pair with value delta 0 is data, not the end; pc deltas scale by the quantum', () => {
    const bytes = new Uint8Array([
      0x00,
      0x02, // value delta 0 (first pair: not the terminator) → -1 for pc [0, 2×4)
      0x04,
      0x01, // +2 → 1 for [8, 12)
      0x00,
    ]);
    const t = decodePcValueTable(bytes, 0, 4, 100);
    assert.deepEqual([...t.ends], [8, 12]);
    assert.deepEqual([...t.vals], [-1, 1]);
  });

  it('stops at the end of the function even without a terminator', () => {
    const bytes = new Uint8Array([0x02, 0x10, 0x02, 0x10]); // two steps of 16, no terminator
    const t = decodePcValueTable(bytes, 0, 1, 16);
    assert.deepEqual([...t.ends], [16]);
  });

  it('truncated tables and overlong varints are FormatErrors naming .gopclntab and the offset', () => {
    for (const bad of [[0x02], [0x02, 0x85], [0x82], [0x02, 0x10, 0x02], [0x82, 0x80, 0x80, 0x80, 0x80, 0x01, 0x01]]) {
      assert.throws(
        () => decodePcValueTable(new Uint8Array(bad), 0, 1, 1000),
        (e: unknown) => e instanceof FormatError && e.section === '.gopclntab' && /offset 0x/.test(e.message),
        JSON.stringify(bad),
      );
    }
  });
});

/** A tiny Go 1.20 pclntab with two functions, written field by field. */
function syntheticTable(): Uint8Array {
  const out: number[] = [];
  const u8 = (...v: number[]): void => {
    out.push(...v);
  };
  const u32 = (v: number): void => {
    out.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  };
  const u64 = (v: number): void => {
    u32(v >>> 0);
    u32(Math.floor(v / 2 ** 32));
  };
  const str = (s: string): void => {
    for (const c of Buffer.from(s)) out.push(c);
    out.push(0);
  };
  const HEADER = 8 + 8 * 8;
  const funcnametab = HEADER; //        "main.a\0main.b\0": 14 bytes
  const cutab = funcnametab + 14; //     two uint32 file offsets: 8 bytes
  const filetab = cutab + 8; //          "/x/a.go\0/x/b.go\0": 16 bytes
  const pctab = filetab + 16; //         a leading 0 (offset 0 = "no table") + 4 tables: 17 bytes
  const functab = pctab + 17 + 1; //     padded to 4
  // header
  u32(0xfffffff1);
  u8(0, 0);
  u8(1);
  u8(8); // magic (Go 1.20+), pad, pc quantum 1, pointer size 8
  u64(2);
  u64(2);
  u64(0x401000); //                nfunc, nfiles, textStart
  u64(funcnametab);
  u64(cutab);
  u64(filetab);
  u64(pctab);
  u64(functab);
  str('main.a');
  str('main.b'); //                 names at 0 and 7
  u32(0);
  u32(8); //                               cutab: CU 0's files 0, 1 → filetab offsets 0, 8
  str('/x/a.go');
  str('/x/b.go');
  u8(0x00); //                                     pctab[0]: unused
  u8(0x02, 0x20, 0x00); //                         pctab[1] a.pcfile: file 0 for [0, 0x20)
  u8(0x16, 0x10, 0x04, 0x10, 0x00); //             pctab[4] a.pcln: line 10 for [0, 0x10), 12 for [0x10, 0x20)
  u8(0x04, 0x10, 0x00); //                         pctab[9] b.pcfile: file 1 for [0, 0x10)
  u8(0x0c, 0x08, 0x03, 0x08, 0x00); //             pctab[12] b.pcln: line 5 for [0, 8), 3 for [8, 16)
  u8(0); //                                        pad to 4
  // functab: (entryoff, funcoff) × 2, then the end entryoff; _func records follow (44 bytes each).
  const fa = 20;
  const fb = fa + 44;
  u32(0x00);
  u32(fa);
  u32(0x20);
  u32(fb);
  u32(0x30);
  const func = (entryOff: number, nameOff: number, pcfile: number, pcln: number, startLine: number): void => {
    u32(entryOff);
    u32(nameOff);
    u32(0);
    u32(0); // entryOff, nameOff, args, deferreturn
    u32(0);
    u32(pcfile);
    u32(pcln);
    u32(0); //     pcsp, pcfile, pcln, npcdata
    u32(0);
    u32(startLine);
    u8(0, 0, 0, 0); //     cuOffset, startLine, funcID, flag, pad, nfuncdata
  };
  func(0x00, 0, 1, 4, 9);
  func(0x20, 7, 9, 12, 4);
  assert.equal(out.length, functab + 20 + 88);
  return new Uint8Array(out);
}

describe('gopclntab: a synthetic Go 1.20 table (hand-written bytes)', () => {
  it('decodes the header, functab, _func records, names, files and lines', () => {
    const tab = new GoPclntab(syntheticTable());
    assert.equal(tab.version, '1.20');
    assert.equal(tab.nfunc, 2);
    assert.equal(tab.textStart, 0x401000);
    assert.equal(tab.findFunc(0x400fff), -1);
    assert.equal(tab.findFunc(0x401000), 0);
    assert.equal(tab.findFunc(0x40101f), 0);
    assert.equal(tab.findFunc(0x401020), 1);
    assert.equal(tab.findFunc(0x401030), -1);
    const sym = new GopclntabSymbolizer(tab);
    assert.deepEqual(sym.symbolize(0x401000n), [{ function: 'main.a', file: '/x/a.go', line: 10 }]);
    assert.deepEqual(sym.symbolize(0x401010n), [{ function: 'main.a', file: '/x/a.go', line: 12 }]);
    assert.deepEqual(sym.symbolize(0x401027n), [{ function: 'main.b', file: '/x/b.go', line: 5 }]);
    assert.deepEqual(sym.symbolize(0x401028n), [{ function: 'main.b', file: '/x/b.go', line: 3 }]);
    assert.deepEqual(sym.functions(), [
      { name: 'main.a', lowPc: 0x401000n, highPc: 0x401020n, declFile: '/x/a.go', declLine: 9 },
      { name: 'main.b', lowPc: 0x401020n, highPc: 0x401030n, declFile: '/x/b.go', declLine: 4 },
    ]);
    // The CLI's byte path gives exactly JSON.stringify of the same frames.
    const sink = { buf: new Uint8Array(256), pos: 0, ensure(): void {} };
    new FramesJson(sym).write(0x401028, sink);
    assert.equal(Buffer.from(sink.buf.subarray(0, sink.pos)).toString(), JSON.stringify(sym.symbolize(0x401028n)));
  });

  it('rejects bad magic, 32-bit tables and unsorted functabs with FormatErrors', () => {
    const isPclnError = (e: unknown): boolean => e instanceof FormatError && e.section === '.gopclntab';
    const t = syntheticTable();
    const badMagic = t.slice();
    badMagic[0] = 0xee;
    assert.throws(
      () => new GoPclntab(badMagic),
      (e: unknown) => isPclnError(e) && /bad magic/.test((e as Error).message),
    );
    const old = t.slice();
    old[0] = 0xfb; // Go 1.2–1.15
    assert.throws(
      () => new GoPclntab(old),
      (e: unknown) => isPclnError(e) && /not supported/.test((e as Error).message),
    );
    const ptr4 = t.slice();
    ptr4[7] = 4;
    assert.throws(() => new GoPclntab(ptr4), isPclnError);
    const unsorted = t.slice();
    const functab = 8 + 64 + 14 + 8 + 16 + 18;
    unsorted[functab + 16] = 0x10; // the end entry (0x30 → 0x10) now precedes main.b's entry (0x20)
    assert.throws(
      () => new GoPclntab(unsorted),
      (e: unknown) => isPclnError(e) && /not sorted/.test((e as Error).message),
    );
  });

  it('every truncation fails with a FormatError (or decodes what is there), never anything else', () => {
    const t = syntheticTable();
    for (let cut = 0; cut < t.length; cut++) {
      try {
        const sym = new GopclntabSymbolizer(new GoPclntab(t.subarray(0, cut)));
        for (let pc = 0x401000; pc < 0x401030; pc++) sym.symbolize(BigInt(pc));
      } catch (e) {
        assert.ok(e instanceof FormatError && e.section === '.gopclntab', `cut at ${cut}: ${String(e)}`);
      }
    }
  });
});

describe('gopclntab: damaged real tables [go]', function () {
  this.timeout(300_000);
  it('truncated at many offsets and randomly mutated: only FormatErrors, no hangs', () => {
    const tc = goToolchains()[goToolchains().length - 1]!;
    const bin = buildGoFixture(
      'pclntab',
      tc,
      BUILD_VARIANTS.find((v) => v.name === 'stripped')!,
    );
    const elf = parseElf(new Uint8Array(fs.readFileSync(bin)));
    const good = openGoPclntab(elf)!;
    const data = elf.sectionData(findPclntabSection(elf)!)!;
    const pcs: number[] = [];
    const rnd = seededRandom(77);
    const lo = good.entryOf(0);
    const hi = good.endOf(good.nfunc - 1);
    for (let i = 0; i < 400; i++) pcs.push(lo + Math.floor(rnd() * (hi - lo)));
    const readVaddr = good.readVaddr;
    const exercise = (bytes: Uint8Array): void => {
      try {
        const tab = new GoPclntab(bytes, { readVaddr: readVaddr!, textStartFallback: good.textStart });
        tab.gofunc = good.gofunc;
        const sym = new GopclntabSymbolizer(tab);
        for (const pc of pcs) sym.symbolize(BigInt(pc));
      } catch (e) {
        assert.ok(
          e instanceof FormatError && e.section === '.gopclntab' && /offset 0x[0-9a-f]+/.test(e.message),
          String((e as Error).stack),
        );
      }
    };
    for (let i = 0; i < 60; i++) exercise(data.subarray(0, Math.floor(rnd() * data.length)));
    for (let i = 0; i < 60; i++) {
      const m = data.slice();
      for (let k = 0; k < 16; k++) m[Math.floor(rnd() * m.length)] = Math.floor(rnd() * 256);
      exercise(m);
    }
  });
});
