/**
 * (f) A workspace cannot choose the interpreter that runs as root: the settings that decide what
 * runs as root or where a password goes are machine-scoped (never read from .vscode/settings.json),
 * and the chosen Python must be root-owned with only root able to write it and every folder above.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { localPython } from '../../../src/capture/launchPlan';
import { rootOwnedProblem } from '../../../src/capture/trustedPath';
import { UserError } from '../../../src/util/userError';
import { REPO_ROOT } from '../../support/goToolchains';

describe("capture: (f) the elevated interpreter is not the workspace's to choose", () => {
  it('pythonPath and remoteHost are machine-scoped in the manifest', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { scope?: string }> } };
    };
    const props = pkg.contributes.configuration.properties;
    assert.equal(props['goPerfLens.pythonPath']!.scope, 'machine');
    assert.equal(props['goPerfLens.remoteHost']!.scope, 'machine');
  });

  it('/usr/bin/python3 passes; a Python in /tmp, under a user-writable folder, or through /proc/self/cwd does not', () => {
    assert.equal(rootOwnedProblem('/usr/bin/python3'), undefined);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-py-'));
    try {
      const fake = path.join(dir, 'python3');
      fs.symlinkSync('/usr/bin/python3', fake);
      assert.match(rootOwnedProblem(fake) ?? '', /writable by everyone/); // /tmp
      assert.match(rootOwnedProblem('/proc/self/cwd/python3') ?? '', /not a plain path/);
      assert.match(rootOwnedProblem('tools/python3') ?? '', /not an absolute path/);
      assert.match(rootOwnedProblem('/usr/bin/../../tmp/x') ?? '', /not a plain path/);
      const owned = path.join(dir, 'owned');
      fs.mkdirSync(owned, { mode: 0o755 });
      fs.copyFileSync('/usr/bin/true', path.join(owned, 'python3'));
      fs.chownSync(path.join(owned, 'python3'), 65534, 65534);
      assert.match(rootOwnedProblem(path.join(owned, 'python3')) ?? '', /owned by uid 65534/);
      assert.throws(
        () => localPython({ kind: 'local', python: fake }),
        (e: unknown) => e instanceof UserError && e.code === 'untrusted-path' && /must be root-owned/.test(e.message),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
