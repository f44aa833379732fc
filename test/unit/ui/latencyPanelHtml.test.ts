import * as assert from 'node:assert/strict';
import { PROFILE_MODEL_VERSION, type FunctionLatency, type Profile } from '../../../src/model/profile';
import { latencyPanelBody } from '../../../src/ui/latencyPanelHtml';

const buckets = [
  { loNanos: 1024, hiNanos: 2048, count: 10 },
  { loNanos: 2048, hiNanos: 4096, count: 3 },
];
const lat = (name: string, calls: number): FunctionLatency => ({
  function: name,
  calls,
  unmatched: 1,
  sumNanos: calls * 1500,
  p50Nanos: 1500,
  p90Nanos: 3000,
  p99Nanos: 4000,
  buckets: calls ? buckets : [],
  durationNanos: 2e9,
});

function profile(): Profile {
  return {
    version: PROFILE_MODEL_VERSION,
    source: 'ebpf',
    event: { name: 'none', unit: 'count', periodPerSample: 1 },
    durationNanos: 0,
    totalSamples: 0,
    lostSamples: 0,
    unattributedSamples: 0,
    functions: [],
    lines: [],
    callTree: { parents: [], functions: [], callLines: [], totalSamples: [], selfSamples: [] },
    latency: [lat('main.handle', 13), lat('main.(*T[int]).M<script>', 0)],
    sched: {
      count: 40,
      p50Nanos: 2000,
      p90Nanos: 9000,
      p99Nanos: 400000,
      buckets,
      worst: [{ goid: 17, waitNanos: 3e6 }],
      durationNanos: 2e9,
    },
    syscalls: [
      { name: 'read', nr: 0, count: 5, totalNanos: 1e6, buckets: [] },
      {
        name: 'write',
        nr: 1,
        count: 7,
        totalNanos: 5e7,
        buckets,
        windowNanos: 2e9,
        topSites: [
          {
            frames: [
              'syscall.write (/go/src/syscall/zsyscall_linux_amd64.go:964)',
              'os.(*File).Write (/go/src/os/file.go:189)',
              'main.handle (/w/main.go:12)',
              'net/http.HandlerFunc.ServeHTTP (/go/src/net/http/server.go:2220)',
            ],
            count: 6,
          },
        ],
      },
      // A thread parked by the scheduler while a goroutine sleeps: the user frame below mcall did not make it.
      {
        name: 'futex',
        nr: 202,
        count: 900,
        totalNanos: 19.2e9,
        buckets,
        windowNanos: 2e9,
        topSites: [
          {
            frames: [
              'runtime.futex (/go/src/runtime/sys_linux_amd64.s:557)',
              'runtime.futexsleep (/go/src/runtime/os_linux.go:69)',
              'runtime.notesleep (/go/src/runtime/lock_futex.go:171)',
              'runtime.stopm (/go/src/runtime/proc.go:2540)',
              'runtime.mcall (/go/src/runtime/asm_amd64.s:459)',
              'time.Sleep (/go/src/runtime/time.go:300)',
              'main.rest (/w/main.go:34)',
            ],
            count: 900,
          },
        ],
      },
    ],
  };
}

