/**
 * The probe planner's x86 decoding (iced-x86) cross-checked against binutils' objdump on real
 * Go binaries from every toolchain: for every function of the main package and of the runtime,
 * the RET addresses must be the same set, and the entry probe must sit right after the
 * `CMP …, 16(g); JBE` stack check objdump shows (or at the first instruction without one).
 * Also: the goid offset table against each binary's DWARF as readelf prints it.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { parseElf } from '../../../src/formats/elf';
import { GoBinaryIndex } from '../../../src/symbolize/goTracePlan';
import type { UserError } from '../../../src/util/userError';
import { goidOffset, goidOffsetFromTable } from '../../../src/symbolize/goRuntimeLayout';
import { BUILD_VARIANTS, buildGoFixture, goToolchains } from '../../support/goToolchains';

interface ObjdumpFunc {
  insns: { addr: bigint; text: string }[];
}

/** objdump -d of .text, split into functions by their `<name>:` headers. */
function objdumpFunctions(binary: string): Map<string, ObjdumpFunc> {
  const out = execFileSync('objdump', ['-d', '--no-show-raw-insn', '-j', '.text', binary], { maxBuffer: 1 << 30 }).toString('utf8');
  const funcs = new Map<string, ObjdumpFunc>();
  let cur: ObjdumpFunc | undefined;
  for (const line of out.split('\n')) {
    const h = /^[0-9a-f]+ <(.+)>:$/.exec(line);
    if (h) {
      cur = { insns: [] };
      funcs.set(h[1]!, cur);
      continue;
    }
    const m = /^\s+([0-9a-f]+):\s+(.*)$/.exec(line);
    if (m && cur) cur.insns.push({ addr: BigInt(`0x${m[1]}`), text: m[2]!.trim() });
  }
  return funcs;
}

/** objdump's view: where the entry probe belongs, and the RETs. */
function objdumpProbes(f: ObjdumpFunc): { entry: bigint; rets: bigint[] } {
  let entry = f.insns[0]!.addr;
  for (let i = 0; i + 2 < f.insns.length && i < 6; i++) {
    if (/^cmp\s+0x10\(%r\w+\),%r\w+$/.test(f.insns[i]!.text) && /^jbe\s/.test(f.insns[i + 1]!.text)) {
      entry = f.insns[i + 2]!.addr;
      break;
    }
  }
  return { entry, rets: f.insns.filter((x) => /^ret[q]?\b/.test(x.text)).map((x) => x.addr) };
}

