/**
 * The pure parts of eBPF tracing: the Go version / architecture gate, close-name suggestions,
 * percentiles from log2 buckets, conversion into the model, the terminal histogram, and the
 * CLI's argument checks.
 */
import { strict as assert } from 'node:assert';
import { parseEbpfArgs } from '../../../src/cli/ebpfArgs';
import { formatLog2Histogram, formatNanos } from '../../../src/cli/histogramText';
import { EM_AARCH64, EM_X86_64 } from '../../../src/formats/elf';
import { quantileNanos, toFunctionLatency, toSchedLatency, toSyscallStats } from '../../../src/ingest/ebpfResults';
import { goidOffsetFromTable } from '../../../src/symbolize/goRuntimeLayout';
import { checkTraceable, closeMatches, parseGoVersion } from '../../../src/symbolize/goTracePlan';
import { UserError } from '../../../src/util/userError';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UserError, `not a UserError: ${String(e)}`);
    return e.code;
  }
  return 'no error';
}

describe('eBPF tracing: version gate', () => {
  it('parses the versions Go binaries carry', () => {
    assert.deepEqual(parseGoVersion('go1.23.5'), { major: 1, minor: 23, text: 'go1.23.5' });
    assert.deepEqual(parseGoVersion('go1.21rc2'), { major: 1, minor: 21, text: 'go1.21rc2' });
    assert.equal(parseGoVersion('devel go1.24-abcdef Tue')!.minor, 24);
    assert.equal(parseGoVersion('go1.9')!.minor, 9);
    assert.equal(parseGoVersion('gcc-go'), undefined);
  });

  it('accepts amd64 Go ≥ 1.17 and refuses older Go, other architectures and non-Go binaries clearly', () => {
    assert.equal(checkTraceable(EM_X86_64, 'go1.17').minor, 17);
    assert.equal(checkTraceable(EM_X86_64, 'go1.23.5').minor, 23);
    assert.equal(
      codeOf(() => checkTraceable(EM_X86_64, 'go1.16.15')),
      'go-too-old',
    );
    assert.equal(
      codeOf(() => checkTraceable(EM_X86_64, 'go1.9.7')),
      'go-too-old',
    );
    assert.equal(
      codeOf(() => checkTraceable(EM_AARCH64, 'go1.22.1')),
      'unsupported-arch',
    );
    assert.equal(
      codeOf(() => checkTraceable(EM_X86_64, undefined)),
      'not-go',
    );
    assert.equal(
      codeOf(() => checkTraceable(EM_X86_64, 'weird')),
      'go-version-unknown',
    );
    try {
      checkTraceable(EM_X86_64, 'go1.16.15');
    } catch (e) {
      assert.match((e as Error).message, /needs Go 1\.17 or newer; this binary was built with go1\.16\.15/);
    }
  });

  it('knows goid offsets only for the layouts it has', () => {
    assert.equal(goidOffsetFromTable({ major: 1, minor: 17, text: '' }), 152);
    assert.equal(goidOffsetFromTable({ major: 1, minor: 23, text: '' }), 160);
    assert.equal(goidOffsetFromTable({ major: 1, minor: 99, text: '' }), undefined);
  });
});

describe('eBPF tracing: name suggestions', () => {
  const names = ['main.busyWork', 'main.(*Server).handle', 'net/http.(*conn).serve', 'main.main', 'runtime.main'];
  it('suggests the same function with another case, or the same last element', () => {
    assert.deepEqual(closeMatches('main.busywork', names), ['main.busyWork']);
    assert.ok(closeMatches('main.Server.handle', names).includes('main.(*Server).handle'));
    assert.deepEqual(closeMatches('zzzzzzzzzzzzzz.qqqq', names), []);
  });
});

