import * as assert from 'node:assert/strict';
import type { Profile } from '../../../src/model/profile';
import { ProfileHistory, historyDescription } from '../../../src/ui/profileHistory';

function profile(samples: number, extra: Partial<Profile> = {}): Profile {
  return { totalSamples: samples, durationNanos: 2.5e9, ...extra } as Profile;
}

describe('ui/profileHistory', () => {
  it('keeps the last N, newest first; re-adding moves an entry to the front', () => {
    const h = new ProfileHistory<{ profile: Profile; label: string }>(3);
    const ps = [1, 2, 3, 4].map((n) => ({ profile: profile(n), label: `p${n}` }));
    for (const p of ps) h.add(p);
    assert.deepEqual(
      h.entries().map((e) => e.loaded.label),
      ['p4', 'p3', 'p2'],
    );
    h.add(ps[2]!);
    assert.deepEqual(
      h.entries().map((e) => e.loaded.label),
      ['p3', 'p4', 'p2'],
    );
  });

  it('previous() is the newest one that is not the current profile', () => {
    const h = new ProfileHistory<{ profile: Profile; label: string }>();
    const a = { profile: profile(1), label: 'a' };
    const b = { profile: profile(2), label: 'b' };
    assert.equal(h.previous(undefined), undefined);
    h.add(a);
    assert.equal(h.previous(a.profile), undefined);
    h.add(b);
    assert.equal(h.previous(b.profile), a);
    assert.equal(h.previous(a.profile), b);
  });

  it('describes how a recording ended', () => {
    assert.equal(
      historyDescription(profile(10, { target: { pid: 7 }, ended: { by: 'target-exited', afterSec: 1, requestedSec: 10 } })),
      '10 samples · 2.5 s · PID 7 · partial: the process exited',
    );
    assert.equal(
      historyDescription(profile(10, { ended: { by: 'stop', afterSec: 2.5, requestedSec: 10 } })),
      '10 samples · 2.5 s · stopped early',
    );
    assert.equal(historyDescription(profile(3)), '3 samples · 2.5 s');
  });
});
