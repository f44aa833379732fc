/**
 * The DWARF symbolizer against llvm-symbolizer --inlining on real binaries built at test time:
 * the Go fixture with every toolchain and variant, and a C program built by gcc 12 (DWARF 5
 * and 4). Also functions(), functionAt, functionByName and declarations, and struct layouts
 * against gdb.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { parseElf } from '../../../src/formats/elf';
import { createDwarfSymbolizer, type DwarfSymbolizer } from '../../../src/symbolize/dwarfSymbolizer';
import { buildCFixture } from '../../support/cFixtures';
import { BUILD_VARIANTS, buildGoFixture, goToolchains } from '../../support/goToolchains';
import { llvmSymbolize } from '../../support/llvmSymbolizer';
import { ACCEPTED_CASES, compareWithLlvm, functionSymbols, sampleAddresses, type CompareResult } from '../../support/symbolizerCompare';
import { FramesJson } from '../../../src/cli/framesJson';

function open(binary: string): DwarfSymbolizer {
  const sym = createDwarfSymbolizer(parseElf(fs.readFileSync(binary)));
  assert.ok(sym, `${binary} should have DWARF`);
  return sym;
}

function report(label: string, r: CompareResult): void {
  const accepted = Object.entries(r.accepted)
    .map(([k, n]) => `${ACCEPTED_CASES[k]!.name}: ${n}`)
    .join(', ');
  // A one-line record of what was compared and which named differences were accepted.
  console.log(`      ${label}: ${r.addresses} addresses, ${r.frames} frames, max depth ${r.maxDepth}; accepted: ${accepted || 'none'}`);
  assert.deepEqual(r.unexplained.slice(0, 5), [], `${r.unexplained.length} unexplained difference(s) from llvm-symbolizer`);
}

/** Compares function entries, a pseudo-random sample inside functions, and every line-table row. */
function compareBinary(binary: string, seed: number): CompareResult {
  const sym = open(binary);
  const funcs = functionSymbols(binary);
  const rows = sym.index.lineRowAddresses().map((a) => BigInt(a));
  const addrs = sampleAddresses(funcs, 4000, seed, rows);
  return compareWithLlvm(binary, sym, addrs);
}

const VARIANTS = BUILD_VARIANTS.filter((v) => v.name !== 'stripped'); // stripped has no DWARF: the gopclntab tests cover it

