/** Runs llvm-symbolizer --inlining --output-style=JSON over a batch of addresses (the independent reference). */
import { execFileSync } from 'node:child_process';

export interface LlvmFrame {
  function: string;
  file: string;
  line: number;
  /** DW_AT_decl_line of the frame's function (0 when absent). */
  startLine: number;
}

/** Frames per address, innermost first, exactly as llvm-symbolizer prints them. */
export function llvmSymbolize(binary: string, addrs: readonly bigint[]): LlvmFrame[][] {
  const input = addrs.map((a) => `0x${a.toString(16)}`).join('\n') + '\n';
  const out = execFileSync('llvm-symbolizer', ['--inlining', '--output-style=JSON', '--obj', binary], {
    input,
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== addrs.length) throw new Error(`llvm-symbolizer answered ${lines.length} lines for ${addrs.length} addresses`);
  return lines.map((l) => {
    const j = JSON.parse(l) as { Symbol?: { FunctionName: string; FileName: string; Line: number; StartLine: number }[] };
    return (j.Symbol ?? []).map((s) => ({ function: s.FunctionName, file: s.FileName, line: s.Line, startLine: s.StartLine }));
  });
}
