/**
 * An independent reference for "where does a Go function have no frame of its own": the
 * disassembly from `go tool objdump`, read the way a person reads a Go prologue and epilogue
 * (no pcsp table involved):
 *  - before and at the frame setup (the first `PUSHQ BP`, or `SUBQ $n, SP` / `ADDQ $-n, SP` for
 *    Go ≤ 1.20's layout), SP still points at the return address;
 *  - after the frame teardown (`POPQ BP`, or `ADDQ $n, SP` in the SUBQ layout) up to and
 *    including the RET or tail JMP that follows;
 *  - in the morestack stub at the end (the target of the stack check's conditional jump);
 *  - everywhere in a function that never sets up a frame.
 */
import { execFileSync } from 'node:child_process';
import type { GoToolchain } from '../../support/goToolchains';

interface Insn { addr: number; asm: string }

export class ObjdumpFrames {
  private readonly funcs: { name: string; insns: Insn[] }[] = [];
  private readonly starts: number[] = [];
  private readonly zero = new Map<string, Set<number>>();

  constructor(tc: GoToolchain, binary: string) {
    const out = execFileSync(tc.goBin, ['tool', 'objdump', binary], {
      encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, GOROOT: tc.goroot, GOTOOLCHAIN: 'local' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let cur: { name: string; insns: Insn[] } | undefined;
    for (const line of out.split('\n')) {
      const t = /^TEXT (\S+)\(SB\)/.exec(line);
      if (t) { cur = { name: t[1]!, insns: [] }; this.funcs.push(cur); continue; }
      const parts = line.split('\t').map((s) => s.trim()).filter((s) => s.length > 0);
      if (!cur || parts.length < 4 || !/^0x[0-9a-f]+$/.test(parts[1]!)) continue;
      cur.insns.push({ addr: Number(parts[1]), asm: parts[3]! });
    }
    this.funcs = this.funcs.filter((f) => f.insns.length > 0).sort((a, b) => a.insns[0]!.addr - b.insns[0]!.addr);
    for (const f of this.funcs) this.starts.push(f.insns[0]!.addr);
  }

  /** The function holding addr, by objdump's TEXT blocks. */
  functionAt(addr: number): { name: string; insns: Insn[] } | undefined {
    let lo = 0, hi = this.starts.length;
    while (lo < hi) { const m = (lo + hi) >>> 1; if (this.starts[m]! <= addr) lo = m + 1; else hi = m; }
    const f = this.funcs[lo - 1];
    if (!f) return undefined;
    const last = f.insns[f.insns.length - 1]!;
    return addr <= last.addr + 16 ? f : undefined;
  }

  /** True when addr (an instruction start) is where its function has no frame, by the rules above. */
  isFramelessAt(addr: number): boolean | undefined {
    const f = this.functionAt(addr);
    if (!f) return undefined;
    let z = this.zero.get(f.name);
    if (!z) { z = framelessPcs(f.insns); this.zero.set(f.name, z); }
    return z.has(addr);
  }

  /** Every function whose name matches re, with its instruction addresses. */
  functions(re: RegExp): { name: string; insns: Insn[] }[] {
    return this.funcs.filter((f) => re.test(f.name));
  }
}

function framelessPcs(insns: Insn[]): Set<number> {
  const z = new Set<number>();
  const push = insns.findIndex((i) => i.asm === 'PUSHQ BP');
  // Frame allocation: SUBQ $n, SP, or ADDQ $-n, SP (an encoding the assembler picks for n = 0x80).
  const sub = insns.findIndex((i) => /^(SUBQ \$0x[0-9a-f]+|ADDQ \$-0x[0-9a-f]+), SP$/.test(i.asm));
  const pushLayout = push >= 0 && (sub < 0 || push < sub);
  const setup = pushLayout ? push : sub;
  if (setup < 0) { for (const i of insns) z.add(i.addr); return z; }
  for (let k = 0; k <= setup; k++) z.add(insns[k]!.addr);
  // The stack check's conditional jump to the morestack stub, before the frame setup.
  for (let k = 0; k < setup; k++) {
    const m = /^J(?!MP)[A-Z]+ (0x[0-9a-f]+)$/.exec(insns[k]!.asm);
    if (m) { const target = Number(m[1]); for (const i of insns) if (i.addr >= target) z.add(i.addr); break; }
  }
  const teardown = pushLayout ? /^POPQ BP$/ : /^(ADDQ \$0x[0-9a-f]+|SUBQ \$-0x[0-9a-f]+), SP$/;
  for (let k = setup + 1; k < insns.length; k++) {
    if (!teardown.test(insns[k]!.asm)) continue;
    for (let j = k + 1; j < insns.length; j++) {
      z.add(insns[j]!.addr);
      if (/^(RET|JMP)\b/.test(insns[j]!.asm)) break;
    }
  }
  return z;
}
