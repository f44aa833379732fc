/**
 * The helper package's own Python unit tests (test/python/test_*.py, standard library unittest),
 * run once with the Python the helper runs with (/usr/bin/python3 -I), one mocha test per Python
 * test so npm test counts each. A runner that cannot start, or prints nothing, fails here.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from '../../support/goToolchains';

interface PyResult {
  name: string;
  status: 'pass' | 'fail' | 'error' | 'skip';
  detail: string;
}

function runPythonTests(): { results: PyResult[]; trouble?: string } {
  const r = spawnSync('/usr/bin/python3', ['-I', path.join(REPO_ROOT, 'test', 'python', 'run_tests.py'), path.join(REPO_ROOT, 'bpf')], {
    cwd: '/',
    encoding: 'utf8',
    timeout: 300000,
    maxBuffer: 64 << 20,
  });
  const results: PyResult[] = [];
  for (const line of (r.stdout ?? '').split('\n')) if (line.trim()) results.push(JSON.parse(line) as PyResult);
  const trouble = r.error ? String(r.error) : r.status !== 0 ? `exit ${r.status}: ${(r.stderr ?? '').slice(-3000)}` : undefined;
  return { results, trouble };
}

describe('helper (Python): unit tests of bpf/perflens_helper [python3]', function () {
  const { results, trouble } = runPythonTests();
  it('the Python test runner ran and found the tests', () => {
    assert.equal(trouble, undefined);
    assert.ok(results.length >= 20, `only ${results.length} Python tests reported`);
  });
  for (const t of results) {
    it(t.name, () => {
      if (t.status !== 'pass') assert.fail(`${t.status}: ${t.detail}`);
    });
  }
});
