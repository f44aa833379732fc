/**
 * ELF64 little-endian reader: header, section and program headers, symbols, notes (GNU and Go
 * build ids), and section contents with zlib decompression (SHF_COMPRESSED and legacy .zdebug_*).
 * Pure functions over a Uint8Array; every failure is a FormatError naming what and where.
 */
import { inflateSync } from 'node:zlib';
import { ByteReader, FormatError, cstringAt, decodeUtf8 } from '../util/byteReader';

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface ElfProgramHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: number;
  type: number;
  bind: number;
  shndx: number;
}

export const ET_EXEC = 2;
export const ET_DYN = 3;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;
export const SHF_COMPRESSED = 0x800n;
export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const STT_FUNC = 2;
const ELFCOMPRESS_ZLIB = 1;
const NT_GNU_BUILD_ID = 3;
const NT_GO_BUILD_ID = 4;

const HEADER = 'ELF header';
const SECTION_HEADERS = 'section headers';
const PROGRAM_HEADERS = 'program headers';

/** zlib cannot expand more than ~1032:1; anything claiming more is corrupt (and would be a huge allocation). */
const MAX_INFLATE_RATIO = 1100;

export class ElfFile {
  readonly type: number;
  readonly machine: number;
  readonly entry: bigint;
  readonly sections: ElfSection[] = [];
  readonly programHeaders: ElfProgramHeader[] = [];
  readonly gnuBuildId?: string;
  readonly goBuildId?: string;
  private readonly byName = new Map<string, ElfSection>();
  private readonly dataCache = new Map<number, Uint8Array>();
  private symbolCache?: ElfSymbol[];

  constructor(readonly bytes: Uint8Array) {
    if (bytes.length < 16 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
      throw new FormatError('not an ELF file (bad magic)', HEADER, 0);
    }
    if (bytes[4] !== 2)
      throw new FormatError(bytes[4] === 1 ? 'ELFCLASS32 (32-bit) files are not supported' : `bad ELF class ${bytes[4]}`, HEADER, 4);
    if (bytes[5] !== 1)
      throw new FormatError(bytes[5] === 2 ? 'big-endian ELF files are not supported' : `bad ELF data encoding ${bytes[5]}`, HEADER, 5);
    const h = new ByteReader(bytes, HEADER);
    if (bytes.length < 64) h.fail(`truncated: header needs 64 bytes, file has ${bytes.length}`, 0);
    h.seek(16);
    this.type = h.u16();
    this.machine = h.u16();
    h.u32(); // e_version
    this.entry = h.u64();
    const phoff = h.u64n();
    const shoff = h.u64n();
    h.u32(); // e_flags
    h.u16(); // e_ehsize
    const phentsize = h.u16();
    let phnum = h.u16();
    const shentsize = h.u16();
    let shnum = h.u16();
    let shstrndx = h.u16();

    // Section headers, with extended numbering (shnum/shstrndx stored in section 0).
    if (shoff !== 0) {
      if (shentsize < 64) throw new FormatError(`section header size ${shentsize} < 64`, HEADER, 58);
      if (shoff + 64 > bytes.length)
        throw new FormatError(
          `section header table at 0x${shoff.toString(16)} is outside the file (${bytes.length} bytes)`,
          SECTION_HEADERS,
          shoff,
        );
      const s0 = new ByteReader(bytes, SECTION_HEADERS).seek(shoff);
      s0.skip(32);
      const size0 = s0.u64n();
      const link0 = s0.u32();
      if (shnum === 0) shnum = size0;
      if (shstrndx === 0xffff) shstrndx = link0;
      if (phnum === 0xffff) phnum = new ByteReader(bytes, SECTION_HEADERS).seek(shoff + 44).u32();
      if (shoff + shnum * shentsize > bytes.length) {
        throw new FormatError(
          `section header table (${shnum} entries) runs past the end of the file (${bytes.length} bytes)`,
          SECTION_HEADERS,
          shoff,
        );
      }
      const r = new ByteReader(bytes, SECTION_HEADERS);
      const nameOffsets: number[] = [];
      for (let i = 0; i < shnum; i++) {
        r.seek(shoff + i * shentsize);
        nameOffsets.push(r.u32());
        const type = r.u32();
        const flags = r.u64();
        const addr = r.u64();
        const offset = r.u64n();
        const size = r.u64n();
        const link = r.u32();
        const info = r.u32();
        const addralign = r.u64n();
        const entsize = r.u64n();
        if (type !== SHT_NOBITS && i !== 0 && (offset > bytes.length || size > bytes.length - offset)) {
          throw new FormatError(
            `section ${i} [0x${offset.toString(16)}, +0x${size.toString(16)}) is outside the file (${bytes.length} bytes)`,
            SECTION_HEADERS,
            shoff + i * shentsize,
          );
        }
        this.sections.push({ index: i, name: '', type, flags, addr, offset, size, link, info, addralign, entsize });
      }
      if (shnum > 0) {
        const strtab = this.sections[shstrndx];
        if (!strtab) throw new FormatError(`section name table index ${shstrndx} out of range`, HEADER, 62);
        const table = bytes.subarray(strtab.offset, strtab.offset + strtab.size);
        for (const s of this.sections) {
          if (s.index === 0) continue;
          s.name = cstringAt(table, nameOffsets[s.index]!, '.shstrtab');
          if (!this.byName.has(s.name)) this.byName.set(s.name, s);
        }
      }
    }

    // Program headers.
    if (phoff !== 0 && phnum > 0) {
      if (phentsize < 56) throw new FormatError(`program header size ${phentsize} < 56`, HEADER, 54);
      if (phoff > bytes.length || phnum * phentsize > bytes.length - phoff) {
        throw new FormatError(`program header table (${phnum} entries) runs past the end of the file`, PROGRAM_HEADERS, phoff);
      }
      const r = new ByteReader(bytes, PROGRAM_HEADERS);
      for (let i = 0; i < phnum; i++) {
        r.seek(phoff + i * phentsize);
        const type = r.u32();
        const flags = r.u32();
        const offset = r.u64n();
        const vaddr = r.u64();
        const paddr = r.u64();
        const filesz = r.u64n();
        const memsz = r.u64n();
        const align = r.u64n();
        if (type === PT_LOAD && (offset > bytes.length || filesz > bytes.length - offset)) {
          throw new FormatError(
            `segment ${i} [0x${offset.toString(16)}, +0x${filesz.toString(16)}) is outside the file`,
            PROGRAM_HEADERS,
            phoff + i * phentsize,
          );
        }
        this.programHeaders.push({ type, flags, offset, vaddr, paddr, filesz, memsz, align });
      }
    }

    const ids = this.readNotes();
    if (ids.gnu !== undefined) this.gnuBuildId = ids.gnu;
    const go = ids.go ?? this.findOldGoBuildId();
    if (go !== undefined) this.goBuildId = go;
  }

