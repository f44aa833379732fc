/**
 * The FramelessIndex (pcsp SP deltas, return-address checks) of a loaded Go binary, or
 * undefined when it has no .gopclntab (not Go, or a table we cannot read).
 */
import { openGoPclntab } from '../formats/openGoPclntab';
import { FramelessIndex } from '../symbolize/framelessCallers';
import type { LoadedBinary } from './loadBinary';

const cache = new WeakMap<object, FramelessIndex | null>();

export function framelessIndexOf(bin: Pick<LoadedBinary, 'elf' | 'pclntab'>): FramelessIndex | undefined {
  const known = cache.get(bin.elf);
  if (known !== undefined) return known ?? undefined;
  let idx: FramelessIndex | null = null;
  try {
    const tab = bin.pclntab ?? openGoPclntab(bin.elf);
    if (tab) {
      const elf = bin.elf;
      idx = new FramelessIndex(tab, (vaddr, len) => {
        const off = elf.fileOffsetOf(BigInt(vaddr));
        return off === undefined || off + len > elf.bytes.length ? undefined : elf.bytes.subarray(off, off + len);
      });
    }
  } catch {
    idx = null; // a table we cannot decode: the caller simply does not check
  }
  cache.set(bin.elf, idx);
  return idx ?? undefined;
}
