/**
 * An address index over a binary's DWARF. Built eagerly: unit headers and each compile unit's
 * address ranges (from its unit DIE). Built lazily, per unit, on first lookup: the tree of
 * subprograms and inlined subroutines, flattened into sorted segments (pc → deepest inlined
 * node), and the unit's line table. Addresses are numbers inside (text addresses fit in 2^53).
 */
import { ByteReader, FormatError } from '../../util/byteReader';
import type { ElfFile } from '../elf';
import { parseAbbrevTable, type Abbrev, type AbbrevTable } from './abbrev';
import * as C from './constants';
import { dwarfSectionsOf, type DwarfSections } from './dwarfSections';
import { FloorIndex } from './floorIndex';
import { lookupRow, parseLineHeader, parseLineTable, type LineTable } from './lineTable';
import { readRanges } from './ranges';
import { BAD_ADDRESS, fixedFormSize, isAddressForm, parseUnitHeaders, readFormNumber, readString, skipForm, type UnitHeader } from './unit';

export interface DwarfFrame {
  function: string;
  file: string;
  line: number;
}

export interface DwarfFunction {
  name: string;
  lowPc: number;
  highPc: number;
  declFile?: string;
  declLine?: number;
  /** Offset of the subprogram DIE in .debug_info. */
  dieOffset: number;
}

interface DieInfo {
  name: string;
  declFile?: string;
  declLine?: number;
}

interface UnitInfo {
  header: UnitHeader;
  name: string;
  compDir: string;
  stmtList: number;
  /** [lo, hi) pairs from the unit DIE; undefined when it gives none. */
  ranges?: number[];
}

/** The decoded code tree of one unit. */
interface UnitCode {
  /** The DIE naming each node: its abstract origin / specification when it has no name of its own (shared, so cached once). */
  nodeDie: Int32Array | number[];
  nodeParent: Int32Array;
  nodeCallFile: Int32Array;
  nodeCallLine: Int32Array;
  /** Root (physical function) index into `funcs` for every node. */
  nodeFunc: Int32Array;
  funcs: DwarfFunctionRec[];
  segStart: Float64Array;
  segNode: Int32Array;
  segIndex: FloorIndex;
  /** [lo, hi) of every node range, for units without unit-level ranges. */
  allRanges: number[];
  /** Function names per node, resolved on first use. */
  nodeName: (string | undefined)[];
}

interface DwarfFunctionRec {
  unit: number;
  dieOffset: number;
  lowPc: number;
  highPc: number;
}

const MAX_REF_DEPTH = 16;

export class DwarfIndex {
  readonly units: UnitInfo[] = [];
  private readonly declByName = new Map<string, { file: string; line1: number }>();
  /** Highest DWARF version among the compile units. */
  readonly version: number;
  private readonly abbrevCache = new Map<number, AbbrevTable>();
  // Filled densely up front: sparse writes would put these arrays in slow dictionary mode.
  private readonly codeCache: (UnitCode | undefined)[];
  private readonly lineCache: (LineTable | undefined)[];
  private readonly fileCache: (string[] | undefined)[];
  private readonly dieCache = new Map<number, DieInfo>();
  private readonly unitOffsets: Float64Array;
  private cuLo!: Float64Array;
  private cuHi!: Float64Array;
  private cuUnit!: Int32Array;
  private cuIndex!: FloorIndex;
  private allFunctions?: DwarfFunction[];
  private readonly structCache = new Map<string, Map<string, number> | undefined>();

  constructor(readonly sections: DwarfSections) {
    const headers = parseUnitHeaders(sections.info);
    this.unitOffsets = Float64Array.from(headers, (h) => h.offset);
    this.codeCache = new Array<UnitCode | undefined>(headers.length).fill(undefined);
    this.lineCache = new Array<LineTable | undefined>(headers.length).fill(undefined);
    this.fileCache = new Array<string[] | undefined>(headers.length).fill(undefined);
    let version = 0;
    for (const h of headers) {
      version = Math.max(version, h.version);
      this.units.push(this.readUnitDie(h));
    }
    this.version = version;
    this.buildUnitMap();
  }

