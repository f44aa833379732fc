/**
 * The .gopclntab symbolizer on real binaries built at test time with every toolchain:
 * - stripped (-ldflags=-s -w) vs `go tool addr2line` of the same toolchain (physical function,
 *   innermost file:line) for every function entry and thousands of PCs inside functions;
 * - unstripped (default, -N -l, -trimpath) vs llvm-symbolizer --inlining: every frame of the
 *   inline chain, so stripped binaries — which share the pclntab — keep correct inline chains;
 * - stripped and unstripped builds give the same frames (the inline trees of stripped binaries
 *   are found through runtime.firstmoduledata, without symbols).
 * Every accepted difference is a named case with its reason.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { parseElf } from '../../../src/formats/elf';
import { openGoPclntab } from '../../../src/formats/openGoPclntab';
import { GopclntabSymbolizer } from '../../../src/symbolize/gopclntabSymbolizer';
import { goAddr2line } from '../../support/goAddr2line';
import { BUILD_VARIANTS, buildGoFixture, goToolchains, type BuildVariant } from '../../support/goToolchains';
import { llvmSymbolize } from '../../support/llvmSymbolizer';
import { bracketAbbreviationOf, compareFrameLists, describeAccepted, type LlvmComparison } from '../../support/pclntabVsLlvm';
import { functionSymbols, seededRandom } from '../../support/symbolizerCompare';

const FIXTURES = ['symbols', 'pclntab'];
const STRIPPED = BUILD_VARIANTS.find((v) => v.name === 'stripped')!;
const UNSTRIPPED = BUILD_VARIANTS.filter((v) => v.name !== 'stripped');

function open(bin: string): GopclntabSymbolizer {
  const tab = openGoPclntab(parseElf(new Uint8Array(fs.readFileSync(bin))));
  assert.ok(tab, `${bin} should have a .gopclntab`);
  return new GopclntabSymbolizer(tab);
}

/** Every function entry plus `count` seeded PCs inside functions (from the pclntab's own ranges). */
function samplePcs(sym: GopclntabSymbolizer, count: number, seed: number): number[] {
  const fns = sym.functions();
  const rnd = seededRandom(seed);
  const set = new Set<number>();
  for (let i = 0; i < fns.length; i++) {
    set.add(Number(fns[i]!.lowPc));
    // The first byte of alignment padding after a function, where there is one.
    if (i + 1 < fns.length && fns[i]!.highPc < fns[i + 1]!.lowPc) set.add(Number(fns[i]!.highPc));
  }
  for (let i = 0; i < count; i++) {
    const f = fns[Math.floor(rnd() * fns.length)]!;
    set.add(Number(f.lowPc) + Math.floor(rnd() * Number(f.highPc - f.lowPc)));
  }
  return [...set].sort((a, b) => a - b);
}

function compareWithLlvm(bin: string, sym: GopclntabSymbolizer, pcs: number[]): LlvmComparison {
  const ref = llvmSymbolize(
    bin,
    pcs.map((p) => BigInt(p)),
  );
  return compareFrameLists(
    pcs,
    pcs.map((pc) => sym.framesAt(pc)),
    ref,
  );
}

describe('gopclntab symbolizer vs llvm-symbolizer --inlining, unstripped [go, llvm-symbolizer]', function () {
  this.timeout(900_000);
  const toolchains = goToolchains();
  it('finds Go toolchains', () => assert.ok(toolchains.length > 0, 'no Go toolchain: run scripts/setup.sh'));
  for (const tc of toolchains) {
    for (const fixture of FIXTURES) {
      for (const variant of UNSTRIPPED) {
        it(`Go ${tc.version} ${fixture} ${variant.name}: every frame of every sampled PC matches`, () => {
          const bin = buildGoFixture(fixture, tc, variant);
          const sym = open(bin);
          const pcs = samplePcs(sym, 3000, 0x9c1 + Number(tc.version.split('.')[1]));
          const r = compareWithLlvm(bin, sym, pcs);
          console.log(
            `      go${tc.version}/${fixture}/${variant.name}: ${r.addresses} PCs, max depth ${r.maxDepth}; accepted: ${describeAccepted(r.accepted)}`,
          );
          assert.deepEqual(r.unexplained.slice(0, 5), [], `${r.unexplained.length} unexplained difference(s) from llvm-symbolizer`);
          if (variant.name !== 'noopt') assert.ok(r.maxDepth >= 3, 'the fixture should produce inline chains at least 3 deep');
          if (!tc.version.startsWith('1.19')) {
            assert.equal(r.accepted.wrapperInline ?? 0, 0, 'wrapperInline is a Go 1.19 case');
            assert.equal(r.accepted.bracketName ?? 0, 0, 'bracketName is a Go 1.18/1.19 case');
          }
        });
      }
    }
  }
});

/** Differences from `go tool addr2line` we accept, each with its reason. */
const ACCEPTED_VS_ADDR2LINE = {
  padding:
    'past a function\'s last instruction (alignment padding up to the next entry) the line table has no value: go tool addr2line prints the previous function with ":-1", we give no frames (as DWARF does)',
} as const;

