/**
 * Go's build info (what `go version -m` prints): the toolchain version, the main module path
 * and the build settings (vcs.revision, vcs.modified, ...), from the `.go.buildinfo` blob.
 * Both layouts: Go 1.18+ inline varint-prefixed strings (flag bit 2), and the older one holding
 * pointers to Go string headers elsewhere in the image. Mirrors debug/buildinfo.
 */
import { ByteReader, FormatError, decodeUtf8 } from '../util/byteReader';
import type { ElfFile } from './elf';

const SECTION = '.go.buildinfo';
const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER_SIZE = 32;
const ALIGN = 16;

export interface GoBuildInfo {
  /** e.g. "go1.23.1" */
  goVersion: string;
  /** The main module's path ("path" line), when the binary records one. */
  modulePath?: string;
  /** The main module's version ("mod" line), e.g. "(devel)". */
  moduleVersion?: string;
  /** "build" lines, in order: -compiler, GOARCH, vcs.revision, vcs.modified, ... */
  settings: Map<string, string>;
  vcsRevision?: string;
  vcsModified?: boolean;
}

/** Build info of a Go ELF binary; undefined when it is not a Go binary (no blob). */
export function readGoBuildInfo(elf: ElfFile): GoBuildInfo | undefined {
  let data: Uint8Array | undefined;
  let base = 0;
  const sec = elf.section(SECTION);
  if (sec) {
    data = elf.sectionData(sec);
    base = sec.offset;
  } else {
    // No section (some external links): the blob sits near the start of the data segment.
    const d = elf.section('.data') ?? elf.section('.noptrdata');
    if (d) {
      data = elf.sectionData(d);
      base = d.offset;
    }
  }
  if (!data) return undefined;
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let at = -1;
  for (let from = 0; ;) {
    const i = buf.indexOf(MAGIC, from);
    if (i < 0) return undefined;
    if (i % ALIGN === 0) {
      at = i;
      break;
    }
    from = i + 1;
  }
  if (data.length - at < HEADER_SIZE) throw new FormatError('truncated build info header', SECTION, base + at);
  const r = new ByteReader(data, SECTION, base);
  r.seek(at + 14);
  const ptrSize = r.u8();
  const flags = r.u8();
  let vers: string;
  let mod: string;
  if (flags & 2) {
    r.seek(at + HEADER_SIZE);
    vers = varString(r);
    mod = varString(r);
  } else {
    if (flags & 1) r.fail('big-endian build info is not supported', at + 15);
    if (ptrSize !== 8) r.fail(`pointer size ${ptrSize} is not supported`, at + 14);
    r.seek(at + 16);
    const versAddr = r.u64n();
    const modAddr = r.u64n();
    vers = goStringAt(elf, versAddr);
    mod = goStringAt(elf, modAddr);
  }
  if (vers === '') return undefined;
  if (mod.length >= 33 && mod[mod.length - 17] === '\n') mod = mod.slice(16, mod.length - 16);
  else mod = '';
  return parseModInfo(vers, mod);
}

function varString(r: ByteReader): string {
  const n = r.uleb128();
  if (n > r.remaining) r.fail(`string of ${n} bytes runs past the end of the section`);
  const b = r.bytesN(n);
  return decodeUtf8(b, 0, b.length);
}

function goStringAt(elf: ElfFile, addr: number): string {
  const hdr = readVaddr(elf, addr, 16);
  if (!hdr) return '';
  const v = new DataView(hdr.buffer, hdr.byteOffset, 16);
  const p = Number(v.getBigUint64(0, true));
  const n = Number(v.getBigUint64(8, true));
  if (n > 1 << 24) throw new FormatError(`implausible string length ${n}`, SECTION, addr);
  const b = readVaddr(elf, p, n);
  return b ? decodeUtf8(b, 0, b.length) : '';
}

function readVaddr(elf: ElfFile, addr: number, len: number): Uint8Array | undefined {
  const off = elf.fileOffsetOf(BigInt(addr));
  if (off === undefined || off + len > elf.bytes.length) return undefined;
  return elf.bytes.subarray(off, off + len);
}

/** Parses the module info text (`path\t…`, `mod\t…`, `build\tK=V` lines). */
export function parseModInfo(goVersion: string, mod: string): GoBuildInfo {
  const info: GoBuildInfo = { goVersion, settings: new Map() };
  for (const line of mod.split('\n')) {
    const f = line.split('\t');
    if (f[0] === 'path' && f[1] !== undefined) info.modulePath = f[1];
    else if (f[0] === 'mod' && f[1] !== undefined) {
      info.modulePath ??= f[1];
      if (f[2] !== undefined) info.moduleVersion = f[2];
    } else if (f[0] === 'build' && f[1] !== undefined) {
      const eq = f[1].indexOf('=');
      if (eq > 0) info.settings.set(unquote(f[1].slice(0, eq)), unquote(f[1].slice(eq + 1)));
    }
  }
  const rev = info.settings.get('vcs.revision');
  if (rev !== undefined) info.vcsRevision = rev;
  const modified = info.settings.get('vcs.modified');
  if (modified !== undefined) info.vcsModified = modified === 'true';
  return info;
}

/** Keys/values containing spaces, quotes, tabs or newlines are Go-quoted. */
function unquote(s: string): string {
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) {
    try {
      return JSON.parse(s) as string;
    } catch {
      return s;
    }
  }
  return s;
}