  section(name: string): ElfSection | undefined {
    return this.byName.get(name);
  }

  /**
   * Section contents; compressed sections are inflated (and cached). ".debug_x" also finds
   * ".zdebug_x". NOBITS sections give an empty array; an unknown name gives undefined.
   */
  sectionData(nameOrSection: string | ElfSection): Uint8Array | undefined {
    let s: ElfSection | undefined;
    if (typeof nameOrSection === 'string') {
      s = this.byName.get(nameOrSection);
      if (!s && nameOrSection.startsWith('.debug_')) s = this.byName.get('.z' + nameOrSection.slice(1));
    } else {
      s = nameOrSection;
    }
    if (!s) return undefined;
    if (s.type === SHT_NOBITS) return new Uint8Array(0);
    const cached = this.dataCache.get(s.index);
    if (cached) return cached;
    const raw = this.bytes.subarray(s.offset, s.offset + s.size);
    let data = raw;
    if ((s.flags & SHF_COMPRESSED) !== 0n) {
      const r = new ByteReader(raw, s.name, s.offset);
      const chType = r.u32();
      r.u32(); // ch_reserved
      const size = r.u64n();
      r.u64n(); // ch_addralign
      if (chType !== ELFCOMPRESS_ZLIB) r.fail(`unsupported compression type ${chType}`, 0);
      data = inflateBounded(raw.subarray(24), size, s.name, s.offset + 24);
    } else if (
      s.name.startsWith('.zdebug_') &&
      raw.length >= 4 &&
      raw[0] === 0x5a &&
      raw[1] === 0x4c &&
      raw[2] === 0x49 &&
      raw[3] === 0x42
    ) {
      const r = new ByteReader(raw, s.name, s.offset, false);
      r.skip(4);
      const size = r.u64n();
      data = inflateBounded(raw.subarray(12), size, s.name, s.offset + 12);
    }
    this.dataCache.set(s.index, data);
    return data;
  }

  /** Symbols from .symtab, else .dynsym (cached). */
  symbols(): ElfSymbol[] {
    if (this.symbolCache) return this.symbolCache;
    const tab = this.sections.find((s) => s.type === SHT_SYMTAB) ?? this.sections.find((s) => s.type === SHT_DYNSYM);
    const out: ElfSymbol[] = [];
    if (tab) {
      const strSec = this.sections[tab.link];
      const strtab = strSec ? this.sectionData(strSec)! : new Uint8Array(0);
      const data = this.sectionData(tab)!;
      const r = new ByteReader(data, tab.name, tab.offset);
      const n = Math.floor(data.length / 24);
      for (let i = 1; i < n; i++) {
        r.seek(i * 24);
        const nameOff = r.u32();
        const info = r.u8();
        r.u8(); // st_other
        const shndx = r.u16();
        const value = r.u64();
        const size = r.u64n();
        const name = nameOff === 0 ? '' : cstringAt(strtab, nameOff, strSec?.name ?? '.strtab');
        out.push({ name, value, size, type: info & 0xf, bind: info >> 4, shndx });
      }
    }
    this.symbolCache = out;
    return out;
  }

