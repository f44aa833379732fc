/**
 * Go build info from .go.buildinfo against `go version -m` of the same toolchain, on binaries
 * built at test time inside a temporary git repository (clean and with an uncommitted change),
 * plus the Go build id against `go tool buildid`.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { parseElf } from '../../../src/formats/elf';
import { readGoBuildInfo, parseModInfo } from '../../../src/formats/goBuildInfo';
import { FIXTURE_CACHE, goEnv, goToolchains } from '../../support/goToolchains';
import { buildInGitRepo, goVersionM } from '../../support/goVcsFixture';

describe('Go build info vs go version -m [go, git]', function () {
  this.timeout(600_000);
  const repos: string[] = [];
  after(() => {
    for (const r of repos) fs.rmSync(r, { recursive: true, force: true });
  });

  for (const tc of goToolchains()) {
    for (const modified of [false, true]) {
      it(`Go ${tc.version}, ${modified ? 'uncommitted change' : 'clean tree'}: version, module path, vcs.revision, vcs.modified`, () => {
        const b = buildInGitRepo(tc, modified, modified ? ['-ldflags=-s -w'] : []);
        repos.push(b.repo);
        const elf = parseElf(new Uint8Array(fs.readFileSync(b.bin)));
        const info = readGoBuildInfo(elf);
        assert.ok(info);
        const ref = goVersionM(tc, b.bin);
        assert.equal(info.goVersion, ref.goVersion);
        assert.equal(info.modulePath, ref.path);
        assert.equal(info.modulePath, 'example.com/pclntab');
        assert.equal(info.vcsRevision, ref.settings.get('vcs.revision'));
        assert.equal(info.vcsRevision, b.revision);
        assert.equal(String(info.vcsModified), ref.settings.get('vcs.modified'));
        assert.equal(info.vcsModified, modified);
        // go version -m prints values Go-quoted where they hold spaces (-ldflags="-s -w"); we unquote.
        const unquoted = new Map([...ref.settings].map(([k, v]) => [k, v.startsWith('"') ? (JSON.parse(v) as string) : v]));
        assert.deepEqual(info.settings, unquoted);
        const buildId = execFileSync(tc.goBin, ['tool', 'buildid', b.bin], { encoding: 'utf8', env: goEnv(tc, FIXTURE_CACHE) }).trim();
        assert.equal(elf.goBuildId, buildId);
      });
    }
  }

  it('is absent from a non-Go binary', () => {
    assert.equal(readGoBuildInfo(parseElf(new Uint8Array(fs.readFileSync('/bin/true')))), undefined);
  });

  it('parses module info text, with quoted settings', () => {
    const info = parseModInfo(
      'go1.23.5',
      'path\tex.com/m\nmod\tex.com/m\t(devel)\t\nbuild\t-ldflags="-s -w"\nbuild\tvcs.revision=abc\nbuild\tvcs.modified=false\n',
    );
    assert.equal(info.modulePath, 'ex.com/m');
    assert.equal(info.moduleVersion, '(devel)');
    assert.equal(info.settings.get('-ldflags'), '-s -w');
    assert.equal(info.vcsRevision, 'abc');
    assert.equal(info.vcsModified, false);
  });
});
