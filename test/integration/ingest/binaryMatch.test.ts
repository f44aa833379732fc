/**
 * A rebuilt binary of the same size is not the recorded one: real perf recordings of a Go
 * program built by every toolchain here, then rebuilt with a one-constant change (same
 * segment sizes, checked), matched by GNU build id (what perf records), by Go build id (what
 * the recorder reads from the process), or said to be unchecked where the recording has none.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parsePerfData } from '../../../src/formats/perfData';
import { PT_LOAD } from '../../../src/formats/elf';
import { ingestPerfData } from '../../../src/ingest/fromPerfData';
import { loadBinary } from '../../../src/ingest/loadBinary';
import { UserError } from '../../../src/util/userError';
import { GO_FIXTURES, goEnv, goToolchains, type GoToolchain, REPO_ROOT } from '../../support/goToolchains';
import { havePerfAndRoot, perfRecordCommand } from '../../support/profileTargets';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

/** Builds perfload from a copy whose spin count is `n` (the one change), with an optional GNU build id. */
function buildVariant(tc: GoToolchain, dir: string, out: string, n: number, gnuId?: string): string {
  const src = path.join(dir, `src-${n}`);
  fs.cpSync(path.join(GO_FIXTURES, 'perfload'), src, { recursive: true });
  const main = path.join(src, 'main.go');
  const text = fs.readFileSync(main, 'utf8');
  assert.ok(text.includes('spin(20000, seed)'));
  fs.writeFileSync(main, text.replace('spin(20000, seed)', `spin(${n}, seed)`));
  const flags = gnuId ? [`-ldflags=-B 0x${gnuId}`] : [];
  execFileSync(tc.goBin, ['build', ...flags, '-o', out, '.'], { cwd: src, env: goEnv(tc, dir), stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

function loadSizes(file: string): string {
  return JSON.stringify(
    loadBinary(file)
      .elf.programHeaders.filter((h) => h.type === PT_LOAD)
      .map((h) => [Number(h.offset), Math.ceil(Number(h.filesz) / 4096)]),
  );
}

function mismatch(e: unknown): e is UserError {
  return e instanceof UserError && e.code === 'binary-mismatch';
}

describe('build-id matching of recordings [root, perf, go]', function () {
  this.timeout(600_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-buildid-'));
  before(function () {
    if (!havePerfAndRoot()) throw new Error('these tests need root and perf (run scripts/setup.sh, as root)');
    if (goToolchains().length === 0) throw new Error('no Go toolchain: run scripts/setup.sh');
    execFileSync('node', ['scripts/build.mjs'], { cwd: REPO_ROOT, stdio: 'ignore' });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const tc of goToolchains()) {
    describe(`go${tc.version}`, () => {
      const dir = path.join(tmp, tc.version);
      // Build ids are unique per build in real life (and the symbolizer cache is keyed by them).
      const v = tc.version.replace('.', '');
      const idA = `a1${v}`.padEnd(40, '0'),
        idB = `b2${v}`.padEnd(40, '0');
      let a: string, b: string, goA: string, goB: string, dataGnu: string, dataGo: string;
      before(() => {
        fs.mkdirSync(dir, { recursive: true });
        a = buildVariant(tc, dir, path.join(dir, 'a'), 20000, idA);
        b = buildVariant(tc, dir, path.join(dir, 'b'), 20001, idB);
        goA = buildVariant(tc, dir, path.join(dir, 'goA'), 20000);
        goB = buildVariant(tc, dir, path.join(dir, 'goB'), 20001);
        // The premise: the layouts agree, so only an id can tell the builds apart.
        assert.equal(loadSizes(b), loadSizes(a));
        assert.equal(loadSizes(goB), loadSizes(goA));
        assert.notEqual(loadBinary(goA).elf.goBuildId, loadBinary(goB).elf.goBuildId);
        dataGnu = path.join(dir, 'gnu.data');
        perfRecordCommand([a, '-duration', '0.4s', '-workers', '1'], dataGnu);
        dataGo = path.join(dir, 'go.data');
        perfRecordCommand([goA, '-duration', '0.4s', '-workers', '1'], dataGo);
      });

      it('a GNU build id perf recorded: the same build matches, a rebuild is refused naming both ids and files', () => {
        const d = parsePerfData(fs.readFileSync(dataGnu));
        // perf's own view of the recording holds the id of the recorded file.
        assert.match(execFileSync('perf', ['buildid-list', '-i', dataGnu], { encoding: 'utf8' }), new RegExp(`${idA} ${a}`));
        const ok = ingestPerfData(d, loadBinary(a));
        assert.ok(ok.totalSamples > 0);
        assert.ok(!(ok.warnings ?? []).some((w) => /unchecked/.test(w)), String(ok.warnings));
        assert.throws(
          () => ingestPerfData(d, loadBinary(b)),
          (e: unknown) => {
            if (!mismatch(e)) return false;
            for (const s of [idA, idB, a, b]) assert.ok(e.message.includes(s), `${s} in: ${e.message}`);
            return true;
          },
        );
      });

      it('the CLI refuses the rebuild with --binary, and a rebuild in place without it', () => {
        const r = spawnSync('node', [CLI, 'report', dataGnu, '--binary', b], { encoding: 'utf8' });
        assert.notEqual(r.status, 0);
        assert.ok(r.stderr.includes(idA) && r.stderr.includes(idB), r.stderr);
        assert.doesNotMatch(r.stderr, /internal error| {4}at /);
        // Rebuilt in place: the recorded path now holds build B.
        const inPlace = path.join(dir, 'inplace');
        fs.copyFileSync(a, inPlace);
        const data = path.join(dir, 'inplace.data');
        perfRecordCommand([inPlace, '-duration', '0.3s', '-workers', '1'], data);
        assert.equal(spawnSync('node', [CLI, 'report', data, '--json'], { encoding: 'utf8' }).status, 0);
        fs.copyFileSync(b, inPlace);
        const again = spawnSync('node', [CLI, 'report', data], { encoding: 'utf8' });
        assert.notEqual(again.status, 0);
        assert.ok(again.stderr.includes(idA) && again.stderr.includes(idB) && again.stderr.includes(inPlace), again.stderr);
      });

      it('no build id in the recording: accepted, and the profile says the match is unchecked', () => {
        const d = parsePerfData(fs.readFileSync(dataGo));
        const p = ingestPerfData(d, loadBinary(goB));
        assert.ok(
          (p.warnings ?? []).some((w) => /unchecked/.test(w) && w.includes(goB)),
          String(p.warnings),
        );
        const r = spawnSync('node', [CLI, 'report', dataGo, '--binary', goB], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout + r.stderr, /unchecked/);
      });

      it('the Go build id the recorder read from the process: the same build matches, a rebuild is refused', () => {
        const d = parsePerfData(fs.readFileSync(dataGo));
        const recorded = loadBinary(goA).elf.goBuildId!;
        const ok = ingestPerfData(d, loadBinary(goA), { recordedIds: { go: recorded } });
        assert.ok(!(ok.warnings ?? []).some((w) => /unchecked/.test(w)), String(ok.warnings));
        assert.throws(
          () => ingestPerfData(d, loadBinary(goB), { recordedIds: { go: recorded } }),
          (e: unknown) => {
            if (!mismatch(e)) return false;
            for (const s of [recorded, loadBinary(goB).elf.goBuildId!, goA, goB]) assert.ok(e.message.includes(s), `${s} in: ${e.message}`);
            return true;
          },
        );
      });
    });
  }
});
