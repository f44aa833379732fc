/**
 * The aggregation at the heart of ingest: distinct stacks of code addresses (or any numeric
 * location keys) with their counts → per-function and per-line self/cumulative counts, the
 * call tree and the stack table of the model. Stacks are deduplicated in a trie first, so
 * each distinct address is symbolized once and each distinct stack walked once, however
 * many samples share it.
 */
import type { CallTree, FunctionStat, LineStat, LocationFrame, ProfileLocation, StackTable } from '../model/profile';
import type { SourceFrame } from '../symbolize/symbolizer';

/** Answers for the keys a StackTrie holds. */
export interface FrameSource {
  /** Frames of a key, innermost first; [] when it maps to nothing. */
  frames(key: number): readonly SourceFrame[];
  /** The key's address as hex ("0x…"), when it is one. */
  address(key: number): string | undefined;
  /** Declaration (func line) of the physical (outermost) function of a key, when known. */
  declarationAt?(key: number): { file: string; line1: number } | undefined;
  /** Declaration of a function by name, for those seen only inlined (when cheaply known; file '' = unknown). */
  declarationOf?(name: string): { file: string; line1: number } | undefined;
}

/**
 * Distinct stacks, stored root-first as a trie of keys; node 0 is the (empty) root. Keys are
 * interned to small ids, and children are found through one open-addressing table over
 * (parent, key id), so a trie of 100k nodes costs a few typed arrays, not 100k Maps.
 */
export class StackTrie {
  /** Per node: its key, the key's interned id, its parent, and samples ending there. */
  readonly keys: number[] = [0];
  readonly keyIds: number[] = [-1];
  readonly parents: number[] = [-1];
  readonly counts: number[] = [0];
  /** Interned keys: distinctKeys[id] is the key. */
  readonly distinctKeys: number[] = [];
  private readonly keyIndex = new Map<number, number>();
  private mask = 4095;
  private table = new Int32Array(4096);
  /** Samples added (sum of counts). */
  total = 0;

  /** Adds `count` samples of the stack keys[0..n) given leaf first. */
  add(keys: ArrayLike<number>, n: number, count = 1): void {
    let node = 0;
    for (let j = n - 1; j >= 0; j--) {
      const k = keys[j]!;
      let id = this.keyIndex.get(k);
      if (id === undefined) {
        id = this.distinctKeys.length;
        this.distinctKeys.push(k);
        this.keyIndex.set(k, id);
      }
      node = this.child(node, id, k);
    }
    this.counts[node]! += count;
    this.total += count;
  }

  private child(parent: number, id: number, key: number): number {
    const mask = this.mask;
    let slot = (Math.imul(parent, 0x9e3779b1) ^ Math.imul(id, 0x85ebca6b)) & mask;
    for (let e = this.table[slot]!; e !== 0; e = this.table[slot]!) {
      if (this.parents[e] === parent && this.keyIds[e] === id) return e;
      slot = (slot + 1) & mask;
    }
    const c = this.keys.length;
    this.keys.push(key);
    this.keyIds.push(id);
    this.parents.push(parent);
    this.counts.push(0);
    this.table[slot] = c;
    if (c * 2 > mask) this.grow();
    return c;
  }

  private grow(): void {
    const mask = this.mask * 2 + 1;
    const table = new Int32Array(mask + 1);
    for (let e = 1; e < this.keys.length; e++) {
      let slot = (Math.imul(this.parents[e]!, 0x9e3779b1) ^ Math.imul(this.keyIds[e]!, 0x85ebca6b)) & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = e;
    }
    this.mask = mask;
    this.table = table;
  }

  get size(): number {
    return this.keys.length;
  }
}

export interface Aggregates {
  functions: FunctionStat[];
  lines: LineStat[];
  callTree: CallTree;
  stacks: StackTable;
  /** Samples whose stack was empty or mapped to no frame at all. */
  unsymbolizedSamples: number;
}

interface KeyInfo {
  /** Function and line ids of the key's frames, innermost first. */
  fns: Int32Array;
  lines: Int32Array;
  lineNos: Int32Array;
  location: number;
}