describe('gopclntab symbolizer vs go tool addr2line, stripped -ldflags=-s -w [go]', function () {
  this.timeout(900_000);
  for (const tc of goToolchains()) {
    for (const fixture of FIXTURES) {
      it(`Go ${tc.version} ${fixture} stripped: physical function and innermost file:line of every sampled PC`, () => {
        const bin = buildGoFixture(fixture, tc, STRIPPED);
        const elf = parseElf(new Uint8Array(fs.readFileSync(bin)));
        assert.equal(elf.section('.symtab'), undefined, 'a stripped binary has no symbol table');
        assert.equal(elf.section('.debug_info') ?? elf.section('.zdebug_info'), undefined, 'a stripped binary has no DWARF');
        const sym = open(bin);
        assert.ok(sym.hasInlineTrees, 'go:func.* must be found through moduledata in a stripped binary');
        const pcs = samplePcs(sym, 4000, 0xadd2 + Number(tc.version.split('.')[1]));
        const ref = goAddr2line(tc, bin, pcs);
        const bad: string[] = [];
        let inlined = 0;
        let padding = 0;
        for (let i = 0; i < pcs.length; i++) {
          const ours = sym.framesAt(pcs[i]!);
          const r = ref[i]!;
          if (ours.length === 0 && r.file === '' && r.line === -1) {
            padding++;
            continue;
          }
          if (ours.length === 0) {
            bad.push(`0x${pcs[i]!.toString(16)}: ours [] vs ${JSON.stringify(r)}`);
            continue;
          }
          if (ours.length > 1) inlined++;
          const physical = ours[ours.length - 1]!.function;
          const inner = ours[0]!;
          if (physical !== r.function || inner.file !== r.file || inner.line !== r.line) {
            bad.push(
              `0x${pcs[i]!.toString(16)}: ours ${physical} ${inner.file}:${inner.line} vs addr2line ${r.function} ${r.file}:${r.line}`,
            );
          }
        }
        console.log(
          `      go${tc.version}/${fixture}/stripped: ${pcs.length} PCs, ${inlined} with inline chains; accepted: ${Object.keys(ACCEPTED_VS_ADDR2LINE)[0]}: ${padding}`,
        );
        assert.deepEqual(bad.slice(0, 5), [], `${bad.length} difference(s) from go tool addr2line`);
        assert.ok(inlined > 100, 'stripped binaries must keep their inline chains');
      });
    }
  }
});

describe('gopclntab symbolizer: stripped and unstripped builds agree [go]', function () {
  this.timeout(600_000);
  for (const tc of goToolchains()) {
    it(`Go ${tc.version}: same functions and frames with and without -s -w`, () => {
      const full = buildGoFixture('symbols', tc, BUILD_VARIANTS[0] as BuildVariant);
      const stripped = buildGoFixture('symbols', tc, STRIPPED);
      const a = open(full);
      const b = open(stripped);
      // -s -w drops symbols and DWARF; the text (and so every address) stays the same.
      const fa = a.functions();
      const fb = b.functions();
      assert.equal(fa.length, fb.length);
      for (let i = 0; i < fa.length; i++) assert.deepEqual(fb[i], fa[i]);
      const pcs = samplePcs(a, 3000, 0x5e1f);
      let deep = 0;
      for (const pc of pcs) {
        const fr = a.framesAt(pc);
        if (fr.length >= 3) deep++;
        assert.deepEqual(b.framesAt(pc), fr, `0x${pc.toString(16)}`);
      }
      assert.ok(deep > 0, 'some sampled PCs should have chains of 3+ frames');
    });
  }
});

describe('gopclntab symbolizer: functions and declarations [go, llvm-symbolizer]', function () {
  this.timeout(300_000);
  it('functions() are sorted, match the ELF symbols, and 1.20+ startLine matches DWARF decl lines', () => {
    for (const tc of goToolchains()) {
      const bin = buildGoFixture('pclntab', tc, BUILD_VARIANTS[0] as BuildVariant);
      const sym = open(bin);
      const fns = sym.functions();
      for (let i = 1; i < fns.length; i++) assert.ok(fns[i - 1]!.highPc <= fns[i]!.lowPc, 'sorted and disjoint');
      const syms = new Map(functionSymbols(bin).map((s) => [s.addr, s]));
      let matched = 0;
      for (const f of fns) {
        const s = syms.get(f.lowPc);
        if (!s) continue;
        // The symbol table spells some names differently: see the symtabName and bracketName cases.
        const same =
          s.name === f.name || s.name === `${f.name}.abi0` || s.name === f.name.replace(/·/g, '.') || bracketAbbreviationOf(f.name, s.name);
        assert.ok(same, `${f.name} vs symbol ${s.name}`);
        assert.ok(Number(f.highPc - f.lowPc) <= s.size, `${f.name}: code range longer than its symbol`);
        matched++;
      }
      assert.ok(matched > fns.length * 0.95, `${matched} of ${fns.length} functions start at a symbol of the same name`);
      const work = sym.functionByName('main.work');
      assert.ok(work && work.declFile?.endsWith('/pclntab/main.go'));
      assert.ok(sym.functionAt(work.lowPc + 5n)?.name === 'main.work');
      // llvm-symbolizer's StartLine is DW_AT_decl_line of the physical function.
      const sample = fns.filter((f) => f.name.startsWith('main.') || f.name.startsWith('fmt.'));
      const ref = llvmSymbolize(
        bin,
        sample.map((f) => f.lowPc),
      );
      for (let i = 0; i < sample.length; i++) {
        const outer = ref[i]![ref[i]!.length - 1];
        if (!outer || outer.startLine === 0) continue;
        assert.equal(sample[i]!.declLine, outer.startLine, `${sample[i]!.name} declLine (go${tc.version})`);
      }
    }
  });

  it('addresses outside the text map to nothing', () => {
    const tc = goToolchains()[goToolchains().length - 1]!;
    const sym = open(buildGoFixture('pclntab', tc, STRIPPED));
    const fns = sym.functions();
    assert.deepEqual(sym.symbolize(0n), []);
    assert.deepEqual(sym.symbolize(fns[0]!.lowPc - 1n), []);
    assert.deepEqual(sym.symbolize(fns[fns.length - 1]!.highPc), []);
    assert.equal(sym.functionAt(0n), undefined);
  });
});