describe('eBPF tracing: results into the model', () => {
  const b = (lo: number, count: number) => ({ loNanos: lo, hiNanos: lo * 2, count });
  it('estimates quantiles inside the bucket that holds them', () => {
    assert.equal(quantileNanos([], 0.5), 0);
    // 100 values in [1024, 2048): the median is interpolated half-way.
    assert.equal(quantileNanos([b(1024, 100)], 0.5), 1536);
    // 90 in [1024,2048), 10 in [65536,131072): p50 in the first, p99 in the second.
    const h = [b(65536, 10), b(1024, 90)];
    assert.ok(quantileNanos(h, 0.5) >= 1024 && quantileNanos(h, 0.5) < 2048);
    assert.equal(quantileNanos(h, 0.9), 2048);
    assert.ok(quantileNanos(h, 0.99) >= 65536 && quantileNanos(h, 0.99) <= 131072);
  });

  it('converts helper results into FunctionLatency, SchedLatency and SyscallStat', () => {
    const f = toFunctionLatency(
      {
        name: 'main.f',
        calls: 5,
        matched: 4,
        returnsWithoutEntry: 0,
        unmatched: 1,
        sum_ns: 8000,
        buckets: [{ lo_ns: 1024, hi_ns: 2048, count: 4 }],
        callsPerSecond: [5],
      },
      2,
    );
    assert.deepEqual(f, {
      function: 'main.f',
      calls: 5,
      unmatched: 1,
      sumNanos: 8000,
      p50Nanos: 1536,
      p90Nanos: 1946,
      p99Nanos: 2038,
      buckets: [{ loNanos: 1024, hiNanos: 2048, count: 4 }],
      durationNanos: 2e9,
      callsPerSecond: [5],
    });
    const s = toSchedLatency({
      count: 2,
      sum_ns: 3,
      buckets: [{ lo_ns: 1, hi_ns: 2, count: 2 }],
      worst: [{ goid: 7, wait_ns: 2 }],
      elapsedSec: 1,
    });
    assert.deepEqual(s.worst, [{ goid: 7, waitNanos: 2 }]);
    // The creation PCs go to the symbolizer as they came, the stack in order.
    const seen: unknown[] = [];
    const o = toSchedLatency(
      {
        count: 1,
        sum_ns: 1,
        buckets: [],
        worst: [{ goid: 9, wait_ns: 5, gopc: 0x401005, startpc: 0x402000, creation_stack: [0x400100, 0x401005, 0x403009] }],
        elapsedSec: 1,
      },
      (pcs) => {
        seen.push(pcs);
        return { createdAt: 'main.f (a.go:3)', creationStack: ['main.f (a.go:3)', 'main.main (a.go:9)'] };
      },
    );
    assert.deepEqual(seen, [{ gopc: 0x401005n, startpc: 0x402000n, creationStack: [0x400100n, 0x401005n, 0x403009n] }]);
    assert.deepEqual(o.worst, [
      { goid: 9, waitNanos: 5, createdAt: 'main.f (a.go:3)', creationStack: ['main.f (a.go:3)', 'main.main (a.go:9)'] },
    ]);
    const sc = toSyscallStats(
      {
        syscalls: [{ nr: 1, name: 'write', count: 3, total_ns: 30, buckets: [], topSites: [{ addrs: [0x401000, 0x402000], count: 3 }] }],
        elapsedSec: 1,
      },
      (pc) => (pc === 0x401000n ? ['syscall.write (a.go:1)', 'syscall.Write (a.go:2)'] : []),
    );
    assert.deepEqual(sc[0]!.topSites, [{ frames: ['syscall.write (a.go:1)', 'syscall.Write (a.go:2)'], count: 3 }]);
  });
});

describe('eBPF tracing: terminal output and arguments', () => {
  it('draws funclatency-style rows for every slot between the first and last non-empty one', () => {
    const text = formatLog2Histogram([
      { loNanos: 4096, hiNanos: 8192, count: 40 },
      { loNanos: 32768, hiNanos: 65536, count: 10 },
    ]);
    const rows = text.trimEnd().split('\n');
    assert.match(rows[0]!, /nsecs\s+: count\s+distribution/);
    assert.equal(rows.length, 1 + 4);
    assert.match(rows[1]!, /^\s+4096 -> 8191\s+: 40\s+\|\*{40}\|$/);
    assert.match(rows[2]!, /^\s+8192 -> 16383\s+: 0\s+\|\s{40}\|$/);
    assert.match(rows[4]!, /^\s+32768 -> 65535\s+: 10\s+\|\*{10}\s{30}\|$/);
    assert.equal(formatLog2Histogram([]), '    (no events)\n');
    assert.equal(formatNanos(1500), '1.50 µs');
    assert.equal(formatNanos(2_500_000), '2.50 ms');
  });

  it('parses --pid, --duration, repeated --func and --json, and rejects bad values with usage errors', () => {
    const o = parseEbpfArgs(['--pid', '42', '--func', 'main.(*S).f', '--func=main.G[...]', '--duration', '3', '--json'], 'usage', ['func']);
    assert.notEqual(o, 'help');
    if (o === 'help') return;
    assert.equal(o.pid, 42);
    assert.equal(o.durationSec, 3);
    assert.equal(o.json, true);
    assert.deepEqual(o.multi.get('func'), ['main.(*S).f', 'main.G[...]']);
    assert.equal(parseEbpfArgs(['--help'], 'usage'), 'help');
    for (const bad of [
      [],
      ['--pid', 'x'],
      ['--pid', '0'],
      ['--pid', '1', '--duration', '0'],
      ['--pid', '1', '--duration', 'abc'],
      ['--pid', '1', '--bogus'],
      ['--pid'],
    ]) {
      assert.equal(
        codeOf(() => parseEbpfArgs(bad, 'usage', ['func'])),
        'usage',
        JSON.stringify(bad),
      );
    }
  });
});

describe('eBPF tracing: fine histogram percentiles', () => {
  it('uses the finer buckets when the helper sends them', () => {
    // 100 calls of about 2.1 ms: log2 says only "in [2.10 ms, 4.19 ms)"; the fine buckets know better.
    const f = toFunctionLatency(
      {
        name: 'main.sleepy',
        calls: 100,
        matched: 100,
        returnsWithoutEntry: 0,
        unmatched: 0,
        sum_ns: 210_000_000,
        buckets: [{ lo_ns: 2097152, hi_ns: 4194304, count: 100 }],
        fine: [[2097152, 2359296, 100]],
        callsPerSecond: [100],
      },
      1,
    );
    assert.ok(f.p50Nanos >= 2097152 && f.p50Nanos < 2359296, String(f.p50Nanos));
    assert.deepEqual(f.buckets, [{ loNanos: 2097152, hiNanos: 4194304, count: 100 }]);
  });
});