/** Builds the aggregates of the model from a trie and a source of frames for its keys. */
export function aggregate(trie: StackTrie, source: FrameSource): Aggregates {
  const functions: FunctionStat[] = [];
  const fnIndex = new Map<string, number>();
  const fnPhysical: boolean[] = [];
  const fnMinLine: number[] = [];
  const fnDecl: ({ file: string; line1: number } | undefined)[] = [];
  const lines: LineStat[] = [];
  const lineIndex = new Map<number, number>();
  const fileIds = new Map<string, number>();
  const lineFns: Set<string>[] = [];
  const lineInl: Set<string>[] = [];
  const locations: ProfileLocation[] = [];

  const fnId = (f: SourceFrame): number => {
    let id = fnIndex.get(f.function);
    if (id === undefined) {
      id = functions.length;
      fnIndex.set(f.function, id);
      const st: FunctionStat = { name: f.function, selfSamples: 0, cumSamples: 0 };
      if (f.file) st.file = f.file;
      functions.push(st);
      fnPhysical.push(false);
      fnMinLine.push(0);
      fnDecl.push(undefined);
    }
    return id;
  };

  const info = (key: number): KeyInfo => {
    const frames = source.frames(key);
    const n = frames.length;
    const ki: KeyInfo = { fns: new Int32Array(n), lines: new Int32Array(n), lineNos: new Int32Array(n), location: locations.length };
    const locFrames: LocationFrame[] = [];
    for (let k = 0; k < n; k++) {
      const f = frames[k]!;
      const fid = fnId(f);
      if (k === n - 1 && !fnPhysical[fid]) {
        fnPhysical[fid] = true;
        const decl = source.declarationAt?.(key);
        if (decl) fnDecl[fid] = decl;
      }
      if (f.line > 0 && (fnMinLine[fid] === 0 || f.line < fnMinLine[fid]!)) fnMinLine[fid] = f.line;
      // Numeric key (file id, line): no string built per frame.
      let fileId = fileIds.get(f.file);
      if (fileId === undefined) fileIds.set(f.file, (fileId = fileIds.size));
      const lk = fileId * 0x100000000 + (f.line >>> 0);
      let lid = lineIndex.get(lk);
      if (lid === undefined) {
        lid = lines.length;
        lineIndex.set(lk, lid);
        lines.push({ file: f.file, line1: f.line, selfSamples: 0, cumSamples: 0, function: f.function });
        lineFns.push(new Set());
        lineInl.push(new Set());
      }
      // One file:line can belong to several functions (closures on one line, every
      // "<autogenerated>:1" wrapper): collect them all, pick deterministically at the end.
      lineFns[lid]!.add(f.function);
      for (let o = k + 1; o < n; o++) if (frames[o]!.function !== f.function) lineInl[lid]!.add(frames[o]!.function);
      ki.fns[k] = fid;
      ki.lines[k] = lid;
      ki.lineNos[k] = f.line;
      locFrames.push({ function: fid, line1: f.line, file: f.file });
    }
    const loc: ProfileLocation = { frames: locFrames };
    const addr = source.address(key);
    if (addr !== undefined) loc.address = addr;
    locations.push(loc);
    return ki;
  };

  // Symbolize every trie node's key once, parents before children (creation order).
  const size = trie.size;
  const byKeyId = trie.distinctKeys.map((k) => info(k));
  const nodeInfo: (KeyInfo | undefined)[] = new Array(size);
  for (let i = 1; i < size; i++) nodeInfo[i] = byKeyId[trie.keyIds[i]!];

  // The call tree over functions: each trie node expands to its inline chain (outer → inner).
  const tParent: number[] = [];
  const tFn: number[] = [];
  const tCallLine: number[] = [];
  const tSelf: number[] = [];
  const tChildren: Map<number, number>[] = [];
  const rootChildren = new Map<number, number>();
  const treeOf = new Int32Array(size).fill(-1);
  /** Line in the innermost frame of trie node i (the call site for its children). */
  const lastLine = new Int32Array(size);
  for (let i = 1; i < size; i++) {
    const ki = nodeInfo[i]!;
    const p = trie.parents[i]!;
    let t = p > 0 ? treeOf[p]! : -1;
    let callLine = p > 0 ? lastLine[p]! : 0;
    // A key with no frames (unsymbolizable) contributes no tree node; its children hang on t.
    for (let k = ki.fns.length - 1; k >= 0; k--) {
      const fid = ki.fns[k]!;
      const m = t < 0 ? rootChildren : tChildren[t]!;
      let c = m.get(fid);
      if (c === undefined) {
        c = tParent.length;
        tParent.push(t);
        tFn.push(fid);
        tCallLine.push(t < 0 ? 0 : callLine);
        tSelf.push(0);
        tChildren.push(new Map());
        m.set(fid, c);
      }
      t = c;
      callLine = ki.lineNos[k]!;
    }
    treeOf[i] = t;
    lastLine[i] = callLine;
  }

  // Self and cumulative counts: walk each distinct stack once.
  const fnStamp = new Int32Array(functions.length).fill(-1);
  const lineStamp = new Int32Array(lines.length).fill(-1);
  const stacks: number[][] = [];
  const counts: number[] = [];
  let unsymbolized = 0;
  for (let i = 1; i < size; i++) {
    const c = trie.counts[i]!;
    if (c === 0) continue;
    const stack: number[] = [];
    let leafSeen = false;
    for (let n = i; n > 0; n = trie.parents[n]!) {
      const ki = nodeInfo[n]!;
      stack.push(ki.location);
      const m = ki.fns.length;
      if (m > 0 && !leafSeen) {
        // The innermost symbolized frame owns the sample's self count.
        leafSeen = true;
        functions[ki.fns[0]!]!.selfSamples += c;
        lines[ki.lines[0]!]!.selfSamples += c;
      }
      for (let k = 0; k < m; k++) {
        const f = ki.fns[k]!;
        if (fnStamp[f] !== i) { fnStamp[f] = i; functions[f]!.cumSamples += c; }
        const l = ki.lines[k]!;
        if (lineStamp[l] !== i) { lineStamp[l] = i; lines[l]!.cumSamples += c; }
      }
    }
    if (!leafSeen) unsymbolized += c;
    const t = treeOf[i]!;
    if (t >= 0) tSelf[t]! += c;
    stacks.push(stack);
    counts.push(c);
  }

  for (let l = 0; l < lines.length; l++) {
    const ls = lines[l]!;
    ls.function = [...lineFns[l]!].sort()[0]!;
    const inl = [...lineInl[l]!].filter((x) => x !== ls.function).sort();
    if (inl.length) ls.inlinedInto = inl;
  }
  for (let f = 0; f < functions.length; f++) {
    const st = functions[f]!;
    const decl = fnDecl[f] ?? source.declarationOf?.(st.name);
    if (decl) {
      // A declaration without a file (DWARF's abstract subprograms in Go) keeps the frames' file.
      if (decl.file) st.file = decl.file;
      st.line1 = decl.line1;
    } else if (fnMinLine[f]! > 0) {
      st.line1 = fnMinLine[f]!;
    }
    if (!fnPhysical[f]) st.inlinedOnly = true;
  }

  // Frames keep a file only where it differs from their function's (final) file.
  for (const loc of locations) {
    for (const fr of loc.frames) if (fr.file === functions[fr.function]!.file) delete fr.file;
  }

  return { functions, lines, callTree: preorder(tParent, tFn, tCallLine, tSelf), stacks: { locations, stacks, counts }, unsymbolizedSamples: unsymbolized };
}

