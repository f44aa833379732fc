/**
 * Finds a Go binary's .gopclntab in an ELF file and what decoding it needs from around it:
 * the text start (PIE fallback) and go:func.* (the base of 1.18+ funcdata offsets, where the
 * inline trees live). With a symbol table, go:func.* is a symbol; stripped binaries still
 * carry runtime.firstmoduledata, whose first word points at the pclntab — so we scan the data
 * sections for that pointer, check the slices that follow, and read moduledata.gofunc.
 */
import { type ElfFile, SHT_NOBITS } from './elf';
import { GoPclntab } from './gopclntab';

export function findPclntabSection(elf: ElfFile) {
  return elf.section('.gopclntab') ?? elf.section('.data.rel.ro.gopclntab');
}

/** The decoded pclntab of an ELF Go binary, or undefined when it has none. */
export function openGoPclntab(elf: ElfFile): GoPclntab | undefined {
  const sec = findPclntabSection(elf);
  if (!sec || sec.type === SHT_NOBITS) return undefined;
  const data = elf.sectionData(sec);
  if (!data) return undefined;
  const readVaddr = (vaddr: number, len: number): Uint8Array | undefined => {
    const off = elf.fileOffsetOf(BigInt(vaddr));
    if (off === undefined || off + len > elf.bytes.length) return undefined;
    return elf.bytes.subarray(off, off + len);
  };
  const text = elf.section('.text');
  const opts: ConstructorParameters<typeof GoPclntab>[1] = { addr: Number(sec.addr), readVaddr };
  if (text) opts.textStartFallback = Number(text.addr);
  const tab = new GoPclntab(data, opts);
  if (tab.version !== '1.16') tab.gofunc = findGofunc(elf, tab, Number(sec.addr));
  return tab;
}

function findGofunc(elf: ElfFile, tab: GoPclntab, pclntabAddr: number): number | undefined {
  // moduledata first: one pass over .noptrdata is much cheaper than decoding a large
  // symbol table (cmd/compile has ~100k symbols); the symbol is the fallback.
  const found = findGofuncInModuledata(elf, tab, pclntabAddr);
  if (found !== undefined) return found;
  for (const s of elf.symbols()) {
    if (s.name === 'go:func.*' || s.name === 'go.func.*') return Number(s.value);
  }
  return undefined;
}

/** Word index of moduledata.gofunc: 1.20 added covctrs/ecovctrs before it. */
function gofuncWord(tab: GoPclntab): number {
  return tab.version === '1.20' ? 40 : 38;
}

export function findGofuncInModuledata(elf: ElfFile, tab: GoPclntab, pclntabAddr: number): number | undefined {
  if (pclntabAddr === 0) return undefined;
  const lo = pclntabAddr % 0x100000000;
  const hi = Math.floor(pclntabAddr / 0x100000000);
  for (const name of ['.noptrdata', '.data', '.data.rel.ro']) {
    const s = elf.section(name);
    if (!s || s.type === SHT_NOBITS) continue;
    const d = elf.sectionData(s);
    if (!d) continue;
    const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const words = gofuncWord(tab) + 1;
    for (let p = 0; p + words * 8 <= d.length; p += 8) {
      if (v.getUint32(p, true) !== lo || v.getUint32(p + 4, true) !== hi) continue;
      // funcnametab.ptr follows the pcHeader pointer, then its len and cap; then cutab.ptr.
      const w = (i: number): number => Number(v.getBigUint64(p + 8 * i, true));
      if (w(1) <= pclntabAddr || w(1) >= pclntabAddr + 0x80000000) continue;
      if (w(22) !== tab.textStart) continue; // moduledata.text
      const gofunc = w(gofuncWord(tab));
      if (elf.fileOffsetOf(BigInt(gofunc)) === undefined) continue;
      return gofunc;
    }
  }
  return undefined;
}
