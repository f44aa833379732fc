/**
 * `go-perf-lens info` end to end against independent references: `go version -m` (version,
 * module, VCS), `go tool buildid`, and llvm-dwarfdump (DWARF version), on fixtures built in a
 * temporary git repository; and its user errors.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { ensureCli, runCli } from '../../support/cliRunner';
import { FIXTURE_CACHE, goEnv, goToolchains } from '../../support/goToolchains';
import { buildInGitRepo, goVersionM } from '../../support/goVcsFixture';

describe('CLI info [go, git, llvm-dwarfdump]', function () {
  this.timeout(600_000);
  const repos: string[] = [];
  before(() => ensureCli());
  after(() => {
    for (const r of repos) fs.rmSync(r, { recursive: true, force: true });
  });

  for (const tc of goToolchains()) {
    for (const stripped of [false, true]) {
      it(`Go ${tc.version}${stripped ? ' stripped' : ''}: matches go version -m, go tool buildid and the DWARF header`, () => {
        const b = buildInGitRepo(tc, stripped, stripped ? ['-ldflags=-s -w'] : []);
        repos.push(b.repo);
        const r = runCli(['info', '--binary', b.bin]);
        assert.equal(r.status, 0, r.stderr);
        const info = JSON.parse(r.stdout) as Record<string, unknown>;
        const ref = goVersionM(tc, b.bin);
        const buildId = execFileSync(tc.goBin, ['tool', 'buildid', b.bin], { encoding: 'utf8', env: goEnv(tc, FIXTURE_CACHE) }).trim();
        assert.equal(info.buildId, buildId, 'a Go binary without a GNU build id is known by its Go build id');
        assert.equal(info.goVersion, ref.goVersion);
        assert.equal(info.modulePath, ref.path);
        assert.equal(info.vcsRevision, ref.settings.get('vcs.revision'));
        assert.equal(info.vcsModified, ref.settings.get('vcs.modified') === 'true');
        assert.equal(info.hasPclntab, true);
        assert.equal(info.hasDwarf, !stripped);
        if (stripped) {
          assert.equal(info.dwarfVersion, null);
        } else {
          const dump = execFileSync('llvm-dwarfdump', ['--debug-info', b.bin], { encoding: 'utf8', maxBuffer: 1 << 30 });
          const m = /version = 0x([0-9a-f]+)/.exec(dump);
          assert.ok(m, 'llvm-dwarfdump shows a unit header');
          assert.equal(info.dwarfVersion, parseInt(m[1]!, 16));
        }
      });
    }
  }

  it('user errors: missing file, not ELF, nothing to symbolize with', () => {
    const missing = runCli(['info', '--binary', '/nonexistent/bin']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no such file/);
    const notElf = runCli(['info', '--binary', __filename]);
    assert.equal(notElf.status, 1);
    assert.match(notElf.stderr, /not a 64-bit little-endian ELF file/);
    const noDebug = runCli(['info', '--binary', '/bin/true']);
    assert.equal(noDebug.status, 1);
    assert.match(noDebug.stderr, /neither DWARF debug information nor a Go \.gopclntab/);
  });
});
