import * as assert from 'node:assert/strict';
import { PROFILE_MODEL_VERSION, type FunctionLatency, type Profile } from '../../../src/model/profile';
import { latencyPanelBody } from '../../../src/ui/latencyPanelHtml';

const buckets = [{ loNanos: 1024, hiNanos: 2048, count: 10 }, { loNanos: 2048, hiNanos: 4096, count: 3 }];
const lat = (name: string, calls: number): FunctionLatency => ({
  function: name, calls, unmatched: 1, sumNanos: calls * 1500, p50Nanos: 1500, p90Nanos: 3000, p99Nanos: 4000, buckets: calls ? buckets : [], durationNanos: 2e9,
});

function profile(): Profile {
  return {
    version: PROFILE_MODEL_VERSION, source: 'ebpf', event: { name: 'none', unit: 'count', periodPerSample: 1 },
    durationNanos: 0, totalSamples: 0, lostSamples: 0, unattributedSamples: 0, functions: [], lines: [],
    callTree: { parents: [], functions: [], callLines: [], totalSamples: [], selfSamples: [] },
    latency: [lat('main.handle', 13), lat('main.(*T[int]).M<script>', 0)],
    sched: { count: 40, p50Nanos: 2000, p90Nanos: 9000, p99Nanos: 400000, buckets, worst: [{ goid: 17, waitNanos: 3e6 }], durationNanos: 2e9 },
    syscalls: [
      { name: 'read', nr: 0, count: 5, totalNanos: 1e6, buckets: [] },
      { name: 'write', nr: 1, count: 7, totalNanos: 5e7, buckets, topSites: [{ frames: ['main.handle (main.go:12)'], count: 6 }] },
    ],
  };
}

describe('ui: the latency panel page', () => {
  const html = latencyPanelBody(profile());

  it('one histogram image per result that has data', () => {
    // main.handle, sched, write — not the untraced-calls function nor read (no buckets).
    assert.equal([...html.matchAll(/<img alt="[^"]*" src="data:image\/svg\+xml;base64,/g)].length, 3);
  });

  it('the figures of each table', () => {
    assert.match(html, /<td>13<\/td><td>6\.5\/s<\/td><td>1\.5 µs<\/td><td>3 µs<\/td><td>4 µs<\/td><td>1<\/td>/);
    assert.match(html, /<td>0<\/td><td>0\/s<\/td><td>—<\/td><td>—<\/td><td>—<\/td>/);
    assert.match(html, /<td>17<\/td><td>3 ms<\/td>/);
    // Syscalls sorted by total time: write (50 ms) before read (1 ms).
    assert.ok(html.indexOf('<td>write</td>') < html.indexOf('<td>read</td>'));
    assert.match(html, /6 × main\.handle \(main\.go:12\)/);
  });

  it('names are escaped, never markup', () => {
    assert.ok(!html.includes('<script>'));
    assert.match(html, /main\.\(\*T\[int\]\)\.M&lt;script&gt;/);
  });

  it('without a profile it says so', () => {
    assert.match(latencyPanelBody(undefined), /No profile loaded/);
  });
});
