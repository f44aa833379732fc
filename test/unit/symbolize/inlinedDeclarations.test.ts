/**
 * Declarations of functions met only inlined: the gopclntab backend reads the inline tree's
 * startLine (Go 1.20+), the DWARF backend DW_AT_decl_line through the abstract origin. Both are
 * checked against the `func` lines go/ast finds in the fixture's source, for every toolchain
 * (Go 1.19 has neither: no startLine in its inline tree, no DW_AT_decl_line before 1.21).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseElf } from '../../../src/formats/elf';
import { openGoPclntab } from '../../../src/formats/openGoPclntab';
import { createDwarfSymbolizer } from '../../../src/symbolize/dwarfSymbolizer';
import { GopclntabSymbolizer } from '../../../src/symbolize/gopclntabSymbolizer';
import { declKey, goFuncLines } from '../../support/goFuncLines';
import { BUILD_VARIANTS, buildGoFixture, goToolchains } from '../../support/goToolchains';

const SOURCE = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'go', 'symbols', 'main.go');
/** Helpers of the fixture that the compiler inlines (its comments say so). */
const INLINED = ['main.clamp', 'main.square', 'main.level3', 'main.level2', 'main.level1'];

describe('declarations of inlined functions vs go/ast [go]', function () {
  this.timeout(600_000);
  const toolchains = goToolchains();
  it('finds Go toolchains', () => assert.ok(toolchains.length > 0, 'no Go toolchain: run scripts/setup.sh'));
  for (const tc of toolchains) {
    it(`Go ${tc.version}: gopclntab (1.20+) and DWARF give each inlined helper's func line`, () => {
      const bin = buildGoFixture('symbols', tc, BUILD_VARIANTS[0]);
      const want = goFuncLines(tc, [SOURCE]).get(SOURCE)!;
      assert.ok(want && want.size > 5, 'go/ast found the fixture functions');
      const bytes = new Uint8Array(fs.readFileSync(bin));
      const elf = parseElf(bytes);
      const pcl = new GopclntabSymbolizer(openGoPclntab(elf)!);
      const dwarf = createDwarfSymbolizer(elf);
      assert.ok(dwarf, 'the default build has DWARF');
      // Symbolize every instruction start of main.* functions: every inlined helper is met.
      for (const f of pcl.functions()) {
        if (!f.name.startsWith('main.')) continue;
        for (let pc = f.lowPc; pc < f.highPc; pc++) {
          pcl.symbolize(pc);
          dwarf.symbolize(pc);
        }
      }
      const minor = Number(tc.version.split('.')[1]);
      for (const name of INLINED) {
        const line = want.get(declKey(name)!);
        assert.ok(line, `go/ast has ${name}`);
        const viaDwarf = dwarf.inlinedDeclarationOf(name);
        // Go records DW_AT_decl_line from 1.21 on (see dwarfSymbolizer.test.ts).
        if (minor >= 21) assert.equal(viaDwarf?.line1, line, `DWARF, ${name}`);
        else assert.equal(viaDwarf, undefined, `Go ${tc.version} records no DW_AT_decl_line`);
        const viaPcl = pcl.inlinedDeclarationOf(name);
        if (minor >= 20) {
          assert.equal(viaPcl?.line1, line, `gopclntab, ${name}`);
          assert.equal(viaPcl?.file, SOURCE, `gopclntab file, ${name}`);
        } else {
          assert.equal(viaPcl, undefined, `Go ${tc.version}'s inline tree has no startLine`);
        }
      }
    });
  }
});
