/**
 * Every duration the tracer reports is the duration of one real call, also when its probes
 * attach and detach while calls are in flight: real Go processes (built by every toolchain
 * here) calling a traced function back to back, traced many times over, through the real
 * CLI, helper and BCC. The fixture's calls take ~100 µs (busyWork) or nanoseconds (tight, a
 * frameless leaf); no reported call may land in a bucket above a bound far beyond that, the
 * counts must add up (timed + unmatched = calls).
 */
import { strict as assert } from 'node:assert';
import { buildGoFixture, goToolchains } from '../../support/goToolchains';
import { killAll, runCli, startTracee } from './goProcess';

interface JsonFunction {
  name: string;
  calls: number;
  unmatched: number;
  returns_without_entry: number;
  sum_ns: number;
  buckets: { lo_ns: number; hi_ns: number; count: number }[];
}

/**
 * Far above any real call of these functions — a call whose thread the kernel or Go's
 * scheduler sets aside for a while on a loaded 2-CPU machine included (seen at a load average
 * of 20: up to 268–537 ms) — and far below the phantoms, which span most of a 3 s trace (an
 * entry from its start paired with a RET from its end). Buckets are powers of two: none may
 * start at or above 2^30 ns. (Exact counts of a known number of calls: goTracing.test.ts.)
 */
const BOUND_NS = 2 ** 30;
const RUNS = 3;

describe('eBPF trace while calls are in flight [root, bcc]', function () {
  this.timeout(900000);
  after(killAll);

  for (const tc of goToolchains()) {
    for (const [mode, func] of [
      ['pauses', 'main.busyWork'],
      ['tight', 'main.tight'],
    ] as const) {
      it(`${func} called back to back, traced ${RUNS} times: every duration is one call's (Go ${tc.version})`, async () => {
        const bin = buildGoFixture('tracee', tc);
        const t = await startTracee(bin, [mode]);
        t.start();
        try {
          for (let run = 0; run < RUNS; run++) {
            const r = await runCli(['trace', '--pid', String(t.pid), '--func', func, '--duration', '3', '--json']);
            assert.equal(r.code, 0, r.stderr);
            const f = (JSON.parse(r.stdout) as { functions: JsonFunction[] }).functions[0]!;
            assert.ok(f.calls > 100, `run ${run}: only ${f.calls} calls`);
            const over = f.buckets.filter((b) => b.count > 0 && b.lo_ns >= BOUND_NS);
            assert.deepEqual(over, [], `run ${run}: calls of ${func} reported above ${BOUND_NS / 1e6} ms: ${JSON.stringify(over)}`);
            const timed = f.buckets.reduce((s, b) => s + b.count, 0);
            assert.equal(timed + f.unmatched, f.calls, `run ${run}: ${timed} timed + ${f.unmatched} unmatched ≠ ${f.calls} calls`);
            assert.equal(typeof f.returns_without_entry, 'number');
            // The mean is that of real calls (the phantoms made it 5× too high).
            assert.ok(f.sum_ns / Math.max(1, timed) < 1e6, `run ${run}: mean ${(f.sum_ns / timed / 1e3).toFixed(1)} µs`);
            assert.ok(t.proc.exitCode === null && t.proc.signalCode === null, 'the tracee died under tracing');
          }
        } finally {
          t.proc.kill('SIGKILL');
          await t.exited;
        }
      });
    }
  }
});
