/**
 * Turns Go function names into uprobe addresses for the eBPF tracer: finds each function in
 * the binary's .gopclntab (present even in stripped binaries), decodes its code for the entry
 * (after the stack check) and RET probe points, and refuses clearly what cannot be traced:
 * non-amd64 or Go < 1.17 (no g in R14 to pair entries with returns), functions the compiler
 * inlined everywhere (no code of their own: says where they went), names that do not exist
 * (with the closest names that do).
 */
import { EM_X86_64, type ElfFile } from '../formats/elf';
import { readGoBuildInfo } from '../formats/goBuildInfo';
import { FUNCDATA_INL_TREE, type GoPclntab, PCDATA_INL_TREE_INDEX } from '../formats/gopclntab';
import { findGoProbePoints } from '../formats/goProbePoints';
import { openGoPclntab } from '../formats/openGoPclntab';
import { UserError } from '../util/userError';
import type { FunctionInfo } from './symbolizer';

export interface GoVersion {
  major: number;
  minor: number;
  /** As the binary says it, e.g. "go1.23.1". */
  text: string;
}

/** "go1.23.1", "go1.21rc2", "devel go1.24-abc..." → {1, 23}; undefined when unreadable. */
export function parseGoVersion(text: string): GoVersion | undefined {
  const m = /go(\d+)\.(\d+)/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), text };
}

/**
 * Throws unless uprobes can pair entries and returns by goroutine in this binary: amd64 and
 * Go ≥ 1.17 (the register ABI keeps the current g in R14).
 */
export function checkTraceable(machine: number, goVersionText: string | undefined): GoVersion {
  if (goVersionText === undefined) {
    throw new UserError('this is not a Go program (no Go build info in the binary)', 'pass the PID of a Go process', 'not-go');
  }
  const v = parseGoVersion(goVersionText);
  if (!v) throw new UserError(`cannot read the Go version "${goVersionText}" of this binary`, undefined, 'go-version-unknown');
  if (machine !== EM_X86_64) {
    throw new UserError(
      `eBPF tracing of Go supports amd64 only (this binary is for ELF machine ${machine})`,
      'use perf sampling (record) on this machine instead',
      'unsupported-arch',
    );
  }
  if (v.major < 1 || (v.major === 1 && v.minor < 17)) {
    throw new UserError(
      `eBPF tracing needs Go 1.17 or newer; this binary was built with ${goVersionText}`,
      'Go < 1.17 has no register ABI (g in R14) to pair calls with returns; rebuild with a newer Go, or use perf sampling (record)',
      'go-too-old',
    );
  }
  return v;
}

export interface FunctionProbes {
  /** The function's full name in the binary (a generic pattern resolves to each instantiation). */
  name: string;
  lowPc: bigint;
  highPc: bigint;
  /** Uprobe addresses (virtual addresses in the binary). */
  entry: bigint;
  rets: bigint[];
  stackCheck: boolean;
  /** Jumps that leave the function without a RET: calls leaving that way count as unmatched. */
  exitJumps: bigint[];
}

export interface TracePlan {
  goVersion: GoVersion;
  functions: FunctionProbes[];
}

/** Everything the planner needs from a binary, opened once. */
export class GoBinaryIndex {
  readonly goVersion: GoVersion;
  private readonly tab: GoPclntab;
  private all?: FunctionInfo[];
  private inlinedCallers?: Map<string, Set<string>>;

  constructor(readonly elf: ElfFile) {
    this.goVersion = checkTraceable(elf.machine, readGoBuildInfo(elf)?.goVersion);
    const tab = openGoPclntab(elf);
    if (!tab) throw new UserError('this Go binary has no .gopclntab, so its functions cannot be found', undefined, 'no-pclntab');
    this.tab = tab;
  }

  /**
   * Every physical function's name and range, without line tables (the symbolizer's
   * functions() also decodes each function's lines, which costs seconds on big binaries).
   */
  functions(): readonly FunctionInfo[] {
    if (this.all) return this.all;
    const tab = this.tab;
    const out: FunctionInfo[] = [];
    for (let i = 0; i < tab.nfunc; i++) {
      out.push({ name: tab.funcName(tab.func(i)), lowPc: BigInt(tab.entryOf(i)), highPc: BigInt(tab.endOf(i)) });
    }
    this.all = out;
    return out;
  }

