/**
 * The ELF reader on real binaries (Go fixture, gcc-built C), cross-checked with readelf, nm
 * and `go tool buildid`; compressed sections made by objcopy (SHF_COMPRESSED and legacy
 * .zdebug_*); and bad input: every failure is a FormatError naming the structure and offset.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ElfFile, ET_DYN, ET_EXEC, EM_X86_64, PT_LOAD, SHF_COMPRESSED, parseElf } from '../../../src/formats/elf';
import { createDwarfSymbolizer } from '../../../src/symbolize/dwarfSymbolizer';
import { FormatError } from '../../../src/util/byteReader';
import { buildCFixture } from '../../support/cFixtures';
import { buildGoFixture, goEnv, FIXTURE_CACHE, newestGo, BUILD_VARIANTS } from '../../support/goToolchains';

interface ReadelfSection {
  name: string;
  type: string;
  addr: bigint;
  offset: number;
  size: number;
  flags: string;
}

/** `readelf -S -W` parsed: the independent reference for section headers. */
function readelfSections(bin: string): ReadelfSection[] {
  const out = execFileSync('readelf', ['-S', '-W', bin], { encoding: 'utf8' });
  const rows: ReadelfSection[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*\[\s*(\d+)\]\s+(\S*)\s+(\S+)\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([A-Za-z]*)\s+\d+/.exec(line);
    if (m && m[1] !== '0')
      rows.push({
        name: m[2]!,
        type: m[3]!,
        addr: BigInt(`0x${m[4]}`),
        offset: parseInt(m[5]!, 16),
        size: parseInt(m[6]!, 16),
        flags: m[7]!,
      });
  }
  return rows;
}

function expectFormatError(fn: () => unknown, section?: RegExp, message?: RegExp): FormatError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof FormatError, `expected a FormatError, got ${(e as Error)?.stack ?? String(e)}`);
    if (section) assert.match(e.section, section);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail('expected a FormatError, nothing was thrown');
}

