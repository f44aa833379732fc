import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BOOTSTRAP, sudoersHint } from '../../../src/capture/launchPlan';
import { extractCommand } from '../../../src/commands/extractCommand';
import { REPO_ROOT } from '../../support/goToolchains';

describe('commands: the "Copy command" of an error’s hint', () => {
  it('perf missing: the Debian install command from the helper’s own hint', () => {
    // The hint exactly as bpf/helper.py sends it.
    const src = fs.readFileSync(path.join(REPO_ROOT, 'bpf', 'helper.py'), 'utf8');
    const m = /^PERF_HINT = \(((?:'[^']*'\s*)+)\)/m.exec(src);
    assert.ok(m, 'PERF_HINT not found in bpf/helper.py');
    const hint = [...m[1]!.matchAll(/'([^']*)'/g)].map((x) => x[1]).join('');
    assert.equal(extractCommand(hint), 'sudo apt-get install linux-perf');
  });

  it('sudo refused: exactly the sudoers line', () => {
    assert.equal(extractCommand(sudoersHint('alice')), `alice ALL=(root) NOPASSWD: /usr/bin/python3 -c ${BOOTSTRAP}`);
  });

  it('other hints of the capture layer', () => {
    assert.equal(extractCommand('install it: sudo apt-get install python3'), 'sudo apt-get install python3');
    assert.equal(extractCommand('install it: sudo apt-get install openssh-client'), 'sudo apt-get install openssh-client');
    assert.equal(extractCommand('check the PID (it may have exited)'), undefined);
  });
});
