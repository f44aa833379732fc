/**
 * A Go binary ready for ingest: its symbolizer, its PT_LOAD segments (to turn file offsets
 * from perf's mmaps into link-time addresses) and its identity for the model.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BinaryIdentity } from '../model/profile';
import type { ElfFile } from '../formats/elf';
import { PT_LOAD } from '../formats/elf';
import type { GoPclntab } from '../formats/gopclntab';
import { type BinaryInfo, openSymbolizer } from '../symbolize/openSymbolizer';
import type { Symbolizer } from '../symbolize/symbolizer';
import { FormatError } from '../util/byteReader';
import { UserError } from '../util/userError';

export interface LoadSegment {
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  flags: number;
}

export interface LoadedBinary {
  path: string;
  symbolizer: Symbolizer;
  elf: ElfFile;
  info: BinaryInfo;
  /** The Go function table, when the symbolizer opened one. */
  pclntab?: GoPclntab;
  segments: LoadSegment[];
  identity: BinaryIdentity;
}

export function identityOf(p: string, info: BinaryInfo): BinaryIdentity {
  const id: BinaryIdentity = { path: p };
  if (info.buildId !== undefined) id.buildId = info.buildId;
  if (info.goBuildId !== undefined) id.goBuildId = info.goBuildId;
  if (info.goVersion !== undefined) id.goVersion = info.goVersion;
  if (info.modulePath !== undefined) id.modulePath = info.modulePath;
  if (info.vcsRevision !== undefined) id.vcsRevision = info.vcsRevision;
  if (info.vcsModified !== undefined) id.vcsModified = info.vcsModified;
  return id;
}

/** Opens a binary from bytes already read. */
export function loadBinaryBytes(bytes: Uint8Array, p: string): LoadedBinary {
  const { symbolizer, info, elf, pclntab } = openSymbolizer(bytes, p);
  const segments = elf.programHeaders
    .filter((h) => h.type === PT_LOAD)
    .map((h) => ({ offset: Number(h.offset), vaddr: Number(h.vaddr), filesz: Number(h.filesz), memsz: Number(h.memsz), flags: h.flags }));
  return { path: p, symbolizer, elf, info, ...(pclntab ? { pclntab } : {}), segments, identity: identityOf(p, info) };
}

/** Reads and opens a binary; a missing or unreadable file is a UserError. */
export function loadBinary(p: string): LoadedBinary {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `binary ${p} does not exist` : `cannot read binary ${p}: ${(e as Error).message}`,
      "pass the Go program's executable with --binary PATH",
      'binary-unreadable',
    );
  }
  try {
    return loadBinaryBytes(bytes, path.resolve(p));
  } catch (e) {
    // A damaged executable is the binary's problem, not the profile's: name it.
    if (e instanceof FormatError)
      throw new UserError(
        `cannot read binary ${p}: ${e.message}`,
        "pass the Go program's executable with --binary PATH (is the file complete?)",
        'binary-unreadable',
      );
    throw e;
  }
}
