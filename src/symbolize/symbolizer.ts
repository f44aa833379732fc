/**
 * The one question the rest of the system asks of a binary: which function, file and line —
 * with the chain of inlined calls — is this address? Backed by DWARF, or by .gopclntab when
 * DWARF is stripped. Implementations index once, then answer in O(log n).
 */

export interface SourceFrame {
  /** Function name as DWARF (or the pclntab) gives it, e.g. "main.(*ledger).add". */
  function: string;
  /** Absolute (or, for -trimpath builds, module-relative) file name as recorded in the binary. */
  file: string;
  /** 1-based line; 0 where the binary records no line. */
  line: number;
}

export interface FunctionInfo {
  name: string;
  /** [lowPc, highPc) of the function's code. */
  lowPc: bigint;
  highPc: bigint;
  /** Where the function is declared (the `func` line), when known. */
  declFile?: string;
  declLine?: number;
}

export interface Symbolizer {
  /** Frames for a code address, innermost (deepest inlined) first; [] when it maps to nothing. */
  symbolize(pc: bigint): SourceFrame[];
  /** The physical (non-inlined) function containing pc. */
  functionAt(pc: bigint): FunctionInfo | undefined;
  /** Every physical function, sorted by lowPc. */
  functions(): readonly FunctionInfo[];
  /** Functions by name (physical ones; inlined-only functions are absent). */
  functionByName(name: string): FunctionInfo | undefined;
  /** Which backend answered: "dwarf" or "gopclntab". */
  readonly source: 'dwarf' | 'gopclntab';
}