  /** Resolves one name (exact, or `pkg.F[...]` / `pkg.F` for every instantiation of a generic). */
  resolve(name: string): FunctionInfo[] {
    const exact = this.functions().find((f) => f.name === name);
    if (exact) return [exact];
    const base = name.endsWith('[...]') ? name.slice(0, -5) : name.includes('[') ? undefined : name;
    if (base !== undefined) {
      // Instantiations are "pkg.F[go.shape.int]" (1.21+) or "pkg.F[go.shape.int_0]"; not closures "pkg.F[...].func1".
      const inst = this.functions().filter((f) => f.name.startsWith(`${base}[`) && f.name.endsWith(']'));
      if (inst.length > 0) return inst;
    }
    const into = this.inlinedInto(name);
    if (into.length > 0) {
      const shown = into.slice(0, 5).join(', ') + (into.length > 5 ? `, and ${into.length - 5} more` : '');
      throw new UserError(
        `${name} has no code of its own: the compiler inlined it everywhere (into ${shown})`,
        `trace a caller instead (e.g. --func ${into[0]}), or rebuild with -gcflags=-l (or -gcflags='path/to/pkg=-l') to keep it out of line`,
        'inlined-everywhere',
      );
    }
    const close = closeMatches(
      name,
      this.functions().map((f) => f.name),
    );
    throw new UserError(
      `no function named ${name} in this binary`,
      close.length > 0
        ? `did you mean: ${close.join(', ')}?`
        : 'names are as Go prints them, e.g. main.(*Server).handle or net/http.(*conn).serve',
      'no-such-function',
    );
  }

  /** Physical functions into which `name` was inlined (from the pclntab inline trees). */
  inlinedInto(name: string): string[] {
    if (!this.inlinedCallers) this.inlinedCallers = this.buildInlineIndex();
    return [...(this.inlinedCallers.get(name) ?? [])].sort();
  }

  private buildInlineIndex(): Map<string, Set<string>> {
    const tab = this.tab;
    const out = new Map<string, Set<string>>();
    for (let i = 0; i < tab.nfunc; i++) {
      const rec = tab.func(i);
      const inlOff = tab.pcdataOffset(rec, PCDATA_INL_TREE_INDEX);
      const tree = inlOff ? tab.funcdataAddr(rec, FUNCDATA_INL_TREE) : undefined;
      if (!inlOff || tree === undefined) continue;
      const seen = new Set<number>();
      for (const ix of tab.decodePcTable(rec, inlOff).vals) {
        if (ix < 0 || seen.has(ix)) continue;
        seen.add(ix);
        const call = tab.inlinedCall(tree, ix);
        if (!call) continue;
        const callee = tab.nameAt(call.nameOff);
        let s = out.get(callee);
        if (!s) out.set(callee, (s = new Set()));
        s.add(tab.funcName(rec));
      }
    }
    return out;
  }

  /** Probe points of one physical function. */
  probesOf(f: FunctionInfo): FunctionProbes {
    const off = this.elf.fileOffsetOf(f.lowPc);
    const size = Number(f.highPc - f.lowPc);
    if (off === undefined || off + size > this.elf.bytes.length) {
      throw new UserError(`the code of ${f.name} is not in the file`, undefined, 'no-code');
    }
    const p = findGoProbePoints(this.elf.bytes.subarray(off, off + size), f.lowPc);
    if (p.rets.length === 0) {
      const how =
        p.exitJumps.length > 0
          ? 'it leaves only by jumping to another function (a wrapper or tail call)'
          : 'it never returns (no RET instruction)';
      throw new UserError(
        `${f.name} has no RET to probe: ${how}, so its calls cannot be timed`,
        'trace its caller (or the function it jumps to) instead',
        'no-return',
      );
    }
    return {
      name: f.name,
      lowPc: f.lowPc,
      highPc: f.highPc,
      entry: p.entry,
      rets: p.rets,
      stackCheck: p.stackCheck,
      exitJumps: p.exitJumps,
    };
  }

  /** Resolves every name (duplicates collapse) into probe points. */
  plan(names: string[]): TracePlan {
    const byLow = new Map<bigint, FunctionProbes>();
    for (const n of names) for (const f of this.resolve(n)) if (!byLow.has(f.lowPc)) byLow.set(f.lowPc, this.probesOf(f));
    return { goVersion: this.goVersion, functions: [...byLow.values()] };
  }
}

/** Up to 5 names closest to `want`: same last element first, then by edit distance. */
export function closeMatches(want: string, names: string[]): string[] {
  const tail = (s: string) => s.slice(s.lastIndexOf('.') + 1).toLowerCase();
  const wt = tail(want);
  const scored: { n: string; d: number }[] = [];
  for (const n of names) {
    if (Math.abs(n.length - want.length) > 12 && tail(n) !== wt) continue;
    const d = tail(n) === wt ? 0 : editDistance(want.toLowerCase(), n.toLowerCase(), 8);
    if (d <= Math.max(2, Math.floor(want.length / 4))) scored.push({ n, d });
  }
  scored.sort((a, b) => a.d - b.d || a.n.localeCompare(b.n));
  return scored.slice(0, 5).map((s) => s.n);
}

/** Levenshtein distance, giving up (returning limit + 1) once every path exceeds `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > limit) return limit + 1;
    prev = cur;
  }
  return prev[b.length]!;
}
