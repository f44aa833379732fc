/**
 * A backend asked for is used or refused, never silently replaced, and `info` does not claim a
 * .gopclntab it cannot read. Real Go binaries (oldest and newest toolchain here); function
 * addresses come from binutils' `nm`, the section offset from `readelf`, not from our parsers.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureCli, runCli } from '../../support/cliRunner';
import { BUILD_VARIANTS, buildGoFixture, goToolchains } from '../../support/goToolchains';

/** main.main's address, from `nm` (the symbol table; absent from stripped binaries). */
function mainMainAddr(bin: string): string {
  const line = execFileSync('nm', [bin], { encoding: 'utf8', maxBuffer: 64 << 20 })
    .split('\n')
    .find((l) => / T main\.main$/.test(l));
  assert.ok(line, `nm finds main.main in ${bin}`);
  return `0x${BigInt(`0x${line.split(' ')[0]}`).toString(16)}`;
}

/** The file offset of .gopclntab, from `readelf -S -W`. */
function pclntabOffset(bin: string): number {
  const out = execFileSync('readelf', ['-S', '-W', bin], { encoding: 'utf8' });
  const m = /\]\s+\.gopclntab\s+\S+\s+[0-9a-f]+\s+([0-9a-f]+)/.exec(out);
  assert.ok(m, `readelf lists .gopclntab of ${bin}`);
  return parseInt(m[1]!, 16);
}

function withBrokenMagic(bin: string, out: string): string {
  const bytes = fs.readFileSync(bin);
  bytes.writeUInt32LE(0xdeadbeef, pclntabOffset(bin));
  fs.writeFileSync(out, bytes, { mode: 0o755 });
  return out;
}

function firstFrame(stdout: string): string | undefined {
  const frames = (JSON.parse(stdout.split('\n')[0]!) as { frames: { function: string }[] }).frames;
  return frames[frames.length - 1]?.function;
}

describe('CLI backends: asked for, used or refused [go, binutils]', function () {
  this.timeout(300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-backends-'));
  const stripped = BUILD_VARIANTS.find((v) => v.name === 'stripped')!;
  const all = goToolchains();
  const toolchains = [...new Set([all[0]!, all[all.length - 1]!])];
  before(() => ensureCli());
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const tc of toolchains) {
    it(`go${tc.version}: --backend dwarf on a stripped binary is refused, saying what to use instead`, () => {
      const full = buildGoFixture('hotline', tc);
      const bin = buildGoFixture('hotline', tc, stripped);
      const addr = mainMainAddr(full); // the same code: stripping changes no address
      const dwarf = runCli(['symbolize', '--binary', bin, '--backend', 'dwarf'], `${addr}\n`);
      assert.equal(dwarf.status, 1, dwarf.stderr);
      assert.match(dwarf.stderr, /has no DWARF debug information/);
      assert.match(dwarf.stderr, /--backend gopclntab/);
      assert.doesNotMatch(dwarf.stderr, /internal error|\n\s+at /);
      const auto = runCli(['symbolize', '--binary', bin], `${addr}\n`);
      assert.equal(auto.status, 0, auto.stderr);
      assert.equal(firstFrame(auto.stdout), 'main.main');
    });

    it(`go${tc.version}: a .gopclntab with a broken magic is not claimed by info; DWARF still serves`, () => {
      const full = buildGoFixture('hotline', tc);
      const broken = withBrokenMagic(full, path.join(tmp, `broken-${tc.version}`));
      const info = runCli(['info', '--binary', broken]);
      assert.equal(info.status, 0, info.stderr);
      const j = JSON.parse(info.stdout) as { hasPclntab: boolean; pclntabProblem: string | null; hasDwarf: boolean; backend: string };
      assert.equal(j.hasPclntab, false);
      assert.match(j.pclntabProblem ?? '', /unknown magic 0xdeadbeef/);
      assert.equal(j.hasDwarf, true);
      assert.equal(j.backend, 'dwarf');

      const addr = mainMainAddr(full);
      const auto = runCli(['symbolize', '--binary', broken], `${addr}\n`);
      assert.equal(auto.status, 0, auto.stderr);
      assert.equal(firstFrame(auto.stdout), 'main.main');
      const pcln = runCli(['symbolize', '--binary', broken, '--backend', 'gopclntab'], `${addr}\n`);
      assert.equal(pcln.status, 1, pcln.stderr);
      assert.match(pcln.stderr, /no usable Go \.gopclntab: its \.gopclntab starts with an unknown magic 0xdeadbeef/);
      assert.match(pcln.stderr, /--backend dwarf/);
    });

    it(`go${tc.version}: stripped and a broken magic: info and symbolize say both, no stack trace`, () => {
      const broken = withBrokenMagic(buildGoFixture('hotline', tc, stripped), path.join(tmp, `broken-stripped-${tc.version}`));
      const info = runCli(['info', '--binary', broken]);
      assert.equal(info.status, 1, info.stdout);
      assert.match(info.stderr, /no DWARF debug information, and its \.gopclntab starts with an unknown magic 0xdeadbeef/);
      const sym = runCli(['symbolize', '--binary', broken], '0x401000\n');
      assert.equal(sym.status, 1, sym.stderr);
      assert.match(sym.stderr, /unknown magic 0xdeadbeef/);
      assert.doesNotMatch(sym.stderr + info.stderr, /internal error|\n\s+at /);
    });
  }
});
