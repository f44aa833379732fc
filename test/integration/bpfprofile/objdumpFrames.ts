/**
 * An independent reference for "where does a Go function have no frame of its own" (SP still
 * at the return address): the disassembly from `go tool objdump`, read in layout order (no pcsp
 * table involved). SP moves by PUSHQ/POPQ and `SUBQ/ADDQ $n, SP` (Go ≤ 1.20 allocates frames
 * with SUBQ or `ADDQ $-n, SP`, later Go with PUSHQ BP + SUBQ); a RET or a frameless tail JMP
 * ends a path, and the next block runs with the SP the epilogue started from; the morestack stub (the
 * target of the stack check's conditional jump, up to its JMP back to the entry) runs before
 * the frame exists.
 */
import { execFileSync } from 'node:child_process';
import type { GoToolchain } from '../../support/goToolchains';

interface Insn {
  addr: number;
  asm: string;
}

export class ObjdumpFrames {
  private readonly funcs: { name: string; insns: Insn[] }[] = [];
  private readonly starts: number[] = [];
  private readonly zero = new Map<string, Set<number>>();

  constructor(tc: GoToolchain, binary: string) {
    const out = execFileSync(tc.goBin, ['tool', 'objdump', binary], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      env: { ...process.env, GOROOT: tc.goroot, GOTOOLCHAIN: 'local' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let cur: { name: string; insns: Insn[] } | undefined;
    for (const line of out.split('\n')) {
      const t = /^TEXT (\S+)\(SB\)/.exec(line);
      if (t) {
        cur = { name: t[1]!, insns: [] };
        this.funcs.push(cur);
        continue;
      }
      const parts = line
        .split('\t')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      if (!cur || parts.length < 4 || !/^0x[0-9a-f]+$/.test(parts[1]!)) continue;
      cur.insns.push({ addr: Number(parts[1]), asm: parts[3]! });
    }
    this.funcs = this.funcs.filter((f) => f.insns.length > 0).sort((a, b) => a.insns[0]!.addr - b.insns[0]!.addr);
    for (const f of this.funcs) this.starts.push(f.insns[0]!.addr);
  }

  /** The function holding addr, by objdump's TEXT blocks. */
  functionAt(addr: number): { name: string; insns: Insn[] } | undefined {
    let lo = 0,
      hi = this.starts.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (this.starts[m]! <= addr) lo = m + 1;
      else hi = m;
    }
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
    if (!z) {
      z = framelessPcs(f.insns);
      this.zero.set(f.name, z);
    }
    return z.has(addr);
  }

  /** Every function whose name matches re, with its instruction addresses. */
  functions(re: RegExp): { name: string; insns: Insn[] }[] {
    return this.funcs.filter((f) => re.test(f.name));
  }
}

/** How far an instruction moves SP down (negative: up), as the assembler accounts for it. */
function spChange(asm: string): number {
  if (/^PUSH(Q|FQ)\b/.test(asm)) return 8;
  if (/^POP(Q|FQ)\b/.test(asm)) return -8;
  const adj = /^(SUBQ|ADDQ) \$(-?)(0x[0-9a-f]+), SP$/.exec(asm);
  if (!adj) return 0;
  const n = (adj[2] ? -1 : 1) * Number(adj[3]);
  return adj[1] === 'SUBQ' ? n : -n;
}

function framelessPcs(insns: Insn[]): Set<number> {
  const z = new Set<number>();
  // The morestack stub: the target of the stack check's conditional jump (before SP first
  // moves) up to its JMP back to the entry.
  let stubLo = Infinity,
    stubHi = -Infinity;
  for (let k = 1; k < insns.length; k++) {
    const i = insns[k]!;
    if (spChange(i.asm) !== 0) break;
    const m = /^J(?!MP)[A-Z]+ (0x[0-9a-f]+)$/.exec(i.asm);
    // The check compares SP (or SP minus the frame, in R12) with g.stackguard0 at 0x10(R14)
    // (stackguard1 at 0x18(R14) in go:systemstack functions).
    if (!m || !/^CMPQ .*0x1[08]\(R14\)/.test(insns[k - 1]!.asm)) continue;
    stubLo = Number(m[1]);
    const end = insns.find((x) => x.addr >= stubLo && /^JMP\b/.test(x.asm));
    stubHi = end ? end.addr : Infinity;
    break;
  }
  // Elsewhere, in layout order: SP moves by pushes, pops and adjustments; after a RET (or a
  // tail JMP with no frame left) the next block runs with the function's whole frame again.
  let delta = 0,
    beforeEpilogue = 0,
    falling = false;
  for (const i of insns) {
    if (i.addr >= stubLo && i.addr <= stubHi) {
      z.add(i.addr);
      continue;
    }
    if (delta === 0) z.add(i.addr);
    const c = spChange(i.asm);
    if (c < 0 && !falling) beforeEpilogue = delta;
    if (c !== 0) falling = c < 0;
    delta += c;
    if (/^RET\b/.test(i.asm) || (delta === 0 && /^JMP\b/.test(i.asm))) {
      delta = beforeEpilogue;
      falling = false;
    }
  }
  return z;
}
