/**
 * The questions the rest of the system asks of a binary: which function, file and line — with
 * the chain of inlined calls — is this address; where does the function holding it start and
 * where is it declared. Backed by DWARF, or by .gopclntab when DWARF is stripped.
 * Implementations index once, then answer in O(log n). Every capability a caller uses is named
 * here (as pprof's ObjFile does): callers never reach past it to a backend's class, so a new
 * backend or a test double gets the same paths.
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

/** Where a function is declared: its `func` line. */
export interface SourceDeclaration {
  file: string;
  line1: number;
}

/** What Go's own unwinder knows of the frame at a pc (the pclntab's pcsp table and function flags). */
export interface GoFrameInfo {
  /** Bytes SP is below its value at the function's entry, at this pc (0 at the entry and in frameless code): the return address is at SP + spDelta. */
  spDelta: number;
  /** The outermost frame of a stack (funcFlag TOPFRAME: runtime.goexit, mstart, rt0_go): nothing calls it. */
  top: boolean;
  /** The function moves SP arbitrarily (funcFlag SPWRITE: runtime.systemstack, morestack, gogo…): above it, the table cannot say where its caller's frame is. */
  spWrite: boolean;
}

export interface Symbolizer {
  /** Frames for a code address, innermost (deepest inlined) first; [] when it maps to nothing. */
  symbolize(pc: bigint): SourceFrame[];
  /**
   * The same for an address held as a number (link-time addresses fit in one): what ingest and
   * the CLI call per sample or per line, without a bigint each time.
   */
  framesAt(pc: number): readonly SourceFrame[];
  /**
   * The same frames as numbers, for a caller that takes in millions of addresses (the CLI's
   * symbolize): per frame, innermost first, [function name id, file id, line] into `out`, as
   * many frames as it holds; returns the frame count (0: no frames), which may exceed what fit.
   * An id stands for the same string for the symbolizer's life (stringOf).
   */
  frameIdsAt(pc: number, out: Int32Array): number;
  /** The function or file name an id of frameIdsAt stands for. */
  stringOf(id: number): string;
  /** Entry address of the physical function holding pc, undefined outside every function. */
  entryOf(pc: number): number | undefined;
  /** Declaration (`func` line) of the physical function holding pc, when the binary records it. */
  declarationAt(pc: number): SourceDeclaration | undefined;
  /**
   * Declaration of a function by name, also of one seen only inlined (in frames answered so far):
   * gopclntab's inline tree (Go 1.20+) or DWARF's abstract origin. Undefined when unknown.
   */
  inlinedDeclarationOf(name: string): SourceDeclaration | undefined;
  /** The physical (non-inlined) function containing pc. */
  functionAt(pc: bigint): FunctionInfo | undefined;
  /** Every physical function, sorted by lowPc. */
  functions(): readonly FunctionInfo[];
  /** Functions by name (physical ones; inlined-only functions are absent). */
  functionByName(name: string): FunctionInfo | undefined;
  /**
   * The Go frame table at link-time address pc, for unwinding a stack from memory; undefined
   * outside Go code or where the backend has no such table (DWARF of a non-Go binary).
   */
  goFrameAt(pc: number): GoFrameInfo | undefined;
  /** Which backend answered: "dwarf" or "gopclntab". */
  readonly source: 'dwarf' | 'gopclntab';
}