describe('ELF reader [gcc, go, readelf, objcopy]', function () {
  this.timeout(300_000);
  let cBin: string;
  let goBin: string;
  let tmp: string;

  before(() => {
    cBin = buildCFixture('inline', ['-O2', '-g']);
    goBin = buildGoFixture('symbols', newestGo(), BUILD_VARIANTS[0]);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'elf-test-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const which of ['C (gcc, PIE)', 'Go'] as const) {
    it(`${which}: header, sections and segments match readelf`, () => {
      const bin = which === 'Go' ? goBin : cBin;
      const elf = parseElf(fs.readFileSync(bin));
      assert.equal(elf.machine, EM_X86_64);
      assert.equal(elf.type, which === 'Go' ? ET_EXEC : ET_DYN);
      const hdr = execFileSync('readelf', ['-h', bin], { encoding: 'utf8' });
      assert.equal(elf.entry, BigInt(/Entry point address:\s+(0x[0-9a-f]+)/.exec(hdr)![1]!));
      const ref = readelfSections(bin);
      assert.equal(elf.sections.length - 1, ref.length);
      ref.forEach((r, i) => {
        const s = elf.sections[i + 1]!;
        assert.equal(s.name, r.name);
        assert.equal(s.addr, r.addr, r.name);
        assert.equal(s.offset, r.offset, r.name);
        assert.equal(s.size, r.size, r.name);
        assert.equal((s.flags & SHF_COMPRESSED) !== 0n, r.flags.includes('C'), r.name);
      });
      const phdrs = execFileSync('readelf', ['-l', '-W', bin], { encoding: 'utf8' });
      const loads = [...phdrs.matchAll(/^\s*LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)/gm)];
      const ours = elf.programHeaders.filter((p) => p.type === PT_LOAD);
      assert.equal(ours.length, loads.length);
      loads.forEach((m, i) => {
        assert.equal(ours[i]!.offset, parseInt(m[1]!, 16));
        assert.equal(ours[i]!.vaddr, BigInt(`0x${m[2]}`));
        assert.equal(ours[i]!.filesz, parseInt(m[3]!, 16));
        assert.equal(ours[i]!.memsz, parseInt(m[4]!, 16));
      });
      // A text address maps to the file offset readelf's section table implies.
      const text = elf.section('.text')!;
      assert.equal(elf.fileOffsetOf(text.addr + 16n), text.offset + 16);
      assert.equal(elf.fileOffsetOf(0x7fff_0000_0000n), undefined, 'an address in no segment');
    });

    it(`${which}: symbols match nm`, () => {
      const bin = which === 'Go' ? goBin : cBin;
      const elf = parseElf(fs.readFileSync(bin));
      const nm = execFileSync('nm', ['--defined-only', bin], { encoding: 'utf8' }).split('\n').filter(Boolean);
      const ours = new Set(
        elf
          .symbols()
          .filter((s) => s.shndx !== 0 && s.name && s.type !== 4 /* STT_FILE */ && s.type !== 3 /* STT_SECTION */)
          .map((s) => `${s.value.toString(16).padStart(16, '0')} ${s.name}`),
      );
      let n = 0;
      for (const line of nm) {
        const addr = line.slice(0, 16);
        const name = line.slice(19); // "ADDR T NAME": Go names may contain spaces
        assert.ok(ours.has(`${addr} ${name}`), `nm symbol ${line} missing`);
        n++;
      }
      assert.ok(n > 10);
    });
  }

  it('GNU build id matches readelf -n; Go build id matches go tool buildid', () => {
    const c = parseElf(fs.readFileSync(cBin));
    const notes = execFileSync('readelf', ['-n', cBin], { encoding: 'utf8' });
    assert.equal(c.gnuBuildId, /Build ID: ([0-9a-f]+)/.exec(notes)![1]);
    assert.equal(c.goBuildId, undefined);
    const go = parseElf(fs.readFileSync(goBin));
    const tc = newestGo();
    const id = execFileSync(tc.goBin, ['tool', 'buildid', goBin], { encoding: 'utf8', env: goEnv(tc, FIXTURE_CACHE) }).trim();
    assert.equal(go.goBuildId, id);
  });

  it('inflates SHF_COMPRESSED (zlib) and legacy .zdebug_* sections to the same bytes', () => {
    const plain = parseElf(fs.readFileSync(cBin));
    const zlib = path.join(tmp, 'zlib');
    const gnu = path.join(tmp, 'zlib-gnu');
    execFileSync('objcopy', ['--compress-debug-sections=zlib', cBin, zlib]);
    execFileSync('objcopy', ['--compress-debug-sections=zlib-gnu', cBin, gnu]);
    const z = parseElf(fs.readFileSync(zlib));
    const g = parseElf(fs.readFileSync(gnu));
    assert.ok((z.section('.debug_info')!.flags & SHF_COMPRESSED) !== 0n);
    assert.ok(g.section('.zdebug_info'));
    for (const name of ['.debug_info', '.debug_abbrev', '.debug_line', '.debug_str']) {
      const want = plain.sectionData(name)!;
      assert.ok(want.length > 0, name);
      assert.deepEqual(Buffer.from(z.sectionData(name)!), Buffer.from(want), `${name} (SHF_COMPRESSED)`);
      assert.deepEqual(Buffer.from(g.sectionData(name)!), Buffer.from(want), `${name} (.zdebug)`);
    }
    // And Go's own compressed DWARF equals what objcopy decompresses.
    const goPlain = path.join(tmp, 'go-plain');
    execFileSync('objcopy', ['--decompress-debug-sections', goBin, goPlain]);
    const a = parseElf(fs.readFileSync(goBin)).sectionData('.debug_info')!;
    const b = parseElf(fs.readFileSync(goPlain)).sectionData('.debug_info')!;
    assert.ok((parseElf(fs.readFileSync(goBin)).section('.debug_info')!.flags & SHF_COMPRESSED) !== 0n, 'Go compresses its DWARF');
    assert.ok(Buffer.from(a).equals(Buffer.from(b)));
  });

  describe('bad input', () => {
    it('not ELF', () => {
      expectFormatError(() => parseElf(new Uint8Array(0)), /ELF header/, /not an ELF/);
      expectFormatError(() => parseElf(new TextEncoder().encode('#!/bin/sh\necho hi\n')), /ELF header/, /not an ELF/);
    });

    it('ELFCLASS32 and big-endian are rejected by name', () => {
      const bytes = new Uint8Array(fs.readFileSync(cBin));
      const c32 = bytes.slice();
      c32[4] = 1; // EI_CLASS = ELFCLASS32
      const e = expectFormatError(() => parseElf(c32), /ELF header/, /ELFCLASS32/);
      assert.equal(e.offset, 4);
      const be = bytes.slice();
      be[5] = 2; // EI_DATA = ELFDATA2MSB
      assert.equal(expectFormatError(() => parseElf(be), /ELF header/, /big-endian/).offset, 5);
    });

    it('truncated at ~200 offsets across headers and sections: FormatError or a valid partial result, never anything else', () => {
      const bytes = new Uint8Array(fs.readFileSync(cBin));
      const cuts = new Set<number>();
      for (let i = 0; i <= 80; i++) cuts.add(i); // inside the ELF header
      for (let i = 0; i < 120; i++) cuts.add(Math.floor((bytes.length * i) / 120));
      const elf = parseElf(bytes);
      for (const s of elf.sections)
        if (s.size > 0) {
          cuts.add(s.offset);
          cuts.add(s.offset + Math.floor(s.size / 2));
        }
      let errors = 0;
      for (const n of cuts) {
        try {
          const e = parseElf(bytes.subarray(0, n));
          const sym = createDwarfSymbolizer(e);
          if (sym) for (const f of sym.functions().slice(0, 20)) sym.symbolize(f.lowPc);
        } catch (err) {
          assert.ok(err instanceof FormatError, `cut at ${n}: ${(err as Error)?.stack}`);
          errors++;
        }
      }
      assert.ok(cuts.size >= 200, `${cuts.size} cuts`);
      assert.ok(errors > cuts.size / 2, 'most cuts lose the section header table');
    });

    it('sections and segments outside the file', () => {
      const bytes = new Uint8Array(fs.readFileSync(cBin));
      const elf = parseElf(bytes);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const shoff = Number(dv.getBigUint64(40, true));
      const text = elf.section('.text')!;
      const bad = bytes.slice();
      new DataView(bad.buffer).setBigUint64(shoff + text.index * 64 + 32, BigInt(bytes.length), true); // sh_size
      expectFormatError(() => parseElf(bad), /section headers/, /outside the file/);
      const phoff = Number(dv.getBigUint64(32, true));
      const loadIndex = elf.programHeaders.findIndex((p) => p.type === PT_LOAD);
      const badSeg = bytes.slice();
      new DataView(badSeg.buffer).setBigUint64(phoff + loadIndex * 56 + 8, BigInt(bytes.length + 4096), true); // p_offset
      expectFormatError(() => parseElf(badSeg), /program headers/, /outside the file/);
    });

    it('corrupt compressed section → FormatError naming the section and offset', () => {
      const zlib = path.join(tmp, 'zlib-corrupt');
      execFileSync('objcopy', ['--compress-debug-sections=zlib', cBin, zlib]);
      const bytes = new Uint8Array(fs.readFileSync(zlib));
      const s = parseElf(bytes).section('.debug_info')!;
      const bad = bytes.slice();
      for (let i = 24 + 2; i < 24 + 40; i++) bad[s.offset + i] ^= 0x5a; // past the Chdr and the zlib header
      const e = expectFormatError(() => parseElf(bad).sectionData('.debug_info'), /^\.debug_info$/, /corrupt compressed data/);
      assert.equal(e.offset, s.offset + 24);
      // A Chdr claiming an absurd size is rejected before any allocation.
      const huge = bytes.slice();
      new DataView(huge.buffer).setBigUint64(s.offset + 8, 1n << 40n, true);
      expectFormatError(() => parseElf(huge).sectionData('.debug_info'), /^\.debug_info$/, /claims/);
      // And the DWARF symbolizer surfaces it as a FormatError too.
      expectFormatError(() => createDwarfSymbolizer(parseElf(bad)), /^\.debug_info$/);
    });

    it('no DWARF: createDwarfSymbolizer gives undefined', () => {
      const stripped = path.join(tmp, 'stripped');
      execFileSync('objcopy', ['--strip-debug', cBin, stripped]);
      const elf = parseElf(fs.readFileSync(stripped));
      assert.equal(elf.section('.debug_info'), undefined);
      assert.equal(createDwarfSymbolizer(elf), undefined);
      const goStripped = buildGoFixture(
        'symbols',
        newestGo(),
        BUILD_VARIANTS.find((v) => v.name === 'stripped')!,
      );
      assert.equal(createDwarfSymbolizer(parseElf(fs.readFileSync(goStripped))), undefined);
    });
  });

  it('fuzz: 300 seeded mutations of real binaries give a result or a FormatError', () => {
    // Uncompressed DWARF so that mutations reach the DWARF decoders, not just zlib.
    const goPlain = path.join(tmp, 'go-plain-fuzz');
    execFileSync('objcopy', ['--decompress-debug-sections', goBin, goPlain]);
    const inputs = [new Uint8Array(fs.readFileSync(cBin)), new Uint8Array(fs.readFileSync(goPlain))];
    let seed = 0x1234567;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 0x1_0000_0000;
    };
    let ok = 0;
    let errors = 0;
    for (let iter = 0; iter < 300; iter++) {
      const src = inputs[iter % 5 === 4 ? 1 : 0]!; // mostly the small C binary, every fifth the Go one
      const elf0 = parseElf(src);
      const targets = [
        '.debug_info',
        '.debug_abbrev',
        '.debug_line',
        '.debug_rnglists',
        '.debug_ranges',
        '.debug_str',
        '.debug_line_str',
        '.debug_addr',
      ]
        .map((n) => elf0.section(n))
        .filter((s): s is NonNullable<typeof s> => !!s && s.size > 0);
      const bytes = src.slice();
      const edits = 1 + Math.floor(rnd() * 8);
      for (let k = 0; k < edits; k++) {
        // Mostly inside DWARF sections, sometimes anywhere (headers included).
        let at: number;
        if (rnd() < 0.8 && targets.length) {
          const s = targets[Math.floor(rnd() * targets.length)]!;
          at = s.offset + Math.floor(rnd() * s.size);
        } else at = Math.floor(rnd() * Math.min(bytes.length, 4096));
        bytes[at] = rnd() < 0.5 ? Math.floor(rnd() * 256) : bytes[at]! ^ (1 << Math.floor(rnd() * 8));
      }
      try {
        const elf = parseElf(bytes);
        const sym = createDwarfSymbolizer(elf);
        if (sym) {
          const text = elf.section('.text');
          if (text) for (let i = 0; i < 50; i++) sym.symbolize(text.addr + BigInt(Math.floor(rnd() * text.size)));
          for (const f of sym.functions().slice(0, 30)) {
            sym.symbolize(f.lowPc);
            sym.functionAt(f.lowPc);
          }
          sym.structFieldOffset('runtime.g', 'goid');
        }
        ok++;
      } catch (e) {
        assert.ok(e instanceof FormatError, `mutation ${iter}: ${(e as Error)?.stack ?? String(e)}`);
        errors++;
      }
    }
    assert.equal(ok + errors, 300);
    // Both outcomes occur: mutations reach the decoders, and many leave a usable binary.
    console.log(`      ${ok} decoded, ${errors} FormatErrors`);
    assert.ok(ok > 30 && errors > 30, `${ok} decoded, ${errors} FormatErrors`);
  });

  it('ElfFile is the parsed type', () => {
    assert.ok(parseElf(fs.readFileSync(cBin)) instanceof ElfFile);
  });
});