describe('DWARF symbolizer vs llvm-symbolizer: Go fixture [go, llvm-symbolizer]', function () {
  this.timeout(600_000);
  const toolchains = goToolchains();
  it('finds Go toolchains', () => assert.ok(toolchains.length > 0, 'no Go toolchain: run scripts/setup.sh'));
  for (const tc of toolchains) {
    for (const variant of VARIANTS) {
      it(`Go ${tc.version} ${variant.name}: every frame of every sampled address matches`, () => {
        const bin = buildGoFixture('symbols', tc, variant);
        const r = compareBinary(bin, 0x5eed + Number(tc.version.split('.')[1]));
        report(`go${tc.version}/${variant.name}`, r);
        if (variant.name !== 'noopt') assert.ok(r.maxDepth >= 3, 'the fixture should produce inline chains at least 3 deep');
        // The fixture's own functions are there, with their inlined callers.
        const sym = open(bin);
        for (const name of ['main.(*ledger).sum', 'main.hotLoop', 'main.mayPanic', 'main.hashAll', 'main.main']) {
          assert.ok(sym.functionByName(name), `${name} should be a function`);
        }
      });
    }
  }

  for (const tc of toolchains)
    it(`Go ${tc.version}: functions(), functionAt and declarations agree with the symbol table and llvm-symbolizer`, () => {
      const bin = buildGoFixture('symbols', tc, VARIANTS[0]);
      const sym = open(bin);
      const fns = sym.functions();
      for (let i = 1; i < fns.length; i++) assert.ok(fns[i - 1]!.lowPc <= fns[i]!.lowPc, 'functions() must be sorted by lowPc');
      // Every DWARF function starts at a function symbol of the same name (ABI0 symbols carry ".abi0").
      const syms = new Map(functionSymbols(bin).map((s) => [s.addr, s]));
      let checked = 0;
      for (const f of fns) {
        const s = syms.get(f.lowPc);
        assert.ok(s, `${f.name} at 0x${f.lowPc.toString(16)} has no symbol`);
        assert.ok(
          s.name === f.name || s.name === `${f.name}.abi0` || s.name === f.name.replace(/·/g, '.'),
          `${f.name} vs symbol ${s.name}`,
        );
        assert.equal(Number(f.highPc - f.lowPc) <= s.size + 64, true, `${f.name}: range longer than its symbol`);
        checked++;
      }
      assert.ok(checked > 1000);
      // Declaration lines (DW_AT_decl_line) as llvm-symbolizer reports them (StartLine).
      const sample = fns.filter((_, i) => i % 7 === 0);
      const ref = llvmSymbolize(
        bin,
        sample.map((f) => f.lowPc),
      );
      sample.forEach((f, i) => {
        const frames = ref[i]!;
        const outer = frames[frames.length - 1]!;
        assert.equal(f.declLine ?? 0, outer.startLine, `${f.name} decl line`); // 0: none recorded (Go 1.19)
        assert.equal(sym.functionAt(f.lowPc)?.name, f.name);
        assert.equal(sym.functionAt(f.highPc - 1n)?.name, f.name);
      });
      const sum = sym.functionByName('main.(*ledger).sum');
      assert.ok(sum);
      assert.match(sum.declFile ?? '', /test\/fixtures\/go\/symbols\/main\.go$/);
      if (Number(tc.version.split('.')[1]) >= 21) assert.equal(sum.declLine, 24, 'main.(*ledger).sum is declared on line 24 of main.go');
      else assert.equal(sum.declLine, undefined, `Go ${tc.version} records no DW_AT_decl_line`);
    });

  it('structFieldOffset(runtime.g, goid) agrees with gdb for every toolchain [gdb]', () => {
    for (const tc of toolchains) {
      const bin = buildGoFixture('symbols', tc, VARIANTS[0]);
      const sym = open(bin);
      const out = execFileSync(
        'gdb',
        [
          '-batch',
          '-nx',
          '-iex',
          'set auto-load off',
          '-ex',
          'set language c',
          '-ex',
          "print (long)&((struct 'runtime.g' *)0)->goid",
          '-ex',
          "print (long)&((struct 'runtime.g' *)0)->m",
          bin,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const values = [...out.matchAll(/^\$\d+ = (\d+)$/gm)].map((m) => Number(m[1]));
      assert.equal(values.length, 2, `gdb output: ${out}`);
      assert.equal(sym.structFieldOffset('runtime.g', 'goid'), values[0], `go${tc.version} runtime.g.goid`);
      assert.equal(sym.structFieldOffset('runtime.g', 'm'), values[1], `go${tc.version} runtime.g.m`);
      assert.equal(sym.structFieldOffset('runtime.g', 'noSuchField'), undefined);
      assert.equal(sym.structFieldOffset('runtime.noSuchType', 'goid'), undefined);
    }
  });
});

describe('DWARF symbolizer vs llvm-symbolizer: C built by gcc 12 [gcc, llvm-symbolizer]', function () {
  this.timeout(300_000);
  for (const [label, flags] of [
    ['gcc -O2 -g (DWARF 5)', ['-O2', '-g']],
    ['gcc -O2 -gdwarf-4', ['-O2', '-gdwarf-4']],
    ['gcc -O0 -g (DWARF 5)', ['-O0', '-g']],
    ['gcc -O2 -g, zlib-compressed debug sections', ['-O2', '-g', '-gz=zlib']],
  ] as const) {
    it(`${label}: every frame of every sampled address matches`, () => {
      const bin = buildCFixture('inline', [...flags]);
      const r = compareBinary(bin, 0xc0de);
      report(label, r);
      if (flags[0] === '-O2') assert.ok(r.maxDepth >= 3, 'gcc -O2 should inline step1 → step2 → mix');
      const sym = open(bin);
      assert.equal(sym.index.version, (flags as readonly string[]).includes('-gdwarf-4') ? 4 : 5);
      const main = sym.functionByName('main');
      assert.ok(main);
      assert.match(main.declFile ?? '', /test\/fixtures\/c\/inline\/main\.c$/);
      assert.equal(main.declLine, 18);
    });
  }
});

describe("FramesJson over the DWARF symbolizer (the CLI's output) [go, gcc]", function () {
  this.timeout(300_000);
  /** A plain growing sink. */
  class Sink {
    buf = new Uint8Array(64);
    pos = 0;
    ensure(n: number): void {
      if (this.pos + n <= this.buf.length) return;
      const b = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
      b.set(this.buf.subarray(0, this.pos));
      this.buf = b;
    }
  }
  const bins = (): string[] => [
    buildGoFixture('symbols', goToolchains()[goToolchains().length - 1]!, VARIANTS[0]),
    buildCFixture('inline', ['-O2', '-g']),
  ];
  it('writes exactly JSON.stringify(symbolize(pc)) for entries, samples, gaps and every line row', () => {
    for (const bin of bins()) {
      const sym = open(bin);
      const json = new FramesJson(sym);
      const funcs = functionSymbols(bin);
      const extra = sym.index.lineRowAddresses().map((a) => BigInt(a));
      for (const f of funcs) extra.push(f.addr + BigInt(f.size), f.addr - 1n); // just past and before functions
      extra.push(0n, 1n << 40n);
      const addrs = sampleAddresses(funcs, 3000, 7, extra);
      for (const pass of [1, 2]) {
        // the second pass reads the cached bytes
        const sink = new Sink();
        for (const a of addrs) {
          json.write(Number(a), sink);
          sink.ensure(1);
          sink.buf[sink.pos++] = 10;
        }
        const lines = Buffer.from(sink.buf.subarray(0, sink.pos)).toString('utf8').split('\n');
        addrs.forEach((a, i) => {
          const want = JSON.stringify(sym.symbolize(a).map((f) => ({ function: f.function, file: f.file, line: f.line })));
          assert.equal(lines[i], want, `pass ${pass}, 0x${a.toString(16)} in ${bin}`);
        });
      }
    }
  });
});
