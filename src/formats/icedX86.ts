/**
 * iced-x86 (the full x86 decoder), loaded on first use only: its JS glue and wasm cost ~45 ms
 * at require time, and most runs never need it (formats/x86Calls knows the code of Go binaries).
 */
import type * as IcedX86 from 'iced-x86';

export type { IcedX86 };

let iced: typeof IcedX86 | undefined;

export function loadIced(): typeof IcedX86 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (iced ??= require('iced-x86') as typeof IcedX86);
}