  // ---------- eager: unit DIEs and the unit address map ----------

  private abbrevsOf(u: UnitHeader): AbbrevTable {
    if (u.abbrevs) return u.abbrevs;
    let t = this.abbrevCache.get(u.abbrevOffset);
    if (!t) {
      if (u.abbrevOffset >= this.sections.abbrev.length)
        throw new FormatError(`abbreviation table offset 0x${u.abbrevOffset.toString(16)} outside .debug_abbrev`, '.debug_info', u.offset);
      t = parseAbbrevTable(this.sections.abbrev, u.abbrevOffset);
      this.abbrevCache.set(u.abbrevOffset, t);
    }
    u.abbrevs = t;
    return t;
  }

  private abbrevAt(r: ByteReader, u: UnitHeader, code: number): Abbrev {
    const ab = this.abbrevsOf(u).get(code);
    if (!ab) r.fail(`unknown abbreviation code ${code}`);
    return ab;
  }

  private readUnitDie(u: UnitHeader): UnitInfo {
    const info: UnitInfo = { header: u, name: '', compDir: '', stmtList: -1 };
    if (u.unitType !== C.DW_UT_compile && u.unitType !== C.DW_UT_partial) return info;
    const s = this.sections;
    const r = new ByteReader(s.info, '.debug_info').seek(u.dieOffset);
    if (r.pos >= u.end) return info;
    const code = r.uleb128();
    if (code === 0) return info;
    const ab = this.abbrevAt(r, u, code);
    const start = r.pos;
    // Pass 1: the bases, which other attributes of this same DIE may need.
    for (let i = 0; i < ab.names.length; i++) {
      const name = ab.names[i]!;
      const form = ab.forms[i]!;
      if (name === C.DW_AT_str_offsets_base) u.strOffsetsBase = readFormNumber(r, form, u, s, ab.consts[i]!);
      else if (name === C.DW_AT_addr_base || name === C.DW_AT_GNU_addr_base) u.addrBase = readFormNumber(r, form, u, s, ab.consts[i]!);
      else if (name === C.DW_AT_rnglists_base || name === C.DW_AT_GNU_ranges_base)
        u.rnglistsBase = readFormNumber(r, form, u, s, ab.consts[i]!);
      else skipForm(r, form, u);
    }
    r.seek(start);
    let low = BAD_ADDRESS;
    let high = BAD_ADDRESS;
    let highIsOffset = false;
    let rangesForm = -1;
    let rangesValue = 0;
    for (let i = 0; i < ab.names.length; i++) {
      const name = ab.names[i]!;
      const form = ab.forms[i]!;
      switch (name) {
        case C.DW_AT_name:
          info.name = readString(r, form, u, s);
          break;
        case C.DW_AT_comp_dir:
          info.compDir = readString(r, form, u, s);
          break;
        case C.DW_AT_stmt_list:
          info.stmtList = readFormNumber(r, form, u, s, ab.consts[i]!);
          break;
        case C.DW_AT_low_pc:
          low = readFormNumber(r, form, u, s, ab.consts[i]!);
          break;
        case C.DW_AT_high_pc:
          highIsOffset = !isAddressForm(form);
          high = readFormNumber(r, form, u, s, ab.consts[i]!);
          break;
        case C.DW_AT_ranges:
          rangesForm = form;
          rangesValue = readFormNumber(r, form, u, s, ab.consts[i]!);
          break;
        default:
          skipForm(r, form, u);
      }
    }
    u.baseAddress = low === BAD_ADDRESS ? 0 : low;
    if (rangesForm >= 0) {
      info.ranges = [];
      readRanges(s, u, rangesForm, rangesValue, info.ranges);
    } else if (low !== BAD_ADDRESS && high !== BAD_ADDRESS) {
      const hi = highIsOffset ? low + high : high;
      info.ranges = low < hi ? [low, hi] : [];
    } else if (!ab.hasChildren) {
      info.ranges = [];
    }
    return info;
  }