/** Totals, then the flat pre-order layout (children by total, heaviest first). */
function preorder(parent: number[], fn: number[], callLine: number[], self: number[]): CallTree {
  const n = parent.length;
  const total = self.slice();
  for (let i = n - 1; i >= 0; i--) if (parent[i]! >= 0) total[parent[i]!]! += total[i]!;
  const kids: number[][] = Array.from({ length: n }, () => []);
  const roots: number[] = [];
  for (let i = 0; i < n; i++) (parent[i]! >= 0 ? kids[parent[i]!]! : roots).push(i);
  const byTotal = (a: number, b: number): number => total[b]! - total[a]! || a - b;
  const out: CallTree = { parents: [], functions: [], callLines: [], totalSamples: [], selfSamples: [] };
  const newIndex = new Int32Array(n);
  const stack: number[] = roots.sort(byTotal).reverse();
  while (stack.length) {
    const i = stack.pop()!;
    const j = out.parents.length;
    newIndex[i] = j;
    out.parents.push(parent[i]! >= 0 ? newIndex[parent[i]!]! : -1);
    out.functions.push(fn[i]!);
    out.callLines.push(callLine[i]!);
    out.totalSamples.push(total[i]!);
    out.selfSamples.push(self[i]!);
    const ks = kids[i]!.sort(byTotal);
    for (let k = ks.length - 1; k >= 0; k--) stack.push(ks[k]!);
  }
  return out;
}
