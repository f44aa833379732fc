import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { installHint } from '../../../src/capture/launchPlan';
import { extractCommand } from '../../../src/commands/extractCommand';
import { REPO_ROOT } from '../../support/goToolchains';

describe('commands: the "Copy command" of an error’s hint', () => {
  it('perf missing: the Debian install command from the helper’s own hint', () => {
    // The hint exactly as the helper sends it.
    const src = fs.readFileSync(path.join(REPO_ROOT, 'bpf', 'perflens_helper', 'perf_tools.py'), 'utf8');
    const m = /^PERF_HINT = \(((?:'[^']*'\s*)+)\)/m.exec(src);
    assert.ok(m, 'PERF_HINT not found in bpf/perflens_helper/perf_tools.py');
    const hint = [...m[1]!.matchAll(/'([^']*)'/g)].map((x) => x[1]).join('');
    assert.equal(extractCommand(hint), 'sudo apt-get install linux-perf');
  });

  it('helper not installed: the install command', () => {
    assert.equal(extractCommand(installHint()), 'sudo go-perf-lens install-helper');
  });

  it('other hints of the capture layer', () => {
    assert.equal(extractCommand('install it: sudo apt-get install python3'), 'sudo apt-get install python3');
    assert.equal(extractCommand('install it: sudo apt-get install openssh-client'), 'sudo apt-get install openssh-client');
    assert.equal(extractCommand('check the PID (it may have exited)'), undefined);
  });
});
