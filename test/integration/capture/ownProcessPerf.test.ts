/**
 * `perf record` of a command we start ourselves (benchmarks and tests), with the real perf: a
 * run to its end keeps the command's output and exit code, a cancel stops perf AND the command it
 * started (nothing left running), and a perf that cannot be started is named.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { planOwnProcessPerf, recordCommand } from '../../../src/capture/ownProcessPerf';
import { eventually, expectUserError, isAlive } from './captureSupport';

/** Pids of live processes whose command line is exactly `argv`. */
function processesRunning(argv: string[]): number[] {
  const want = argv.join('\0');
  const found: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0$/, '') === want && isAlive(Number(d))) found.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return found;
}

describe('perf record of a command we start [perf]', function () {
  this.timeout(120_000);
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-g13-ownperf-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("a command run to its end: its stdout (final newline kept), stderr and exit code, and perf's recording", async () => {
    const plan = await planOwnProcessPerf();
    const r = await recordCommand(plan, ['/bin/sh', '-c', 'echo out-line; echo err-line >&2; exit 3'], path.join(tmp, 'perf.data'), {
      cwd: tmp,
    });
    assert.equal(r.exitCode, 3);
    assert.equal(r.signal, null);
    assert.equal(r.stdout, 'out-line\n');
    assert.match(r.stderr, /err-line/);
    assert.ok(fs.statSync(path.join(tmp, 'perf.data')).size > 0);
  });

  it('a cancel stops perf and the command it started, and says cancelled', async () => {
    const plan = await planOwnProcessPerf();
    // A sleep no other test runs: found by its exact command line.
    const argv = ['/bin/sleep', `${600 + (process.pid % 1000)}.${Date.now() % 1000}`];
    const ac = new AbortController();
    const rec = recordCommand(plan, argv, path.join(tmp, 'perf.data'), { cwd: tmp, signal: ac.signal });
    const settled = rec.then(
      () => 'resolved',
      () => 'rejected',
    );
    assert.ok(await eventually(() => processesRunning(argv).length > 0, 60_000), 'the command never started under perf');
    const pids = processesRunning(argv);
    ac.abort();
    await expectUserError(rec, 'cancelled');
    assert.equal(await settled, 'rejected');
    assert.ok(await eventually(() => pids.every((p) => !isAlive(p)), 30_000), `the command ${argv.join(' ')} still runs after the cancel`);
  });

  it('an already cancelled signal starts nothing', async () => {
    const plan = await planOwnProcessPerf();
    const ac = new AbortController();
    ac.abort();
    await expectUserError(recordCommand(plan, ['/bin/true'], path.join(tmp, 'perf.data'), { cwd: tmp, signal: ac.signal }), 'cancelled');
    assert.equal(fs.existsSync(path.join(tmp, 'perf.data')), false);
  });

  it('a perf that cannot be started is named in the error', async () => {
    const plan = { ...(await planOwnProcessPerf()), perf: path.join(tmp, 'no-such-perf') };
    await expectUserError(
      recordCommand(plan, ['/bin/true'], path.join(tmp, 'perf.data'), { cwd: tmp }),
      'perf-failed',
      /no-such-perf.*ENOENT/,
    );
  });
});