  private buildUnitMap(): void {
    const los: number[] = [];
    const his: number[] = [];
    const idx: number[] = [];
    for (let i = 0; i < this.units.length; i++) {
      const unit = this.units[i]!;
      if (unit.header.unitType !== C.DW_UT_compile && unit.header.unitType !== C.DW_UT_partial) continue;
      // A unit DIE without ranges: its subprograms say where its code is.
      const ranges = unit.ranges ?? this.unitCode(i).allRanges;
      for (let k = 0; k + 1 < ranges.length; k += 2) {
        los.push(ranges[k]!);
        his.push(ranges[k + 1]!);
        idx.push(i);
      }
    }
    const order = los.map((_, k) => k).sort((a, b) => los[a]! - los[b]! || his[b]! - his[a]!);
    this.cuLo = Float64Array.from(order, (k) => los[k]!);
    this.cuHi = Float64Array.from(order, (k) => his[k]!);
    this.cuUnit = Int32Array.from(order, (k) => idx[k]!);
    this.cuIndex = new FloorIndex(this.cuLo);
  }

  /** Index of the unit whose ranges contain pc, or -1. */
  unitIndexAt(pc: number): number {
    const i = this.cuIndex.floor(pc);
    for (let k = i; k >= 0 && k >= i - 8; k--) if (pc < this.cuHi[k]!) return this.cuUnit[k]!;
    return -1;
  }

  // ---------- lazy: a unit's code tree ----------

  private skipAttrs(r: ByteReader, ab: Abbrev, u: UnitHeader): void {
    const key = u.addrSize | (u.offsetSize << 4) | (u.version << 8);
    if (ab.fixedKey !== key) {
      let size = 0;
      for (let i = 0; i < ab.forms.length; i++) {
        const n = fixedFormSize(ab.forms[i]!, u);
        if (n < 0) {
          size = -1;
          break;
        }
        size += n;
      }
      ab.fixedSize = size;
      ab.fixedKey = key;
    }
    if (ab.fixedSize >= 0) {
      r.skip(ab.fixedSize);
      return;
    }
    // The hot path of the DIE walk: Go names every DIE with an inline DW_FORM_string.
    const b = r.bytes;
    const forms = ab.forms;
    for (let i = 0; i < forms.length; i++) {
      const form = forms[i]!;
      if (form === 0x08 /* DW_FORM_string */) {
        let p = r.pos;
        while (p < b.length && b[p] !== 0) p++;
        if (p >= b.length) r.fail('unterminated string');
        r.pos = p + 1;
      } else if (form === 0x0f /* DW_FORM_udata */ || form === 0x0d /* DW_FORM_sdata */) {
        let p = r.pos;
        while (p < b.length && (b[p]! & 0x80) !== 0) p++;
        if (p >= b.length) r.fail('truncated LEB128');
        r.pos = p + 1;
      } else {
        const n = fixedFormSize(form, u);
        if (n >= 0) r.skip(n);
        else skipForm(r, form, u);
      }
    }
  }

  private unitCode(ui: number): UnitCode {
    const cached = this.codeCache[ui];
    if (cached) return cached;
    const code = this.decodeUnitCode(this.units[ui]!.header, ui);
    this.codeCache[ui] = code;
    return code;
  }