describe('ui: the latency panel page', () => {
  const html = latencyPanelBody(profile());

  it('one histogram image per result that has data', () => {
    // main.handle, sched, write, futex — not the untraced-calls function nor read (no buckets).
    assert.equal([...html.matchAll(/<img alt="[^"]*" src="data:image\/svg\+xml;base64,/g)].length, 4);
  });

  it('the figures of each table', () => {
    assert.match(html, /<td>13<\/td><td>6\.5\/s<\/td><td>1\.5 µs<\/td><td>3 µs<\/td><td>4 µs<\/td><td>1<\/td><td>2 s<\/td>/);
    assert.match(html, /<td>0<\/td><td>0\/s<\/td><td>—<\/td><td>—<\/td><td>—<\/td>/);
    assert.match(html, /<td>17<\/td><td>3 ms<\/td>/);
    assert.match(
      html,
      /<td>17<\/td><td>3 ms<\/td><td><span class="muted">—<\/span><\/td><td><span class="muted">not recorded<\/span><\/td>/,
    );
    // Syscalls sorted by total time: write (50 ms) before read (1 ms).
    assert.ok(html.indexOf('<td>write</td>') < html.indexOf('<td>read</td>'));
    // A syscall site is its first frame in the user's code, a link that opens it; the frames below it are folded.
    const link = `command:goPerfLens.openSite?${encodeURIComponent(JSON.stringify(['/w/main.go', 12]))}`;
    assert.ok(
      html.includes(
        `6 × <a href="${link}" title="Open /w/main.go:12"><code>main.handle</code> (main.go:12)</a> <span class="muted">via syscall.write ← os.(*File).Write</span>`,
      ),
      html.slice(html.indexOf('panel-syscalls')),
    );
  });

  it('three tabs; the runtime’s idle waits hidden behind a switch; totals summed over threads explained', () => {
    assert.equal([...html.matchAll(/<input type="radio" name="tab"/g)].length, 3);
    assert.match(html, /<tr class="idle"><td>futex<\/td><td>900<\/td><td>19\.2 s<\/td><td>9\.6<\/td>/);
    assert.match(html, /<tr class=""><td>write<\/td><td>7<\/td><td>50 ms<\/td><td>0\.0<\/td>/);
    assert.match(html, /id="show-idle"/);
    assert.ok(html.indexOf('id="show-idle"') < html.indexOf('<tr class="idle">'), 'the switch must come before the rows it shows');
    assert.match(html, /summed over every thread/);
  });

  it('a tab with nothing recorded says how to record it', () => {
    const p = profile();
    delete p.sched;
    delete p.syscalls;
    p.latency = [];
    const empty = latencyPanelBody(p);
    assert.match(empty, /No function traced yet/);
    assert.match(empty, /Not recorded: how long runnable goroutines wait[^<]*Record it with <a href="command:goPerfLens\.profileProcess/);
    assert.match(empty, /“Syscalls”/);
  });

  it('a worst wait names its creation site and start function, and lists the creating call stack as links', () => {
    const p = profile();
    p.sched!.worst = [
      {
        goid: 40,
        waitNanos: 5e6,
        startFunction: 'main.spawnOne.func1',
        createdAt: 'main.spawnOne (/w/main.go:116)',
        creationStack: ['main.spawnOne (/w/main.go:116)', 'main.spawnBurst (/w/main.go:109)', 'main.main (/w/main.go:199)'],
      },
      { goid: 2, waitNanos: 4e6, startFunction: 'main.worker', createdAt: 'main.main (/w/main.go:20)' },
    ];
    const h = latencyPanelBody(p);
    const link = (file: string, line: number, fn: string): string =>
      `<a href="command:goPerfLens.openSite?${encodeURIComponent(JSON.stringify([file, line]))}" title="Open ${file}:${line}"><code>${fn}</code> (main.go:${line})</a>`;
    assert.ok(
      h.includes(
        `<td>${link('/w/main.go', 116, 'main.spawnOne')}<details class="creation-stack"><summary>called from 2 frames</summary><div class="frame">${link('/w/main.go', 109, 'main.spawnBurst')}</div><div class="frame">${link('/w/main.go', 199, 'main.main')}</div></details></td>`,
      ),
      h,
    );
    // Created before tracing began: the site is known (g.gopc), the stack is not, and that is said.
    assert.ok(
      h.includes(
        `<td>${link('/w/main.go', 20, 'main.main')} <span class="muted">· no creating stack (created before tracing began, or its stack was not walkable)</span></td>`,
      ),
      h,
    );
  });

  it('names are escaped, never markup', () => {
    assert.ok(!html.includes('<script>'));
    assert.match(html, /main\.\(\*T\[int\]\)\.M&lt;script&gt;/);
  });

  it('without a profile it says so', () => {
    assert.match(latencyPanelBody(undefined), /No profile loaded/);
  });
});