  /** Virtual address → file offset through PT_LOAD segments; undefined outside file-backed bytes. */
  fileOffsetOf(vaddr: bigint): number | undefined {
    for (const p of this.programHeaders) {
      if (p.type !== PT_LOAD) continue;
      if (vaddr >= p.vaddr && vaddr < p.vaddr + BigInt(p.filesz)) return p.offset + Number(vaddr - p.vaddr);
    }
    return undefined;
  }

  private readNotes(): { gnu?: string; go?: string } {
    const found: { gnu?: string; go?: string } = {};
    // Notes are padded to 4 bytes, or 8 in 8-aligned note sections (.note.gnu.property).
    const blobs: { data: Uint8Array; name: string; offset: number; align: number }[] = [];
    for (const s of this.sections) {
      if (s.type === SHT_NOTE)
        blobs.push({
          data: this.bytes.subarray(s.offset, s.offset + s.size),
          name: s.name,
          offset: s.offset,
          align: s.addralign === 8 ? 8 : 4,
        });
    }
    if (blobs.length === 0) {
      for (const p of this.programHeaders) {
        if (p.type === PT_NOTE && p.offset <= this.bytes.length && p.filesz <= this.bytes.length - p.offset) {
          blobs.push({
            data: this.bytes.subarray(p.offset, p.offset + p.filesz),
            name: 'PT_NOTE',
            offset: p.offset,
            align: p.align === 8 ? 8 : 4,
          });
        }
      }
    }
    for (const b of blobs) {
      const r = new ByteReader(b.data, b.name, b.offset);
      // Name and descriptor each start aligned, counted from the (aligned) start of the notes.
      const pad = (): void => {
        r.skip(Math.min((b.align - (r.pos % b.align)) % b.align, r.remaining));
      };
      while (r.remaining >= 12) {
        const namesz = r.u32();
        const descsz = r.u32();
        const type = r.u32();
        const name = r.bytesN(namesz);
        pad();
        const desc = r.bytesN(descsz);
        pad();
        const nameStr = decodeUtf8(name, 0, name.indexOf(0) >= 0 ? name.indexOf(0) : name.length);
        if (nameStr === 'GNU' && type === NT_GNU_BUILD_ID && found.gnu === undefined) found.gnu = Buffer.from(desc).toString('hex');
        if (nameStr === 'Go' && type === NT_GO_BUILD_ID && found.go === undefined)
          found.go = decodeUtf8(desc, 0, desc.indexOf(0) >= 0 ? desc.indexOf(0) : desc.length);
      }
    }
    return found;
  }

  /** Old Go (and non-ELF-note builds) put `\xff Go build ID: "..."\n \xff` at the start of text. */
  private findOldGoBuildId(): string | undefined {
    const text = this.byName.get('.text');
    if (!text || text.type === SHT_NOBITS) return undefined;
    const head = this.bytes.subarray(text.offset, text.offset + Math.min(text.size, 4096));
    const marker = Buffer.from('\xff Go build ID: "', 'latin1');
    const at = Buffer.from(head.buffer, head.byteOffset, head.byteLength).indexOf(marker);
    if (at < 0) return undefined;
    const start = at + marker.length;
    const end = head.indexOf(0x22, start);
    if (end < 0) return undefined;
    return decodeUtf8(head, start, end);
  }
}

function inflateBounded(data: Uint8Array, size: number, section: string, offset: number): Uint8Array {
  if (size > data.length * MAX_INFLATE_RATIO + 1024 || size > 0x7fff_ffff) {
    throw new FormatError(`compressed section claims ${size} bytes from ${data.length}: corrupt`, section, offset);
  }
  let out: Buffer;
  try {
    out = inflateSync(data, { maxOutputLength: Math.max(1, size) });
  } catch (e) {
    throw new FormatError(`corrupt compressed data: ${(e as Error).message}`, section, offset);
  }
  if (out.length !== size) throw new FormatError(`inflated to ${out.length} bytes, header says ${size}`, section, offset);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Parses an ELF64 little-endian file; throws FormatError on anything else or on damage. */
export function parseElf(bytes: Uint8Array): ElfFile {
  return new ElfFile(bytes);
}
