import * as assert from 'node:assert/strict';
import { binaryMismatch, fileStaleness } from '../../../src/ui/staleness';

describe('ui: does the binary match the workspace?', () => {
  const bin = { path: '/srv/app', buildId: 'abc/def', vcsRevision: '0123456789abcdef0123456789abcdef01234567' };

  it('same commit, clean build: no complaint', () => {
    assert.equal(binaryMismatch(bin, { head: bin.vcsRevision }), undefined);
  });

  it('another commit: names the build id and both commits', () => {
    const m = binaryMismatch(bin, { head: 'fedcba9876543210fedcba9876543210fedcba98' });
    assert.ok(m);
    assert.match(m, /build id abc\/def/);
    assert.match(m, /0123456789ab/);
    assert.match(m, /fedcba987654/);
  });

  it('vcs.modified: says the build had uncommitted changes', () => {
    assert.match(binaryMismatch({ ...bin, vcsModified: true }, { head: bin.vcsRevision })!, /uncommitted changes/);
  });

  it('without vcs info or a git HEAD it cannot tell, and says nothing', () => {
    assert.equal(binaryMismatch({ path: '/srv/app' }, { head: 'x' }), undefined);
    assert.equal(binaryMismatch(bin, {}), undefined);
  });

  it('a file saved after the build is stale; within a second of it is not', () => {
    assert.match(fileStaleness('/w/main.go', 10_000, 5_000, bin)!, /\/w\/main\.go changed after \/srv\/app \(build id abc\/def\)/);
    assert.equal(fileStaleness('/w/main.go', 5_900, 5_000, bin), undefined);
    assert.equal(fileStaleness('/w/main.go', 10_000, undefined, bin), undefined);
  });
});