  private decodeUnitCode(u: UnitHeader, ui: number): UnitCode {
    const s = this.sections;
    const r = new ByteReader(s.info, '.debug_info').seek(u.dieOffset);
    const nodeDie: number[] = [];
    const nodeParent: number[] = [];
    const nodeCallFile: number[] = [];
    const nodeCallLine: number[] = [];
    const nodeDepth: number[] = [];
    const nodeFunc: number[] = [];
    const funcs: DwarfFunctionRec[] = [];
    const rl: number[] = [];
    const rh: number[] = [];
    const rn: number[] = [];
    const stack: number[] = [];
    const tmp: number[] = [];
    const abbrevs = this.abbrevsOf(u);
    const bytes = s.info;
    let cur = -1;
    const end = u.end;
    while (r.pos < end) {
      const dieOff = r.pos;
      const first = bytes[dieOff]!;
      let code: number;
      if (first < 0x80) {
        code = first;
        r.pos = dieOff + 1;
      } else code = r.uleb128(); // one-byte codes are the rule
      if (code === 0) {
        if (stack.length === 0) break;
        cur = stack.pop()!;
        if (stack.length === 0) break;
        continue;
      }
      const ab = abbrevs.get(code) ?? r.fail(`unknown abbreviation code ${code}`, dieOff);
      let enclosing = cur;
      const tag = ab.tag;
      if (tag === 0x2e /* DW_TAG_subprogram */ || tag === 0x1d /* DW_TAG_inlined_subroutine */) {
        let low = BAD_ADDRESS;
        let high = BAD_ADDRESS;
        let highIsOffset = false;
        let rangesForm = -1;
        let rangesValue = 0;
        let callFile = 0;
        let callLine = 0;
        let nameDie = dieOff;
        let hasOwnName = false;
        const names = ab.names;
        for (let i = 0; i < names.length; i++) {
          const form = ab.forms[i]!;
          switch (names[i]) {
            case 0x03:
            case 0x6e:
            case 0x2007 /* DW_AT_name, DW_AT_linkage_name, DW_AT_MIPS_linkage_name */:
              hasOwnName = true;
              skipForm(r, form, u);
              break;
            case 0x31:
            case 0x47 /* DW_AT_abstract_origin, DW_AT_specification */:
              nameDie = readFormNumber(r, form, u, s, ab.consts[i]!);
              break;
            case 0x11:
              /* DW_AT_low_pc */ low = readFormNumber(r, form, u, s, ab.consts[i]!);
              break;
            case 0x12:
              /* DW_AT_high_pc */ highIsOffset = !isAddressForm(form);
              high = readFormNumber(r, form, u, s, ab.consts[i]!);
              break;
            case 0x55:
              /* DW_AT_ranges */ rangesForm = form;
              rangesValue = readFormNumber(r, form, u, s, ab.consts[i]!);
              break;
            case 0x58:
              /* DW_AT_call_file */ callFile = readFormNumber(r, form, u, s, ab.consts[i]!);
              break;
            case 0x59:
              /* DW_AT_call_line */ callLine = readFormNumber(r, form, u, s, ab.consts[i]!);
              break;
            default:
              skipForm(r, form, u);
          }
        }
        tmp.length = 0;
        if (rangesForm >= 0) readRanges(s, u, rangesForm, rangesValue, tmp);
        else if (low !== BAD_ADDRESS && high !== BAD_ADDRESS) {
          const hi = highIsOffset ? low + high : high;
          if (low < hi) tmp.push(low, hi);
        }
        const isFunc = tag === 0x2e;
        if (tmp.length > 0 && (isFunc || cur >= 0)) {
          const node = nodeDie.length;
          nodeDie.push(hasOwnName ? dieOff : nameDie);
          nodeParent.push(isFunc ? -1 : cur);
          nodeCallFile.push(callFile);
          nodeCallLine.push(callLine);
          nodeDepth.push(isFunc ? 0 : nodeDepth[cur]! + 1);
          if (isFunc) {
            // The entry range: low_pc's, else the first listed.
            let lo = tmp[0]!;
            let hi = tmp[1]!;
            for (let k = 0; k < tmp.length; k += 2)
              if (tmp[k] === low) {
                lo = tmp[k]!;
                hi = tmp[k + 1]!;
              }
            nodeFunc.push(funcs.length);
            funcs.push({ unit: ui, dieOffset: dieOff, lowPc: lo, highPc: hi });
          } else {
            nodeFunc.push(nodeFunc[cur]!);
          }
          for (let k = 0; k < tmp.length; k += 2) {
            rl.push(tmp[k]!);
            rh.push(tmp[k + 1]!);
            rn.push(node);
          }
          enclosing = node;
        } else {
          enclosing = -1; // declarations, abstract instances: nothing inside runs at an address of theirs
        }
      } else {
        this.skipAttrs(r, ab, u);
      }
      if (ab.hasChildren) {
        stack.push(cur);
        cur = enclosing;
      }
    }

    // Flatten the nested ranges into segments owned by the deepest node (ranges nest properly).
    const cmp = (a: number, b: number): number => rl[a]! - rl[b]! || nodeDepth[rn[a]!]! - nodeDepth[rn[b]!]! || rh[b]! - rh[a]!;
    const order = rl.map((_, k) => k);
    let sorted = true;
    for (let k = 1; k < order.length && sorted; k++) if (cmp(k - 1, k) > 0) sorted = false;
    if (!sorted) order.sort(cmp);
    const segStart: number[] = [];
    const segNode: number[] = [];
    const setOwner = (pos: number, node: number): void => {
      const n = segStart.length;
      if (n > 0 && pos < segStart[n - 1]!) return; // improperly nested input: keep what we have
      if (n > 0 && segStart[n - 1] === pos) {
        segNode[n - 1] = node;
        if (n > 1 && segNode[n - 2] === node) {
          segStart.pop();
          segNode.pop();
        }
      } else if (n === 0 || segNode[n - 1] !== node) {
        segStart.push(pos);
        segNode.push(node);
      }
    };
    const open: number[] = [];
    const closeUntil = (pos: number): void => {
      while (open.length > 0 && rh[open[open.length - 1]!]! <= pos) {
        const k = open.pop()!;
        setOwner(rh[k]!, open.length > 0 ? rn[open[open.length - 1]!]! : -1);
      }
    };
    for (const k of order) {
      closeUntil(rl[k]!);
      open.push(k);
      setOwner(rl[k]!, rn[k]!);
    }
    closeUntil(Infinity);
    const segStartArr = Float64Array.from(segStart);
    const allRanges: number[] = [];
    for (let k = 0; k < rl.length; k++) if (nodeParent[rn[k]!] === -1) allRanges.push(rl[k]!, rh[k]!);
    return {
      nodeDie,
      nodeParent: Int32Array.from(nodeParent),
      nodeCallFile: Int32Array.from(nodeCallFile),
      nodeCallLine: Int32Array.from(nodeCallLine),
      nodeFunc: Int32Array.from(nodeFunc),
      funcs,
      segStart: segStartArr,
      segNode: Int32Array.from(segNode),
      segIndex: new FloorIndex(segStartArr),
      allRanges,
      nodeName: new Array<string | undefined>(nodeDie.length).fill(undefined),
    };
  }

