/** .debug_abbrev: one table per offset, decoded once and shared by the units that use it. */
import { ByteReader } from '../../util/byteReader';
import { DW_FORM_implicit_const } from './constants';

export interface Abbrev {
  code: number;
  tag: number;
  hasChildren: boolean;
  /** Attribute names, forms, and DW_FORM_implicit_const values (0 for other forms), in order. */
  names: Int32Array;
  forms: Int32Array;
  consts: Float64Array;
  /** Byte size of all attributes when every form has a fixed size for `fixedKey`; -1 when variable. */
  fixedSize: number;
  fixedKey: number;
}

/** Abbreviations by code: a dense array for the usual small codes, a map for the rest. */
export class AbbrevTable {
  private readonly dense: (Abbrev | undefined)[] = [];
  private readonly sparse = new Map<number, Abbrev>();
  get(code: number): Abbrev | undefined {
    return code < 4096 ? this.dense[code] : this.sparse.get(code);
  }
  set(code: number, ab: Abbrev): void {
    if (code < 4096) {
      while (this.dense.length <= code) this.dense.push(undefined);
      this.dense[code] = ab;
    } else {
      this.sparse.set(code, ab);
    }
  }
}

/** Decodes the abbreviation table that starts at `offset` of .debug_abbrev. */
export function parseAbbrevTable(abbrev: Uint8Array, offset: number): AbbrevTable {
  const r = new ByteReader(abbrev, '.debug_abbrev');
  r.seek(offset);
  const table = new AbbrevTable();
  for (;;) {
    const code = r.uleb128();
    if (code === 0) break;
    const tag = r.uleb128();
    const hasChildren = r.u8() !== 0;
    const names: number[] = [];
    const forms: number[] = [];
    const consts: number[] = [];
    for (;;) {
      const name = r.uleb128();
      const form = r.uleb128();
      if (name === 0 && form === 0) break;
      names.push(name);
      forms.push(form);
      consts.push(form === DW_FORM_implicit_const ? r.sleb128() : 0);
    }
    table.set(code, {
      code,
      tag,
      hasChildren,
      names: Int32Array.from(names),
      forms: Int32Array.from(forms),
      consts: Float64Array.from(consts),
      fixedSize: -1,
      fixedKey: -1,
    });
  }
  return table;
}
