/**
 * openSymbolizer: backend choice, the build-id cache, and the evidence for preferring the
 * .gopclntab on Go binaries — it agrees with the DWARF symbolizer frame by frame on every
 * toolchain except in the named cases (see test/support/pclntabVsLlvm.ts, which lists the same
 * differences against llvm-symbolizer).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { UserError } from '../../../src/util/userError';
import { parseElf } from '../../../src/formats/elf';
import { openElfSymbolizer, openSymbolizer, SymbolizerCache } from '../../../src/symbolize/openSymbolizer';
import { GopclntabSymbolizer } from '../../../src/symbolize/gopclntabSymbolizer';
import type { SourceFrame } from '../../../src/symbolize/symbolizer';
import { buildCFixture } from '../../support/cFixtures';
import { BUILD_VARIANTS, buildGoFixture, goToolchains, type BuildVariant } from '../../support/goToolchains';
import { bracketAbbreviationOf } from '../../support/pclntabVsLlvm';
import { seededRandom } from '../../support/symbolizerCompare';

const read = (p: string): Uint8Array => new Uint8Array(fs.readFileSync(p));
const STRIPPED = BUILD_VARIANTS.find((v) => v.name === 'stripped')!;

describe('openSymbolizer [go, gcc]', function () {
  this.timeout(600_000);

  it('Go binaries use the .gopclntab (stripped or not); --backend dwarf uses DWARF, and is refused where there is none', () => {
    const tc = goToolchains()[goToolchains().length - 1]!;
    const full = buildGoFixture('pclntab', tc, BUILD_VARIANTS[0] as BuildVariant);
    const stripped = buildGoFixture('pclntab', tc, STRIPPED);
    const cache = new SymbolizerCache();
    assert.equal(cache.open(read(full)).symbolizer.source, 'gopclntab');
    assert.equal(cache.open(read(stripped)).symbolizer.source, 'gopclntab');
    assert.equal(cache.open(read(full), full, 'dwarf').symbolizer.source, 'dwarf');
    assert.throws(
      () => cache.open(read(stripped), stripped, 'dwarf'),
      (e: unknown) =>
        e instanceof UserError && e.code === 'no-debug-info' && /no DWARF/.test(e.message) && /--backend gopclntab/.test(e.hint ?? ''),
      'an explicit backend is never silently replaced',
    );
  });

  it('a C binary (gcc, DWARF 5) uses DWARF; one without debug info is a UserError with a hint', () => {
    const dir = 'test/fixtures/c';
    const names = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    assert.ok(names.length > 0, 'a C fixture under test/fixtures/c');
    const c = buildCFixture(names[0]!, ['-g', '-O1']);
    const o = openSymbolizer(read(c), c);
    assert.equal(o.symbolizer.source, 'dwarf');
    assert.equal(o.info.hasPclntab, false);
    assert.equal(o.info.dwarfVersion, 5);
    assert.throws(
      () => openSymbolizer(read('/bin/true'), '/bin/true'),
      (e: unknown) => e instanceof UserError && e.code === 'no-debug-info' && !!e.hint,
    );
    assert.throws(
      () => openSymbolizer(new TextEncoder().encode('#!/bin/sh\necho hi\n'), 'script.sh'),
      (e: unknown) => e instanceof UserError && e.code === 'not-elf',
    );
  });

  it('caches by build id: the same binary is indexed once', () => {
    const tc = goToolchains()[0]!;
    const bin = buildGoFixture('pclntab', tc, STRIPPED);
    const cache = new SymbolizerCache();
    const a = cache.open(read(bin));
    const b = cache.open(read(bin));
    assert.equal(a.symbolizer, b.symbolizer);
    assert.ok(a.info.buildId && a.info.buildId === a.info.goBuildId);
    const other = cache.open(read(buildGoFixture('pclntab', goToolchains()[goToolchains().length - 1]!, STRIPPED)));
    assert.notEqual(other.symbolizer, a.symbolizer);
  });

  for (const tc of goToolchains()) {
    it(`Go ${tc.version}: the .gopclntab and DWARF symbolizers agree frame by frame (named cases aside)`, () => {
      const bin = buildGoFixture('symbols', tc, BUILD_VARIANTS[0] as BuildVariant);
      const elf = parseElf(read(bin));
      const pcln = openElfSymbolizer(elf, bin, 'gopclntab').symbolizer as GopclntabSymbolizer;
      const dwarf = openElfSymbolizer(elf, bin, 'dwarf').symbolizer;
      assert.equal(dwarf.source, 'dwarf');
      const fns = pcln.functions();
      const rnd = seededRandom(0xd0a + Number(tc.version.split('.')[1]));
      const counts: Record<string, number> = {};
      const bad: string[] = [];
      let compared = 0;
      for (let i = 0; i < 4000; i++) {
        const f = fns[Math.floor(rnd() * fns.length)]!;
        const pc = f.lowPc + BigInt(Math.floor(rnd() * Number(f.highPc - f.lowPc)));
        const a = pcln.symbolize(pc);
        const b = dwarf.symbolize(pc);
        compared++;
        const kind = classify(a, b);
        if (kind === undefined) bad.push(`0x${pc.toString(16)}: pclntab ${JSON.stringify(a)} dwarf ${JSON.stringify(b)}`);
        else if (kind !== 'same') counts[kind] = (counts[kind] ?? 0) + 1;
      }
      console.log(`      go${tc.version}: ${compared} PCs; differences by case: ${JSON.stringify(counts)}`);
      assert.deepEqual(bad.slice(0, 5), []);
    });
  }
});

/** 'same', a named case from pclntabVsLlvm.ts, or undefined (unexplained). */
function classify(a: SourceFrame[], b: SourceFrame[]): string | undefined {
  const eq = (x: SourceFrame, y: SourceFrame): boolean => x.function === y.function && x.file === y.file && x.line === y.line;
  if (a.length === b.length && a.every((x, k) => eq(x, b[k]!))) return 'same';
  // autogenerated: DWARF has no line rows for compiler-generated code (Go 1.22+).
  if (
    a.length === b.length &&
    a.some((x) => x.file === '<autogenerated>') &&
    a.every(
      (x, k) =>
        x.function === b[k]!.function &&
        (eq(x, b[k]!) || (x.file === '<autogenerated>' && x.line === 1 && b[k]!.file === '' && b[k]!.line === 0)),
    )
  )
    return 'autogenerated';
  // bracketName (Go 1.18/1.19): "[...]" in pclntab names.
  if (
    a.length === b.length &&
    a.every(
      (x, k) =>
        x.file === b[k]!.file &&
        x.line === b[k]!.line &&
        (x.function === b[k]!.function || bracketAbbreviationOf(x.function, b[k]!.function)),
    )
  )
    return 'bracketName';
  // wrapperInline (Go 1.19): an extra <autogenerated> wrapper frame outside an inlined method.
  const last = a[a.length - 1];
  if (a.length === b.length + 1 && last && last.file === '<autogenerated>' && b.length > 0 && b[b.length - 1]!.function === last.function)
    return 'wrapperInline';
  return undefined;
}