  private lineTable(ui: number): LineTable | undefined {
    const cached = this.lineCache[ui];
    if (cached) return cached;
    const unit = this.units[ui]!;
    if (unit.stmtList < 0) return undefined;
    const t = parseLineTable(this.sections, unit.stmtList, unit.header, unit.compDir);
    this.lineCache[ui] = t;
    return t;
  }

  /** The unit's file names (index = DWARF file number), from its line table header. */
  private files(ui: number): string[] {
    const lt = this.lineCache[ui];
    if (lt) return lt.header.files;
    let f = this.fileCache[ui];
    if (!f) {
      const unit = this.units[ui]!;
      f = unit.stmtList < 0 ? [] : parseLineHeader(this.sections, unit.stmtList, unit.header, unit.compDir).files;
      this.fileCache[ui] = f;
    }
    return f;
  }

  private unitIndexOfDie(off: number): number {
    const o = this.unitOffsets;
    let a = 0;
    let b = o.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (o[m]! <= off) a = m + 1;
      else b = m;
    }
    const ui = a - 1;
    if (ui < 0 || off >= this.units[ui]!.header.end)
      throw new FormatError(`DIE reference 0x${off.toString(16)} is outside every unit`, '.debug_info', off);
    return ui;
  }

  /** Name and declaration of a DIE, following DW_AT_specification / DW_AT_abstract_origin. */
  dieInfo(off: number, depth = 0): DieInfo {
    const cached = this.dieCache.get(off);
    if (cached) return cached;
    const ui = this.unitIndexOfDie(off);
    const u = this.units[ui]!.header;
    const s = this.sections;
    const r = new ByteReader(s.info, '.debug_info').seek(off);
    const ab = this.abbrevAt(r, u, r.uleb128());
    let name = '';
    let linkageName = '';
    let ref = -1;
    let declFileNum = -1;
    let declLine = -1;
    for (let i = 0; i < ab.names.length; i++) {
      const form = ab.forms[i]!;
      switch (ab.names[i]) {
        case C.DW_AT_name:
          name = readString(r, form, u, s);
          break;
        case C.DW_AT_linkage_name:
        case C.DW_AT_MIPS_linkage_name:
          linkageName = readString(r, form, u, s);
          break;
        case C.DW_AT_specification:
        case C.DW_AT_abstract_origin:
          ref = readFormNumber(r, form, u, s, ab.consts[i]!);
          break;
        case C.DW_AT_decl_file:
          declFileNum = readFormNumber(r, form, u, s, ab.consts[i]!);
          break;
        case C.DW_AT_decl_line:
          declLine = readFormNumber(r, form, u, s, ab.consts[i]!);
          break;
        default:
          skipForm(r, form, u);
      }
    }
    // DW_AT_name as recorded; the linkage name only when there is no name (Go's assembly
    // functions' linkage names end in ".abi0", which .gopclntab and go tool addr2line drop).
    const result: DieInfo = { name: name || stripAbi0(linkageName) };
    if (declFileNum >= 0) {
      const f = this.files(ui)[declFileNum];
      if (f !== undefined) result.declFile = f;
    }
    if (declLine >= 0) result.declLine = declLine;
    if (
      ref >= 0 &&
      ref !== off &&
      depth < MAX_REF_DEPTH &&
      (!result.name || result.declFile === undefined || result.declLine === undefined)
    ) {
      const o = this.dieInfo(ref, depth + 1);
      if (!result.name) result.name = o.name;
      if (result.declFile === undefined && o.declFile !== undefined) result.declFile = o.declFile;
      if (result.declLine === undefined && o.declLine !== undefined) result.declLine = o.declLine;
    }
    this.dieCache.set(off, result);
    return result;
  }

  // ---------- queries ----------

  /** Results of the last successful locate(): unit, deepest node, line-table file index (-1: no row) and line. */
  private hitUnit = -1;
  private hitNode = -1;
  private hitFile = -1;
  private hitLine = 0;

  /**
   * Finds the deepest (inlined) node covering pc and the line row for it, into the hit* fields.
   * False outside every function.
   */
  private locate(pc: number): boolean {
    const ui = this.unitIndexAt(pc);
    if (ui < 0) return false;
    const code = this.unitCode(ui);
    const si = code.segIndex.floor(pc);
    if (si < 0) return false;
    const node = code.segNode[si]!;
    if (node < 0) return false;
    this.hitUnit = ui;
    this.hitNode = node;
    this.hitFile = -1;
    this.hitLine = 0;
    const lt = this.lineTable(ui);
    if (lt) {
      const row = lookupRow(lt, pc);
      if (row >= 0) {
        this.hitFile = lt.file[row]!;
        this.hitLine = lt.line[row]!;
      }
    }
    return true;
  }

  /** Frames for pc, innermost first, like llvm-symbolizer --inlining; [] outside every function. */
  symbolize(pc: number): DwarfFrame[] {
    if (!this.locate(pc)) return [];
    const ui = this.hitUnit;
    const frames: DwarfFrame[] = [
      { function: this.nodeFunctionName(ui, this.hitNode), file: this.fileName(ui, this.hitFile), line: this.hitLine },
    ];
    return this.pushOuterFrames(ui, this.hitNode, frames);
  }

  /** The callers' frames of a node (all but the innermost frame), appended to `out`. */
  private pushOuterFrames(ui: number, node: number, out: DwarfFrame[]): DwarfFrame[] {
    const code = this.unitCode(ui);
    for (let parent = code.nodeParent[node]!; parent >= 0; node = parent, parent = code.nodeParent[node]!) {
      out.push({
        function: this.nodeName(code, parent),
        file: this.fileName(ui, code.nodeCallFile[node]!),
        line: code.nodeCallLine[node]!,
      });
    }
    return out;
  }

  /** The function name of a node (an inlined subroutine's is the inlined function's). */
  private nodeFunctionName(ui: number, node: number): string {
    return this.nodeName(this.unitCode(ui), node);
  }

  /** A file of a unit's line table by its DWARF number; '' when out of range (or -1). */
  fileName(ui: number, fileIndex: number): string {
    if (fileIndex < 0) return '';
    return this.files(ui)[fileIndex] ?? '';
  }

  private nodeName(code: UnitCode, node: number): string {
    const known = code.nodeName[node];
    if (known !== undefined) return known;
    const d = this.dieInfo(code.nodeDie[node]!);
    // Remember declarations of functions as they are met (an inlined one's comes from its
    // abstract origin): ingest asks for those seen only inlined.
    // Go's abstract subprograms carry DW_AT_decl_line but no DW_AT_decl_file: file '' then
    // (the function's frames say which file it is in).
    if (d.declLine !== undefined && d.declLine > 0 && !this.declByName.has(d.name))
      this.declByName.set(d.name, { file: d.declFile ?? '', line1: d.declLine });
    return (code.nodeName[node] = d.name);
  }

  /** Declaration (decl_file, '' when absent; decl_line) of a function named in a frame symbolized so far. */
  declarationOfName(name: string): { file: string; line1: number } | undefined {
    return this.declByName.get(name);
  }

  private toFunction(rec: DwarfFunctionRec): DwarfFunction {
    const d = this.dieInfo(rec.dieOffset);
    const f: DwarfFunction = { name: d.name, lowPc: rec.lowPc, highPc: rec.highPc, dieOffset: rec.dieOffset };
    if (d.declFile !== undefined) f.declFile = d.declFile;
    if (d.declLine !== undefined) f.declLine = d.declLine;
    if (f.declFile === undefined) {
      // Go 1.19 records no DW_AT_decl_file: the file of the entry's line row is the function's.
      // (Not its line: the entry row's line is the first statement's, not the `func` line.)
      const lt = this.lineTable(rec.unit);
      const row = lt ? lookupRow(lt, rec.lowPc) : -1;
      if (lt && row >= 0) f.declFile = lt.header.files[lt.file[row]!];
    }
    return f;
  }

  /** The physical function whose code contains pc. */
  functionAt(pc: number): DwarfFunction | undefined {
    const ui = this.unitIndexAt(pc);
    if (ui < 0) return undefined;
    const code = this.unitCode(ui);
    const si = code.segIndex.floor(pc);
    if (si < 0) return undefined;
    const node = code.segNode[si]!;
    return node < 0 ? undefined : this.toFunction(code.funcs[code.nodeFunc[node]!]!);
  }

  /** Every physical function (subprogram with code), sorted by lowPc. Decodes every unit. */
  functions(): DwarfFunction[] {
    if (this.allFunctions) return this.allFunctions;
    const out: DwarfFunction[] = [];
    for (let ui = 0; ui < this.units.length; ui++) {
      const t = this.units[ui]!.header.unitType;
      if (t !== C.DW_UT_compile && t !== C.DW_UT_partial) continue;
      for (const rec of this.unitCode(ui).funcs) out.push(this.toFunction(rec));
    }
    out.sort((x, y) => x.lowPc - y.lowPc || x.highPc - y.highPc);
    this.allFunctions = out;
    return out;
  }

  /** Decodes every unit now (benchmarks measure lookups separately from decoding). */
  decodeAll(): void {
    for (let ui = 0; ui < this.units.length; ui++) {
      const t = this.units[ui]!.header.unitType;
      if (t !== C.DW_UT_compile && t !== C.DW_UT_partial) continue;
      this.unitCode(ui);
      this.lineTable(ui);
    }
  }

  /** Every address that starts a line-table row (end_sequence rows excluded), sorted, deduplicated. */
  lineRowAddresses(): number[] {
    const set = new Set<number>();
    for (let ui = 0; ui < this.units.length; ui++) {
      const t = this.units[ui]!.header.unitType;
      if (t !== C.DW_UT_compile && t !== C.DW_UT_partial) continue;
      const lt = this.lineTable(ui);
      if (!lt) continue;
      for (let i = 0; i < lt.addr.length; i++) if (lt.file[i]! >= 0) set.add(lt.addr[i]!);
    }
    return [...set].sort((a, b) => a - b);
  }

  /** Byte offset of a member in a named structure type (e.g. "runtime.g", "goid"), from DW_AT_data_member_location. */
  structFieldOffset(typeName: string, fieldName: string): number | undefined {
    return this.structFields(typeName)?.get(fieldName);
  }

  /** All members of the first complete structure type with this name, with their offsets. */
  structFields(typeName: string): Map<string, number> | undefined {
    if (this.structCache.has(typeName)) return this.structCache.get(typeName);
    let found: Map<string, number> | undefined;
    for (let ui = 0; ui < this.units.length && !found; ui++) found = this.findStruct(this.units[ui]!.header, typeName);
    this.structCache.set(typeName, found);
    return found;
  }

  private findStruct(u: UnitHeader, typeName: string): Map<string, number> | undefined {
    const s = this.sections;
    const r = new ByteReader(s.info, '.debug_info').seek(u.dieOffset);
    let depth = 0;
    let structDepth = -1;
    let fields: Map<string, number> | undefined;
    while (r.pos < u.end) {
      const code = r.uleb128();
      if (code === 0) {
        depth--;
        if (fields && depth === structDepth) return fields;
        if (depth <= 0) break;
        continue;
      }
      const ab = this.abbrevAt(r, u, code);
      const wanted = (ab.tag === C.DW_TAG_structure_type && !fields) || (ab.tag === C.DW_TAG_member && fields && depth === structDepth + 1);
      if (!wanted) {
        this.skipAttrs(r, ab, u);
      } else {
        let name = '';
        let declaration = false;
        let location: number | undefined;
        for (let i = 0; i < ab.names.length; i++) {
          const form = ab.forms[i]!;
          const attr = ab.names[i];
          if (attr === C.DW_AT_name) name = readString(r, form, u, s);
          else if (attr === C.DW_AT_declaration) declaration = readFormNumber(r, form, u, s, ab.consts[i]!) !== 0;
          else if (attr === C.DW_AT_data_member_location) location = memberLocation(r, form, u, s, ab.consts[i]!);
          else skipForm(r, form, u);
        }
        if (ab.tag === C.DW_TAG_structure_type) {
          if (name === typeName && !declaration && ab.hasChildren) {
            fields = new Map();
            structDepth = depth;
          }
        } else if (fields && location !== undefined && !fields.has(name)) {
          fields.set(name, location);
        }
      }
      if (ab.hasChildren) depth++;
      else if (fields && depth === structDepth) return fields; // struct without children
    }
    return fields;
  }
}

