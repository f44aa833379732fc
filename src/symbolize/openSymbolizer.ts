/**
 * The entry point: bytes of an ELF binary in, a Symbolizer (and what the binary says about
 * itself) out, cached by build id so a binary is indexed once per process.
 *
 * Backend choice: Go binaries use .gopclntab even when DWARF is present — it is what the Go
 * runtime itself uses, it gives the same function, file, line and inline chain as the DWARF
 * (the tests check this against llvm-symbolizer on every toolchain), and it needs no index
 * build (the table is already sorted), so it is much faster. Binaries without a pclntab
 * (C, C++) use DWARF. `prefer` overrides the choice.
 */
import { constants as zlibConstants, inflateSync } from 'node:zlib';
import { ByteReader, FormatError } from '../util/byteReader';
import { UserError } from '../util/userError';
import { type ElfFile, SHF_COMPRESSED, SHT_NOBITS, parseElf } from '../formats/elf';
import { readGoBuildInfo } from '../formats/goBuildInfo';
import { GO116_MAGIC, GO118_MAGIC, GO120_MAGIC, type GoPclntab } from '../formats/gopclntab';
import { findPclntabSection, openGoPclntab } from '../formats/openGoPclntab';
import { GopclntabSymbolizer } from './gopclntabSymbolizer';
import type { Symbolizer } from './symbolizer';

export interface BinaryInfo {
  /** GNU build id (hex), else Go's build id; undefined when the binary has neither. */
  buildId?: string;
  goBuildId?: string;
  goVersion?: string;
  modulePath?: string;
  vcsRevision?: string;
  vcsModified?: boolean;
  hasDwarf: boolean;
  /** A .gopclntab this reader can decode (its magic is one of Go 1.16–1.23's). */
  hasPclntab: boolean;
  /** Why a .gopclntab that is there cannot be used (an unknown magic: damaged, or Go older than 1.16). */
  pclntabProblem?: string;
  /** Version of the first DWARF compilation unit (2–5). */
  dwarfVersion?: number;
}

export type Backend = 'auto' | 'dwarf' | 'gopclntab';

export interface OpenedSymbolizer {
  symbolizer: Symbolizer;
  info: BinaryInfo;
  elf: ElfFile;
  /** The binary's Go function table when it was opened (the gopclntab backend's), for other readers of it (FramelessIndex). */
  pclntab?: GoPclntab;
}

/** What a binary says about itself: build ids, Go build info, which debug info it carries. */
export function binaryInfo(elf: ElfFile): BinaryInfo {
  const hasDwarf = elf.section('.debug_info') !== undefined || elf.section('.zdebug_info') !== undefined;
  const pcln = findPclntabSection(elf);
  const problem = pcln !== undefined && pcln.size > 0 ? pclntabMagicProblem(elf, pcln) : 'absent';
  const info: BinaryInfo = { hasDwarf, hasPclntab: problem === undefined };
  if (problem !== undefined && problem !== 'absent') info.pclntabProblem = problem;
  const id = elf.gnuBuildId ?? elf.goBuildId;
  if (id !== undefined) info.buildId = id;
  if (elf.goBuildId !== undefined) info.goBuildId = elf.goBuildId;
  const go = readGoBuildInfo(elf);
  if (go) {
    info.goVersion = go.goVersion;
    if (go.modulePath !== undefined) info.modulePath = go.modulePath;
    if (go.vcsRevision !== undefined) info.vcsRevision = go.vcsRevision;
    if (go.vcsModified !== undefined) info.vcsModified = go.vcsModified;
  }
  if (hasDwarf) {
    let v: number | undefined;
    try {
      v = dwarfVersionOf(elf);
    } catch {
      v = undefined; // a damaged .debug_info is the DWARF reader's to report, not this summary's
    }
    if (v !== undefined && v >= 2 && v <= 5) info.dwarfVersion = v;
  }
  return info;
}

/** Undefined when the section starts with a magic the pclntab decoder knows; else what is wrong. */
function pclntabMagicProblem(elf: ElfFile, sec: NonNullable<ReturnType<typeof findPclntabSection>>): string | undefined {
  if (sec.type === SHT_NOBITS || sec.offset + 4 > elf.bytes.length) return 'its .gopclntab section holds no bytes in the file';
  const b = elf.bytes;
  const magic = (b[sec.offset]! | (b[sec.offset + 1]! << 8) | (b[sec.offset + 2]! << 16) | (b[sec.offset + 3]! << 24)) >>> 0;
  if (KNOWN_PCLNTAB_MAGICS.includes(magic)) return undefined;
  const old = magic === 0xfffffffb ? ' (Go 1.2–1.15, not supported)' : ' (damaged, or not written by Go 1.16 or later)';
  return `its .gopclntab starts with an unknown magic 0x${magic.toString(16).padStart(8, '0')}${old}`;
}
const KNOWN_PCLNTAB_MAGICS: readonly number[] = [GO116_MAGIC, GO118_MAGIC, GO120_MAGIC];

