/**
 * Which frames blocking heat skips before charging a wait (README: runtime, sync, internal, time
 * and net's own frames), and the wait-reason names per Go version, checked against the names Go
 * prints for the reasons the tests wait on.
 */
import { strict as assert } from 'node:assert';
import { isParkingInternal } from '../../../src/ingest/blockHeat';
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
});
