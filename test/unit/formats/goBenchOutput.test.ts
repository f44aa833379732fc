/** Reading what a Go test binary prints: lines copied from real runs of go1.19 and go1.23 test binaries. */
import * as assert from 'node:assert/strict';
import { compareBenchmarks, parseGoTestOutput } from '../../../src/formats/goBenchOutput';
import { goTestFuncAt, scanGoTestFuncs } from '../../../src/ui/goTestFuncs';

describe('Go test output and test funcs', () => {
  it('benchmark lines with and without -benchmem, sub-benchmarks, failures', () => {
    const out = parseGoTestOutput(
      [
        'goos: linux',
        'goarch: amd64',
        'pkg: example.com/benchpkg',
        'cpu: AMD EPYC',
        'BenchmarkChecksum-2   \t   52018\t     25425 ns/op\t       0 B/op\t       0 allocs/op',
        'BenchmarkPlain        \t 1000000\t      1.5 ns/op',
        'BenchmarkSub/size=10-8 \t    200\t   6021 ns/op\t  8192 B/op\t       1 allocs/op',
        '--- FAIL: BenchmarkFails',
        '    work_test.go:3: fails on purpose',
        'FAIL',
      ].join('\n'),
    );
    assert.deepEqual(out.benchmarks, [
      { name: 'BenchmarkChecksum', iterations: 52018, nsPerOp: 25425, bytesPerOp: 0, allocsPerOp: 0 },
      { name: 'BenchmarkPlain', iterations: 1000000, nsPerOp: 1.5 },
      { name: 'BenchmarkSub/size=10', iterations: 200, nsPerOp: 6021, bytesPerOp: 8192, allocsPerOp: 1 },
    ]);
    assert.deepEqual(out.failed, ['BenchmarkFails']);
    assert.ok(out.sawFail);
    assert.ok(!parseGoTestOutput('PASS\n').sawFail);
  });

  it('finds func BenchmarkX(b *testing.B) and func TestX(t *testing.T), not helpers or mismatched kinds', () => {
    const src = [
      'package p',
      'func BenchmarkA(b *testing.B) {',
      '}',
      'func TestB(t *testing.T) {',
      '\tx()',
      '}',
      'func Testlower(t *testing.T) {}',
      'func BenchmarkWrong(t *testing.T) {}',
      'func helper(b *testing.B) {}',
      'func Test(t *testing.T) {}',
    ].join('\n');
    const fns = scanGoTestFuncs(src);
    assert.deepEqual(fns, [
      { kind: 'bench', name: 'BenchmarkA', line0: 1 },
      { kind: 'test', name: 'TestB', line0: 3 },
      { kind: 'test', name: 'Test', line0: 9 },
    ]);
    assert.equal(goTestFuncAt(fns, 4)?.name, 'TestB');
    assert.equal(goTestFuncAt(fns, 0), undefined);
  });

  it('compares the benchmarks two runs share', () => {
    assert.equal(
      compareBenchmarks(
        [{ name: 'BenchmarkA', iterations: 1, nsPerOp: 100, bytesPerOp: 8, allocsPerOp: 1 }],
        [
          { name: 'BenchmarkA', iterations: 1, nsPerOp: 150, bytesPerOp: 0, allocsPerOp: 0 },
          { name: 'BenchmarkNew', iterations: 1, nsPerOp: 1 },
        ],
      ),
      'BenchmarkA: 100 → 150 ns/op (+50.0%), 8 → 0 B/op (-100.0%), 1 → 0 allocs/op (-100.0%)',
    );
  });
});
