/**
 * The aggregation at the heart of ingest: distinct stacks of code addresses (or any numeric
 * location keys) with their counts → per-function and per-line self/cumulative counts, the
 * call tree and the stack table of the model. Stacks are deduplicated in a trie first, so
 * each distinct address is symbolized once and each distinct stack walked once, however
 * many samples share it.
 */
import type { CallTree, FunctionStat, LineStat, LocationFrame, ProfileLocation, StackTable } from '../model/profile';
import type { SourceFrame } from '../symbolize/symbolizer';
import { NumberMap } from '../util/numberMap';

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
  private readonly keyIndex = new NumberMap();
  private mask = 4095;
  private table = new Int32Array(4096);
  /** Samples added (sum of counts). */
  total = 0;

  /** Adds `count` samples of the stack keys[0..n) given leaf first. */
  add(keys: ArrayLike<number>, n: number, count = 1): void {
    this.addCount(this.insert(keys, n), count);
  }

  /** Adds `count` samples ending at node (from insert). */
  addCount(node: number, count: number): void {
    this.counts[node]! += count;
    this.total += count;
  }

  /** The node of the stack keys[0..n) given leaf first, made if new (with no samples). */
  insert(keys: ArrayLike<number>, n: number): number {
    let node = 0;
    for (let j = n - 1; j >= 0; j--) {
      const k = keys[j]!;
      let id = this.keyIndex.get(k, -1);
      if (id < 0) {
        id = this.distinctKeys.length;
        this.distinctKeys.push(k);
        this.keyIndex.set(k, id);
      }
      node = this.child(node, id, k);
    }
    return node;
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

interface LocationRow {
  frames: { function: number; line1: number; file: string }[];
  address?: string;
}

/** Builds the aggregates of the model from a trie and a source of frames for its keys. */
export function aggregate(trie: StackTrie, source: FrameSource): Aggregates {
  return new Aggregator(source).update(trie);
}

/**
 * aggregate() for a trie that keeps growing (a recording ingested while it comes in): each
 * update() symbolizes only the keys and expands only the trie nodes added since the last one,
 * and walks only the stacks whose counts changed, adding the difference. Each update returns
 * new objects (the aggregator's own tables are never handed out). Ids (functions, lines,
 * locations) are given in the order keys and nodes were added, so one update of a whole trie
 * gives exactly what aggregate() gives.
 */
export class Aggregator {
  private readonly fnName: string[] = [];
  private readonly fnFile: (string | undefined)[] = [];
  private readonly fnIndex = new Map<string, number>();
  private readonly fnPhysical: boolean[] = [];
  private readonly fnMinLine: number[] = [];
  private readonly fnDecl: ({ file: string; line1: number } | undefined)[] = [];
  private readonly fnSelf: number[] = [];
  private readonly fnCum: number[] = [];
  private readonly lineFile: string[] = [];
  private readonly lineNo: number[] = [];
  private readonly lineSelf: number[] = [];
  private readonly lineCum: number[] = [];
  private readonly lineIndex = new Map<number, number>();
  private readonly fileIds = new Map<string, number>();
  private readonly lineFns: Set<string>[] = [];
  private readonly lineInl: Set<string>[] = [];
  private readonly locations: LocationRow[] = [];
  /** Per trie key id, then per trie node (index 0: the root). */
  private readonly keyInfo: KeyInfo[] = [];
  private readonly nodeInfo: KeyInfo[] = [];
  private readonly treeOf: number[] = [-1];
  private readonly lastLine: number[] = [0];
  /** Samples of each node already counted in, and its stack of locations (leaf first) once it has samples. */
  private readonly counted: number[] = [0];
  private readonly stackOf: (number[] | undefined)[] = [undefined];
  /** The call tree over functions. */
  private readonly tParent: number[] = [];
  private readonly tFn: number[] = [];
  private readonly tCallLine: number[] = [];
  private readonly tSelf: number[] = [];
  /** Child of tree node t (-1: the root) for function f, keyed by treeChildKey (one table, not a Map per node). */
  private readonly tChild = new NumberMap(4096);
  /** Stamps so a function or line is counted once per stack walk. */
  private readonly fnStamp: number[] = [];
  private readonly lineStamp: number[] = [];
  private stamp = 0;
  private unsymbolized = 0;
  private readonly source: FrameSource;

  constructor(source: FrameSource) {
    this.source = source;
  }

  /** Takes in everything the trie gained since the last call, and returns the aggregates. */
  update(trie: StackTrie): Aggregates {
    this.advance(trie);
    this.takeCounts(trie);
    return this.result(trie);
  }

  /**
   * Takes in the keys and nodes the trie gained since the last call (symbolized and expanded
   * once each), without building the aggregates. Counts are taken in by update(): a stack that
   * gains samples in every pass is then walked once, not once per pass.
   */
  advance(trie: StackTrie): void {
    // Symbolize every new key once, then expand every new node (parents before children).
    for (let id = this.keyInfo.length; id < trie.distinctKeys.length; id++) this.keyInfo.push(this.info(trie.distinctKeys[id]!));
    const size = trie.size;
    for (let i = this.treeOf.length; i < size; i++) this.expand(trie, i);
  }

  /** Self and cumulative counts: walks each stack whose count changed, adding the difference. */
  private takeCounts(trie: StackTrie): void {
    for (let i = 1; i < trie.size; i++) {
      const d = trie.counts[i]! - this.counted[i]!;
      if (d !== 0) this.count(trie, i, d);
    }
  }

  private fnId(f: SourceFrame): number {
    let id = this.fnIndex.get(f.function);
    if (id === undefined) {
      id = this.fnName.length;
      this.fnIndex.set(f.function, id);
      this.fnName.push(f.function);
      this.fnFile.push(f.file ? f.file : undefined);
      this.fnPhysical.push(false);
      this.fnMinLine.push(0);
      this.fnDecl.push(undefined);
      this.fnSelf.push(0);
      this.fnCum.push(0);
      this.fnStamp.push(-1);
    }
    return id;
  }

  private info(key: number): KeyInfo {
    const frames = this.source.frames(key);
    const n = frames.length;
    const ki: KeyInfo = { fns: new Int32Array(n), lines: new Int32Array(n), lineNos: new Int32Array(n), location: this.locations.length };
    const row: LocationRow = { frames: [] };
    for (let k = 0; k < n; k++) {
      const f = frames[k]!;
      const fid = this.fnId(f);
      if (k === n - 1 && !this.fnPhysical[fid]) {
        this.fnPhysical[fid] = true;
        const decl = this.source.declarationAt?.(key);
        if (decl) this.fnDecl[fid] = decl;
      }
      if (f.line > 0 && (this.fnMinLine[fid] === 0 || f.line < this.fnMinLine[fid]!)) this.fnMinLine[fid] = f.line;
      // Numeric key (file id, line): no string built per frame.
      let fileId = this.fileIds.get(f.file);
      if (fileId === undefined) this.fileIds.set(f.file, (fileId = this.fileIds.size));
      const lk = fileId * 0x100000000 + (f.line >>> 0);
      let lid = this.lineIndex.get(lk);
      if (lid === undefined) {
        lid = this.lineFile.length;
        this.lineIndex.set(lk, lid);
        this.lineFile.push(f.file);
        this.lineNo.push(f.line);
        this.lineSelf.push(0);
        this.lineCum.push(0);
        this.lineStamp.push(-1);
        this.lineFns.push(new Set());
        this.lineInl.push(new Set());
      }
      // One file:line can belong to several functions (closures on one line, every
      // "<autogenerated>:1" wrapper): collect them all, pick deterministically at the end.
      this.lineFns[lid]!.add(f.function);
      for (let o = k + 1; o < n; o++) if (frames[o]!.function !== f.function) this.lineInl[lid]!.add(frames[o]!.function);
      ki.fns[k] = fid;
      ki.lines[k] = lid;
      ki.lineNos[k] = f.line;
      row.frames.push({ function: fid, line1: f.line, file: f.file });
    }
    const addr = this.source.address(key);
    if (addr !== undefined) row.address = addr;
    this.locations.push(row);
    return ki;
  }

  /** The call tree over functions: trie node i expands to its inline chain (outer → inner). */
  private expand(trie: StackTrie, i: number): void {
    const ki = this.keyInfo[trie.keyIds[i]!]!;
    this.nodeInfo[i] = ki;
    const p = trie.parents[i]!;
    let t = p > 0 ? this.treeOf[p]! : -1;
    let callLine = p > 0 ? this.lastLine[p]! : 0;
    // A key with no frames (unsymbolizable) contributes no tree node; its children hang on t.
    for (let k = ki.fns.length - 1; k >= 0; k--) {
      const fid = ki.fns[k]!;
      const ck = treeChildKey(t, fid);
      let c = this.tChild.get(ck, -1);
      if (c < 0) {
        c = this.tParent.length;
        this.tParent.push(t);
        this.tFn.push(fid);
        this.tCallLine.push(t < 0 ? 0 : callLine);
        this.tSelf.push(0);
        this.tChild.set(ck, c);
      }
      t = c;
      callLine = ki.lineNos[k]!;
    }
    this.treeOf[i] = t;
    this.lastLine[i] = callLine;
    this.counted[i] = 0;
    this.stackOf[i] = undefined;
  }

  /** Adds d samples of the stack ending at node i. */
  private count(trie: StackTrie, i: number, d: number): void {
    this.counted[i]! += d;
    const stamp = ++this.stamp;
    const build = this.stackOf[i] === undefined;
    const stack: number[] = [];
    let leafSeen = false;
    for (let n = i; n > 0; n = trie.parents[n]!) {
      const ki = this.nodeInfo[n]!;
      if (build) stack.push(ki.location);
      const m = ki.fns.length;
      if (m > 0 && !leafSeen) {
        // The innermost symbolized frame owns the sample's self count.
        leafSeen = true;
        this.fnSelf[ki.fns[0]!]! += d;
        this.lineSelf[ki.lines[0]!]! += d;
      }
      for (let k = 0; k < m; k++) {
        const f = ki.fns[k]!;
        if (this.fnStamp[f] !== stamp) {
          this.fnStamp[f] = stamp;
          this.fnCum[f]! += d;
        }
        const l = ki.lines[k]!;
        if (this.lineStamp[l] !== stamp) {
          this.lineStamp[l] = stamp;
          this.lineCum[l]! += d;
        }
      }
    }
    if (build) this.stackOf[i] = stack;
    if (!leafSeen) this.unsymbolized += d;
    const t = this.treeOf[i]!;
    if (t >= 0) this.tSelf[t]! += d;
  }

  /** The aggregates as of the last update() (new objects each time). */
  private result(trie: StackTrie): Aggregates {
    const functions: FunctionStat[] = [];
    for (let f = 0; f < this.fnName.length; f++) {
      const st: FunctionStat = { name: this.fnName[f]!, selfSamples: this.fnSelf[f]!, cumSamples: this.fnCum[f]! };
      const file = this.fnFile[f];
      if (file !== undefined) st.file = file;
      const decl = this.fnDecl[f] ?? this.source.declarationOf?.(st.name);
      if (decl) {
        // A declaration without a file (DWARF's abstract subprograms in Go) keeps the frames' file.
        if (decl.file) st.file = decl.file;
        st.line1 = decl.line1;
      } else if (this.fnMinLine[f]! > 0) {
        st.line1 = this.fnMinLine[f]!;
      }
      if (!this.fnPhysical[f]) st.inlinedOnly = true;
      functions.push(st);
    }
    const lines: LineStat[] = [];
    for (let l = 0; l < this.lineFile.length; l++) {
      const fns = this.lineFns[l]!;
      const ls: LineStat = {
        file: this.lineFile[l]!,
        line1: this.lineNo[l]!,
        selfSamples: this.lineSelf[l]!,
        cumSamples: this.lineCum[l]!,
        function: fns.size === 1 ? fns.values().next().value! : [...fns].sort()[0]!,
      };
      const inl = [...this.lineInl[l]!].filter((x) => x !== ls.function).sort();
      if (inl.length) ls.inlinedInto = inl;
      lines.push(ls);
    }
    // Frames keep a file only where it differs from their function's (final) file.
    const locations: ProfileLocation[] = this.locations.map((row) => {
      const frames: LocationFrame[] = row.frames.map((fr) =>
        fr.file === functions[fr.function]!.file
          ? { function: fr.function, line1: fr.line1 }
          : { function: fr.function, line1: fr.line1, file: fr.file },
      );
      const loc: ProfileLocation = { frames };
      if (row.address !== undefined) loc.address = row.address;
      return loc;
    });
    const stacks: number[][] = [];
    const counts: number[] = [];
    for (let i = 1; i < trie.size; i++) {
      const c = trie.counts[i]!;
      if (c === 0) continue;
      stacks.push(this.stackOf[i]!.slice());
      counts.push(c);
    }
    return {
      functions,
      lines,
      callTree: preorder(this.tParent, this.tFn, this.tCallLine, this.tSelf),
      stacks: { locations, stacks, counts },
      unsymbolizedSamples: this.unsymbolized,
    };
  }
}

/** The key of (tree node t or -1, function id f): exact below 2^31 nodes and 2^22 functions. */
function treeChildKey(t: number, f: number): number {
  if (f >= 0x400000) throw new RangeError(`more than ${0x400000} functions in one profile`);
  return (t + 1) * 0x400000 + f;
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
