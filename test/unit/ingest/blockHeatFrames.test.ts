/**
 * Which frames blocking heat skips before charging a wait (README: runtime, sync, internal, time
 * and net's own frames), and the wait-reason names per Go version, checked against the names Go
 * prints for the reasons the tests wait on.
 */
import { strict as assert } from 'node:assert';
import { isParkingInternal, log2Histogram } from '../../../src/ingest/blockHeat';
import { waitReasonName, waitReasonNames } from '../../../src/symbolize/goWaitReasons';

describe('blocking heat: frames and wait reasons', () => {
  it('skips the frames that park for their callers and keeps the callers', () => {
    for (const f of [
      'runtime.chanrecv1',
      'sync.(*Mutex).lockSlow',
      'sync/atomic.(*Int64).Load',
      'internal/poll.(*FD).Read',
      'time.Sleep',
      'net.(*conn).Read',
    ]) {
      assert.ok(isParkingInternal(f), f);
    }
    for (const f of ['main.recvChan', 'net/http.(*conn).serve', 'os.(*File).Read', 'bufio.(*Reader).fill', 'timeutil.Wait', 'syncx.Do']) {
      assert.ok(!isParkingInternal(f), f);
    }
  });

  it('names wait reasons per Go version, and numbers where the version is unknown', () => {
    const v = (minor: number) => ({ major: 1, minor, text: `go1.${minor}` });
    assert.equal(waitReasonName(waitReasonNames(v(19)), 14), 'chan receive');
    assert.equal(waitReasonName(waitReasonNames(v(19)), 18), 'semacquire');
    assert.equal(waitReasonName(waitReasonNames(v(19)), 19), 'sleep');
    assert.equal(waitReasonName(waitReasonNames(v(21)), 21), 'sync.Mutex.Lock');
    assert.equal(waitReasonName(waitReasonNames(v(23)), 21), 'sync.Mutex.Lock');
    assert.equal(waitReasonName(waitReasonNames(v(23)), 2), 'IO wait');
    assert.equal(waitReasonNames(v(20)), undefined);
    assert.equal(waitReasonName(undefined, 21), 'wait reason 21');
    assert.equal(waitReasonName(waitReasonNames(v(23)), 200), 'wait reason 200');
  });

  it("turns bpf_log2l slots into ascending [2^(slot-1), 2^slot) buckets, as BCC's log2 histograms read", () => {
    // bpf_log2l(v) is the bit length of v: 0 → 0, 1 → 1, 10 ms = 10,000,000 ns → 24.
    const hist = log2Histogram(
      new Map([
        [24, 7],
        [0, 1],
        [1, 2],
        [26, 0],
      ]),
    );
    assert.deepEqual(hist, [
      { loNanos: 0, hiNanos: 1, count: 1 },
      { loNanos: 1, hiNanos: 2, count: 2 },
      { loNanos: 8388608, hiNanos: 16777216, count: 7 },
    ]);
    assert.equal((10_000_000).toString(2).length, 24);
  });
});