function stripAbi0(name: string): string {
  return name.endsWith('.abi0') ? name.slice(0, -5) : name;
}

/** DW_AT_data_member_location: a constant, or (DWARF 2 style) an expression DW_OP_plus_uconst N. */
function memberLocation(r: ByteReader, form: number, u: UnitHeader, s: DwarfSections, implicitConst: number): number | undefined {
  let len = -1;
  if (form === C.DW_FORM_exprloc || form === C.DW_FORM_block) len = r.uleb128();
  else if (form === C.DW_FORM_block1) len = r.u8();
  else if (form === C.DW_FORM_block2) len = r.u16();
  else if (form === C.DW_FORM_block4) len = r.u32();
  if (len < 0) return readFormNumber(r, form, u, s, implicitConst);
  const expr = r.sub(r.pos, len);
  r.skip(len);
  if (len === 0) return undefined;
  const op = expr.u8();
  if (op === C.DW_OP_plus_uconst || op === C.DW_OP_constu) return expr.uleb128();
  return undefined;
}

/** The DWARF index of a binary, or undefined when it has no DWARF. */
export function dwarfIndexOf(elf: ElfFile): DwarfIndex | undefined {
  const s = dwarfSectionsOf(elf);
  return s ? new DwarfIndex(s) : undefined;
}