/** The version field of the first unit header in .debug_info. */
function dwarfVersionOf(elf: ElfFile): number | undefined {
  const sec = elf.section('.debug_info') ?? elf.section('.zdebug_info');
  if (!sec) return undefined;
  let data: Uint8Array | undefined;
  const raw = elf.bytes.subarray(sec.offset, sec.offset + Math.min(sec.size, 4096));
  if ((sec.flags & SHF_COMPRESSED) !== 0n || sec.name.startsWith('.zdebug_')) {
    // Inflate only the head: the version sits in the first unit header, and inflating the
    // whole of .debug_info of a large binary costs tens of milliseconds.
    const skip = sec.name.startsWith('.zdebug_') ? 12 : 24;
    try {
      data = inflateSync(raw.subarray(skip), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch {
      data = elf.sectionData(sec);
    }
  } else {
    data = raw;
  }
  if (!data || data.length < 6) return undefined;
  const r = new ByteReader(data, '.debug_info');
  const len32 = r.u32();
  if (len32 === 0xffffffff) r.skip(8);
  return r.u16();
}

/** Only for binaries without a build id; node:crypto is loaded then (~8 ms), not at start-up. */
function sha256Hex(bytes: Uint8Array): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(bytes).digest('hex');
}

/** A cache of opened binaries keyed by build id (GNU, else Go, else a content hash). */
export class SymbolizerCache {
  private readonly entries = new Map<string, OpenedSymbolizer>();
  constructor(private readonly capacity = 8) {}

  open(bytes: Uint8Array, path?: string, prefer: Backend = 'auto'): OpenedSymbolizer {
    const elf = parseElfForUser(bytes, path);
    const id = elf.gnuBuildId ?? elf.goBuildId ?? `sha256:${sha256Hex(bytes)}`;
    const key = `${prefer}:${id}`;
    const hit = this.entries.get(key);
    if (hit) return hit;
    const opened = openElfSymbolizer(elf, path, prefer);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, opened);
    return opened;
  }
}

const defaultCache = new SymbolizerCache();

/** Opens (or finds in the process-wide cache) a symbolizer for an ELF binary's bytes. */
export function openSymbolizer(bytes: Uint8Array, path?: string, prefer: Backend = 'auto'): OpenedSymbolizer {
  return defaultCache.open(bytes, path, prefer);
}

function parseElfForUser(bytes: Uint8Array, path?: string): ElfFile {
  try {
    return parseElf(bytes);
  } catch (e) {
    if (e instanceof FormatError && e.section === 'ELF header' && e.offset <= 5) {
      throw new UserError(
        `${path ?? 'the binary'} is not a 64-bit little-endian ELF file (${e.message})`,
        "pass the Go program's executable (for a running process: /proc/PID/exe)",
        'not-elf',
      );
    }
    throw e;
  }
}

/** Builds the symbolizer for a parsed ELF file (uncached). */
export function openElfSymbolizer(elf: ElfFile, path?: string, prefer: Backend = 'auto'): OpenedSymbolizer {
  const info = binaryInfo(elf);
  const name = path ?? 'the binary';
  // An explicit backend is used or refused, never silently replaced by the other one.
  if (prefer !== 'dwarf' && info.hasPclntab) {
    const tab = openGoPclntab(elf);
    if (tab) return { symbolizer: new GopclntabSymbolizer(tab), info, elf, pclntab: tab };
  }
  if (prefer === 'gopclntab') {
    throw new UserError(
      `${name} has no usable Go .gopclntab${info.pclntabProblem ? `: ${info.pclntabProblem}` : ''}`,
      info.hasDwarf
        ? 'use --backend dwarf (it has DWARF debug information) or --backend auto'
        : "pass the Go program's own, undamaged executable",
      'no-debug-info',
    );
  }
  if (info.hasDwarf) {
    // Loaded on demand: a Go binary never needs the DWARF code, and the CLI starts faster.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createDwarfSymbolizer } = require('./dwarfSymbolizer') as typeof import('./dwarfSymbolizer');
    const dwarf = createDwarfSymbolizer(elf);
    if (dwarf) return { symbolizer: dwarf, info, elf };
  }
  if (prefer === 'dwarf') {
    throw new UserError(
      `${name} has no DWARF debug information (it was stripped, or built with -ldflags=-w)`,
      info.hasPclntab
        ? "use --backend gopclntab or --backend auto (Go's own tables give functions, files and lines), or pass the unstripped binary"
        : 'pass the unstripped binary',
      'no-debug-info',
    );
  }
  throw new UserError(
    info.pclntabProblem
      ? `${name} has no DWARF debug information, and ${info.pclntabProblem}: nothing maps its addresses to source`
      : `${name} has neither DWARF debug information nor a Go .gopclntab: nothing maps its addresses to source`,
    'build it without stripping debug information (no -ldflags=-w for DWARF; Go binaries always keep .gopclntab), or pass the unstripped binary',
    'no-debug-info',
  );
}
