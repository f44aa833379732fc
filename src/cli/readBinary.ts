/**
 * Reads a binary for the CLI, turning file-system errors into UserErrors. For a Go binary
 * symbolized through its .gopclntab, the machine code, symbol table and DWARF are never looked
 * at, so `lean` leaves them unread (zero-filled: the array is allocated lazily by the OS, so
 * they cost neither I/O nor resident memory) — on cmd/compile that is two thirds of the file.
 */
import * as fs from 'node:fs';
import { UserError } from '../util/userError';

/** Sections a .gopclntab symbolizer never reads (besides the first page of .text, see ElfFile's old-style Go build id). */
function skippable(name: string): boolean {
  return name === '.text' || name === '.symtab' || name === '.strtab' || name.startsWith('.debug_') || name.startsWith('.zdebug_');
}

export function readBinary(path: string, lean = false): Uint8Array {
  let fd: number;
  try {
    const st = fs.statSync(path);
    if (!st.isFile()) throw new UserError(`${path} is not a regular file`, "pass the path of the Go program's executable", 'not-a-file');
    fd = fs.openSync(path, 'r');
  } catch (e) {
    if (e instanceof UserError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT')
      throw new UserError(`${path}: no such file`, 'check the path of the binary (for a running process: /proc/PID/exe)', 'no-such-file');
    if (err.code === 'EACCES') throw new UserError(`${path}: permission denied`, 'run as a user who can read the binary', 'permission');
    throw new UserError(`${path}: cannot read (${err.message})`, undefined, 'read-failed');
  }
  try {
    const size = fs.fstatSync(fd).size;
    const bytes = new Uint8Array(size);
    const read = (off: number, len: number): void => {
      let done = 0;
      while (done < len) {
        const n = fs.readSync(fd, bytes, off + done, len - done, off + done);
        if (n <= 0) break;
        done += n;
      }
    };
    if (!lean || !readLean(bytes, read)) read(0, size);
    return bytes;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UserError(`${path}: cannot read (${err.message})`, undefined, 'read-failed');
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads everything but the skippable sections of a Go ELF64 LE binary; false (nothing
 * decided) when the file is not one, or its headers look odd — the caller then reads it all
 * and the ELF parser reports any damage.
 */
function readLean(bytes: Uint8Array, read: (off: number, len: number) => void): boolean {
  const size = bytes.length;
  if (size < 64) return false;
  read(0, 64);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46 || bytes[4] !== 2 || bytes[5] !== 1) return false;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const phoff = Number(v.getBigUint64(32, true));
  const shoff = Number(v.getBigUint64(40, true));
  const phentsize = v.getUint16(54, true);
  const phnum = v.getUint16(56, true);
  const shentsize = v.getUint16(58, true);
  const shnum = v.getUint16(60, true);
  const shstrndx = v.getUint16(62, true);
  if (
    shoff === 0 ||
    shnum === 0 ||
    shentsize < 64 ||
    shstrndx >= shnum ||
    shoff + shnum * shentsize > size ||
    phoff + phnum * phentsize > size
  )
    return false;
  read(phoff, phnum * phentsize);
  read(shoff, shnum * shentsize);
  const sec = (i: number): { name: number; type: number; offset: number; size: number } => {
    const p = shoff + i * shentsize;
    return {
      name: v.getUint32(p, true),
      type: v.getUint32(p + 4, true),
      offset: Number(v.getBigUint64(p + 24, true)),
      size: Number(v.getBigUint64(p + 32, true)),
    };
  };
  const strtab = sec(shstrndx);
  if (strtab.offset + strtab.size > size) return false;
  read(strtab.offset, strtab.size);
  const nameOf = (off: number): string => {
    const start = strtab.offset + off;
    let end = start;
    while (end < strtab.offset + strtab.size && bytes[end] !== 0) end++;
    return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
  };
  const sections = Array.from({ length: shnum }, (_, i) => ({ ...sec(i), label: '' }));
  for (const s of sections) s.label = nameOf(s.name);
  if (!sections.some((s) => s.label === '.gopclntab')) return false;
  const SHT_NOBITS = 8;
  for (const s of sections) {
    if (s.type === SHT_NOBITS || s.size === 0 || s.offset + s.size > size) continue;
    if (skippable(s.label)) {
      if (s.label === '.text') read(s.offset, Math.min(s.size, 4096));
      continue;
    }
    read(s.offset, s.size);
  }
  return true;
}
