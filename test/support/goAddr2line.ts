/**
 * `go tool addr2line` of a given toolchain as an independent reference (llvm-symbolizer is in
 * llvmSymbolizer.ts), run once per batch of addresses.
 */
import { execFileSync } from 'node:child_process';
import type { GoToolchain } from './goToolchains';
import { goEnv, FIXTURE_CACHE } from './goToolchains';

export interface RefFrame {
  function: string;
  file: string;
  line: number;
}

const MAX_BUFFER = 1 << 30;

/** `go tool addr2line` of the same toolchain: the physical function and the innermost file:line. */
export function goAddr2line(tc: GoToolchain, bin: string, pcs: readonly number[]): RefFrame[] {
  const input = pcs.map((pc) => '0x' + pc.toString(16)).join('\n') + '\n';
  const out = execFileSync(tc.goBin, ['tool', 'addr2line', bin], {
    input,
    maxBuffer: MAX_BUFFER,
    encoding: 'utf8',
    env: goEnv(tc, FIXTURE_CACHE),
  });
  const lines = out.split('\n');
  const res: RefFrame[] = [];
  for (let i = 0; i < pcs.length; i++) {
    const fn = lines[2 * i];
    const fl = lines[2 * i + 1];
    if (fn === undefined || fl === undefined) throw new Error(`go tool addr2line gave too few lines for ${pcs.length} addresses`);
    const colon = fl.lastIndexOf(':');
    res.push({ function: fn, file: fl.slice(0, colon), line: Number(fl.slice(colon + 1)) });
  }
  return res;
}
