/**
 * `go-perf-lens symbolize` end to end (dist/cli.js in its own process): output lines compared
 * with llvm-symbolizer --inlining (unstripped) and go tool addr2line (stripped) for the same
 * addresses, the exact JSON line format, lenient address forms, bad lines (warning with the
 * line number, output kept aligned, exit status 1), a closed pipe, and user errors.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { parseElf } from '../../../src/formats/elf';
import { openGoPclntab } from '../../../src/formats/openGoPclntab';
import { GopclntabSymbolizer } from '../../../src/symbolize/gopclntabSymbolizer';
import type { SourceFrame } from '../../../src/symbolize/symbolizer';
import { CLI, ensureCli, runCli } from '../../support/cliRunner';
import { goAddr2line } from '../../support/goAddr2line';
import { BUILD_VARIANTS, buildGoFixture, goToolchains, type BuildVariant } from '../../support/goToolchains';
import { llvmSymbolize } from '../../support/llvmSymbolizer';
import { compareFrameLists, describeAccepted } from '../../support/pclntabVsLlvm';
import { seededRandom } from '../../support/symbolizerCompare';

interface OutLine {
  addr: string;
  frames: SourceFrame[];
}

function textPcs(bin: string, count: number, seed: number): number[] {
  const tab = openGoPclntab(parseElf(new Uint8Array(fs.readFileSync(bin))))!;
  const lo = tab.entryOf(0);
  const hi = tab.endOf(tab.nfunc - 1);
  const rnd = seededRandom(seed);
  const pcs: number[] = [];
  for (let i = 0; i < count; i++) pcs.push(lo + Math.floor(rnd() * (hi - lo)));
  return pcs;
}

function symbolizeWithCli(bin: string, pcs: number[]): OutLine[] {
  const r = runCli(['symbolize', '--binary', bin], pcs.map((p) => `0x${p.toString(16)}`).join('\n') + '\n');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.split('\n');
  assert.equal(lines.pop(), '', 'output ends with a newline');
  assert.equal(lines.length, pcs.length, 'one output line per address');
  return lines.map((l) => JSON.parse(l) as OutLine);
}

describe('CLI symbolize [go, llvm-symbolizer]', function () {
  this.timeout(600_000);
  const stripped = BUILD_VARIANTS.find((v) => v.name === 'stripped')!;
  before(() => ensureCli());

  for (const tc of goToolchains()) {
    it(`Go ${tc.version}: unstripped output equals llvm-symbolizer --inlining frame by frame (named cases aside)`, () => {
      const bin = buildGoFixture('pclntab', tc, BUILD_VARIANTS[0] as BuildVariant);
      const pcs = textPcs(bin, 3000, 0xc11 + Number(tc.version.split('.')[1]));
      const out = symbolizeWithCli(bin, pcs);
      out.forEach((o, i) => assert.equal(o.addr, `0x${pcs[i]!.toString(16)}`));
      const r = compareFrameLists(
        pcs,
        out.map((o) => o.frames),
        llvmSymbolize(
          bin,
          pcs.map((p) => BigInt(p)),
        ),
      );
      console.log(`      go${tc.version}: ${pcs.length} addresses, max depth ${r.maxDepth}; accepted: ${describeAccepted(r.accepted)}`);
      assert.deepEqual(r.unexplained.slice(0, 5), [], `${r.unexplained.length} unexplained difference(s)`);
      assert.ok(r.maxDepth >= 3);
    });

    it(`Go ${tc.version}: stripped output agrees with go tool addr2line (physical function, innermost file:line)`, () => {
      const bin = buildGoFixture('pclntab', tc, stripped);
      const pcs = textPcs(bin, 3000, 0x57 + Number(tc.version.split('.')[1]));
      const out = symbolizeWithCli(bin, pcs);
      const ref = goAddr2line(tc, bin, pcs);
      let padding = 0;
      let chains = 0;
      for (let i = 0; i < pcs.length; i++) {
        const f = out[i]!.frames;
        const r = ref[i]!;
        if (f.length === 0) {
          // The padding case (see test/unit/symbolize/gopclntabSymbolizer.test.ts).
          assert.ok(r.file === '' && r.line === -1, `0x${pcs[i]!.toString(16)}: [] vs ${JSON.stringify(r)}`);
          padding++;
          continue;
        }
        if (f.length > 1) chains++;
        assert.equal(f[f.length - 1]!.function, r.function, `0x${pcs[i]!.toString(16)}`);
        assert.equal(`${f[0]!.file}:${f[0]!.line}`, `${r.file}:${r.line}`, `0x${pcs[i]!.toString(16)}`);
      }
      console.log(`      go${tc.version} stripped: ${pcs.length} addresses, ${chains} inline chains, padding: ${padding}`);
      assert.ok(chains > 50, 'stripped binaries keep inline chains');
    });
  }

  it('writes the exact line format and the same frames as the in-process symbolizer', () => {
    const tc = goToolchains()[goToolchains().length - 1]!;
    const bin = buildGoFixture('pclntab', tc, stripped);
    const sym = new GopclntabSymbolizer(openGoPclntab(parseElf(new Uint8Array(fs.readFileSync(bin))))!);
    const work = sym.functionByName('main.work')!;
    const pc = Number(work.lowPc);
    const r = runCli(['symbolize', '--binary', bin], `0x${pc.toString(16)}\n0x0\n`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      `{"addr":"0x${pc.toString(16)}","frames":${JSON.stringify(sym.symbolize(work.lowPc))}}\n{"addr":"0x0","frames":[]}\n`,
    );
    assert.match(r.stdout, /^\{"addr":"0x[0-9a-f]+","frames":\[\{"function":"main\.work","file":"\/[^"]+\/main\.go","line":\d+\}\]\}\n/);
  });

  it("--backend dwarf gives the DWARF symbolizer's frames: the same, but for <autogenerated> code", () => {
    const tc = goToolchains()[goToolchains().length - 1]!;
    const bin = buildGoFixture('pclntab', tc, BUILD_VARIANTS[0] as BuildVariant);
    const pcs = textPcs(bin, 2000, 21);
    const input = pcs.map((p) => `0x${p.toString(16)}`).join('\n') + '\n';
    const auto = runCli(['symbolize', '--binary', bin], input);
    const dwarf = runCli(['symbolize', '--binary', bin, '--backend', 'dwarf'], input);
    assert.equal(auto.status, 0, auto.stderr);
    assert.equal(dwarf.status, 0, dwarf.stderr);
    const a = auto.stdout.split('\n');
    const d = dwarf.stdout.split('\n');
    assert.equal(a.length, d.length);
    let same = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i] === d[i]) {
        same++;
        continue;
      }
      // The autogenerated case: DWARF (Go 1.22+) has no line for compiler-generated code.
      assert.ok(a[i]!.includes('"file":"<autogenerated>","line":1'), `${a[i]} vs ${d[i]}`);
      assert.equal(a[i]!.replace(/"file":"<autogenerated>","line":1/g, '"file":"","line":0'), d[i]);
    }
    assert.ok(same > a.length * 0.9);
  });

  it('accepts upper case, no 0x, leading zeros, spaces and CRLF; skips blank lines', () => {
    const tc = goToolchains()[goToolchains().length - 1]!;
    const bin = buildGoFixture('pclntab', tc, stripped);
    const pc = textPcs(bin, 1, 3)[0]!;
    const hex = pc.toString(16);
    const r = runCli(['symbolize', '--binary', bin], `0x${hex}\n0X${hex.toUpperCase()}\n${hex}\n\n  0x000${hex}  \r\n0x${hex}`);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 5);
    for (const l of lines) assert.equal(l, lines[0]);
    assert.equal((JSON.parse(lines[0]!) as OutLine).addr, `0x${hex}`);
  });

  it('bad lines: a warning naming the line number, "frames":[] kept in place, exit status 1', () => {
    const tc = goToolchains()[goToolchains().length - 1]!;
    const bin = buildGoFixture('pclntab', tc, stripped);
    const r = runCli(['symbolize', '--binary', bin], '0x401000\nhello\n\n0x40100g\n0x12345678901234567\n0x401000\n');
    assert.equal(r.status, 1);
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as OutLine);
    assert.deepEqual(
      lines.map((l) => l.addr),
      ['0x401000', 'hello', '0x40100g', '0x12345678901234567', '0x401000'],
    );
    assert.deepEqual(lines[1]!.frames, []);
    assert.match(r.stderr, /line 2: "hello" is not a hex address/);
    assert.match(r.stderr, /line 4: "0x40100g" is not a hex address/);
    assert.match(r.stderr, /line 5: "0x12345678901234567" is not a hex address/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  });

  it('keeps every line in input order across lookup batches (addresses are looked up in address order, 65,536 at a time)', () => {
    const tc = goToolchains()[goToolchains().length - 1]!;
    const bin = buildGoFixture('pclntab', tc, stripped);
    const sym = new GopclntabSymbolizer(openGoPclntab(parseElf(new Uint8Array(fs.readFileSync(bin))))!);
    // Random, then descending, then repeated addresses; outside the text; bad lines and a
    // number above 2^53 in between — over two batch boundaries.
    const random = textPcs(bin, 70_000, 77);
    const lines: string[] = [];
    random.forEach((pc, i) => {
      lines.push(`0x${pc.toString(16)}`);
      if (i % 9_999 === 0) lines.push('not-an-address');
      if (i % 12_345 === 0) lines.push('0x1', '0xffffffffffff', '0xFFFFFFFFFFFFFFFF', '0x12345678901234567');
    });
    for (const pc of [...random].sort((a, b) => b - a).slice(0, 50_000)) lines.push(pc.toString(16).toUpperCase());
    for (let i = 0; i < 20_000; i++) lines.push(`0x${random[i % 7]!.toString(16)}`);
    const r = runCli(['symbolize', '--binary', bin], lines.join('\n') + '\n');
    assert.equal(r.status, 1, 'bad lines make the exit status 1');
    const out = r.stdout.split('\n');
    assert.equal(out.pop(), '');
    assert.equal(out.length, lines.length, 'one output line per input line');
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i]!;
      const hex = /^(0x)?([0-9a-fA-F]+)$/.exec(text)?.[2];
      const want =
        hex === undefined || hex.length > 13
          ? `{"addr":${JSON.stringify(hex === undefined ? text : `0x${hex.toLowerCase()}`)},"frames":[]}`
          : `{"addr":"0x${hex.toLowerCase()}","frames":${JSON.stringify(sym.symbolize(BigInt(`0x${hex}`)))}}`;
      if (out[i] !== want) assert.fail(`line ${i + 1} (${text}): ${out[i]} != ${want}`);
    }
  });

  it('streams a large input and stops quietly when the reader closes the pipe', async () => {
    const tc = goToolchains()[goToolchains().length - 1]!;
    const bin = buildGoFixture('pclntab', tc, stripped);
    const pcs = textPcs(bin, 200_000, 9);
    const child = spawn('node', [CLI, 'symbolize', '--binary', bin], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let got = '';
    const firstLine = new Promise<string>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        got += d.toString();
        const nl = got.indexOf('\n');
        if (nl >= 0) {
          child.stdout.destroy();
          resolve(got.slice(0, nl));
        }
      });
    });
    child.stdin.on('error', () => {
      /* the child may exit before taking all input */
    });
    child.stdin.end(pcs.map((p) => `0x${p.toString(16)}`).join('\n') + '\n');
    const line = await firstLine;
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.match(line, /^\{"addr":"0x[0-9a-f]+","frames":\[/);
    assert.equal(code, 0);
    assert.equal(stderr, '');
  });

  it('user errors: missing file, not ELF, no debug information, bad usage', () => {
    const missing = runCli(['symbolize', '--binary', '/nonexistent/bin'], '0x1\n');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /\/nonexistent\/bin: no such file/);
    const notElf = runCli(['symbolize', '--binary', __filename], '0x1\n');
    assert.equal(notElf.status, 1);
    assert.match(notElf.stderr, /is not a 64-bit little-endian ELF file/);
    const noDebug = runCli(['symbolize', '--binary', '/bin/true'], '0x1\n');
    assert.equal(noDebug.status, 1);
    assert.match(noDebug.stderr, /neither DWARF debug information nor a Go \.gopclntab/);
    const usage = runCli(['symbolize'], '');
    assert.equal(usage.status, 1);
    assert.match(usage.stderr, /needs --binary PATH/);
    for (const r of [missing, notElf, noDebug, usage]) assert.doesNotMatch(r.stderr, /internal error|at .*\.js:\d+/);
  });
});