describe('probe points: iced-x86 against objdump [objdump, go]', function () {
  this.timeout(600000);

  for (const tc of goToolchains()) {
    it(`finds the same RETs and stack-check ends as objdump in every main and runtime function (Go ${tc.version})`, () => {
      const bin = buildGoFixture('tracee', tc);
      const idx = new GoBinaryIndex(parseElf(fs.readFileSync(bin)));
      const ref = objdumpFunctions(bin);
      let compared = 0;
      let withCheck = 0;
      let noReturn = 0;
      const shapes = new Set<string>();
      for (const f of idx.functions()) {
        if (!/^(main|runtime|tracee)\./.test(f.name) && !f.name.startsWith('tracee/')) continue;
        // objdump names functions after the ELF symbol table, which agrees with the pclntab
        // except for generic shapes (Go 1.19's pclntab says "main.Sum[...]"): those are skipped.
        const o = ref.get(f.name);
        if (!o || o.insns.length === 0 || o.insns[0]!.addr !== f.lowPc) continue;
        const theirs = objdumpProbes(o);
        let mine;
        try {
          mine = idx.probesOf(f);
        } catch (e) {
          // Functions that never return (panicwrap, throw...) are refused: objdump agrees there is no RET.
          assert.equal((e as UserError).code, 'no-return', String(e));
          assert.deepEqual(theirs.rets, [], `${f.name} was refused but objdump shows RETs`);
          noReturn++;
          continue;
        }
        assert.deepEqual(mine.rets, theirs.rets, `RETs of ${f.name}`);
        assert.equal(mine.entry, theirs.entry, `entry probe of ${f.name}`);
        // The entry probe is on an instruction boundary objdump agrees with.
        assert.ok(
          o.insns.some((x) => x.addr === mine.entry),
          `entry of ${f.name} is not an instruction start`,
        );
        compared++;
        if (mine.stackCheck) {
          withCheck++;
          shapes.add(o.insns[0]!.text.split(/\s+/)[0]!);
        }
      }
      assert.ok(compared > 500, `only ${compared} functions compared`);
      assert.ok(withCheck > 100);
      assert.ok(noReturn > 0 && noReturn < compared / 10, `${noReturn} functions without RET`);
      // All three prologue shapes occurred: cmp (small), lea (big), mov+sub (huge: main.bigFrame).
      for (const s of ['cmp', 'lea', 'mov']) assert.ok(shapes.has(s), `no ${s} prologue among ${[...shapes].join(', ')}`);
    });
  }

  it('finds the three prologue shapes in the fixture functions that have them', () => {
    const tc = goToolchains()[goToolchains().length - 1]!;
    const bin = buildGoFixture('tracee', tc);
    const idx = new GoBinaryIndex(parseElf(fs.readFileSync(bin)));
    const ref = objdumpFunctions(bin);
    for (const [name, first] of [
      ['main.busyWork', 'cmp'],
      ['main.recurse', 'lea'],
      ['main.bigFrame', 'mov'],
    ] as const) {
      const p = idx.plan([name]).functions[0]!;
      assert.ok(p.stackCheck, name);
      assert.ok(ref.get(name)!.insns[0]!.text.startsWith(first), `${name} starts with ${ref.get(name)!.insns[0]!.text}`);
      const after = ref.get(name)!.insns.findIndex((x) => x.addr === p.entry);
      assert.match(ref.get(name)!.insns[after - 1]!.text, /^jbe\s/);
    }
    // NOSPLIT leaf: no check, the entry is the first instruction.
    const add = idx.plan(['tracee/internal/work.(*Counter).Add']).functions[0]!;
    assert.equal(add.stackCheck, false);
    assert.equal(add.entry, add.lowPc);
  });
});

describe('goid offset: table against DWARF [readelf, go]', function () {
  this.timeout(300000);

  /** runtime.g's goid member offset as readelf decodes the DWARF. */
  function readelfGoid(binary: string): number {
    const out = execFileSync('readelf', ['--debug-dump=info', binary], {
      maxBuffer: 1 << 30,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString('utf8');
    const at = out.indexOf('DW_AT_name        : runtime.g\n');
    assert.ok(at >= 0, 'runtime.g not in DWARF');
    const rest = out.slice(at);
    const m = /DW_AT_name\s+: goid\n\s+<[0-9a-f]+>\s+DW_AT_data_member_location: (\d+)/.exec(rest);
    assert.ok(m, 'goid member not found');
    return Number(m[1]);
  }

  for (const tc of goToolchains()) {
    it(`Go ${tc.version}: the table row is the DWARF offset, and stripped binaries use the table`, () => {
      const bin = buildGoFixture('tracee', tc);
      const idx = new GoBinaryIndex(parseElf(fs.readFileSync(bin)));
      const dwarf = readelfGoid(bin);
      assert.equal(goidOffsetFromTable(idx.goVersion), dwarf);
      assert.equal(goidOffset(idx.elf, idx.goVersion).offset, dwarf);
      const stripped = buildGoFixture(
        'tracee',
        tc,
        BUILD_VARIANTS.find((v) => v.name === 'stripped')!,
      );
      const sidx = new GoBinaryIndex(parseElf(fs.readFileSync(stripped)));
      assert.deepEqual(goidOffset(sidx.elf, sidx.goVersion), { offset: dwarf, source: 'table' });
      // Stripped binaries still trace: the pclntab has every function.
      assert.ok(sidx.plan(['main.busyWork']).functions[0]!.rets.length > 0);
    });
  }
});
