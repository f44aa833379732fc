/** Session files: round trip, and clear errors for other versions and corrupt files. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { aggregate, StackTrie } from '../../../src/ingest/aggregate';
import { PROFILE_MODEL_VERSION, type Profile } from '../../../src/model/profile';
import { loadSession, makeSession, parseSession, saveSession, SessionError, serializeSession } from '../../../src/model/session';
import { UserError } from '../../../src/util/userError';

function sampleProfile(): Profile {
  const t = new StackTrie();
  t.add([1, 2], 2, 3);
  t.add([3, 2], 2, 1);
  const frames: Record<number, { function: string; file: string; line: number }[]> = {
    1: [
      { function: 'main.mix', file: '/a/main.go', line: 5 },
      { function: 'main.sum', file: '/a/main.go', line: 12 },
    ],
    2: [{ function: 'main.main', file: '/a/main.go', line: 30 }],
    3: [{ function: 'main.sum', file: '/a/main.go', line: 13 }],
  };
  const a = aggregate(t, { frames: (k) => frames[k] ?? [], address: (k) => `0x${k.toString(16)}` });
  return {
    version: PROFILE_MODEL_VERSION,
    source: 'perf',
    event: { name: 'cpu-clock', unit: 'nanoseconds', periodPerSample: 1001001.5, frequencyHz: 999, fallbackReason: 'no PMU' },
    binary: { path: '/a/bin', buildId: 'abc', goVersion: 'go1.23.5', vcsModified: false },
    target: { pid: 42, cmdline: 'bin' },
    startTimeMs: 1700000000123.5,
    durationNanos: 3e9,
    totalSamples: 6,
    lostSamples: 1,
    unattributedSamples: 2,
    functions: a.functions,
    lines: a.lines,
    callTree: a.callTree,
    stacks: a.stacks,
    warnings: ['something was lost'],
    latency: [
      {
        function: 'main.sum',
        calls: 10,
        unmatched: 0,
        sumNanos: 1000,
        p50Nanos: 90,
        p90Nanos: 120,
        p99Nanos: 150,
        buckets: [{ loNanos: 64, hiNanos: 128, count: 9 }],
        durationNanos: 3e9,
      },
    ],
  };
}

describe('session files', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-session-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('save and load give back the same session (deep-equal)', () => {
    const s = makeSession(sampleProfile(), 'test', 1700000000000);
    const f = path.join(tmp, 's.json');
    saveSession(f, s);
    assert.deepStrictEqual(loadSession(f), s);
    assert.deepStrictEqual(parseSession(serializeSession(s)), s);
    assert.equal(JSON.parse(fs.readFileSync(f, 'utf8')).format, 'go-perf-lens-session');
    assert.equal(JSON.parse(fs.readFileSync(f, 'utf8')).version, 1);
  });

  const cases: [string, string, RegExp][] = [
    ['not JSON', '{"format": "go-perf-lens-session", ', /not valid JSON/],
    ['another format', JSON.stringify({ format: 'something-else', version: 1 }), /not a Go Perf Lens session/],
    ['a newer version', JSON.stringify({ format: 'go-perf-lens-session', version: 3, profile: {} }), /version 3 is not supported.*newer/],
    ['an older version', JSON.stringify({ format: 'go-perf-lens-session', version: 0, profile: {} }), /version 0 is not supported/],
    ['no profile', JSON.stringify({ format: 'go-perf-lens-session', version: 1, createdMs: 1 }), /corrupt session: the "profile" field/],
  ];
  for (const [name, text, re] of cases) {
    it(`rejects ${name} with a clear error`, () => {
      assert.throws(
        () => parseSession(text, 'x.json'),
        (e: unknown) => e instanceof SessionError && e instanceof UserError && re.test(e.message) && e.message.startsWith('x.json: '),
      );
    });
  }

  it('rejects corrupt profiles: bad tree, indices out of range, missing counts', () => {
    /** The parts of a saved profile that the cases below damage. */
    type SavedProfile = {
      callTree: { parents: number[]; functions: number[]; selfSamples: number[] };
      totalSamples?: number;
      stacks: { stacks: number[][] };
      functions: unknown;
      version: number;
    };
    const mutate = (fn: (p: SavedProfile) => void): string => {
      const s = JSON.parse(serializeSession(makeSession(sampleProfile()))) as { profile: SavedProfile };
      fn(s.profile);
      return JSON.stringify(s);
    };
    const bad: [string, RegExp][] = [
      [
        mutate((p) => {
          p.callTree.parents[0] = 5;
        }),
        /pre-order/,
      ],
      [
        mutate((p) => {
          p.callTree.functions[0] = 999;
        }),
        /outside profile.functions/,
      ],
      [
        mutate((p) => {
          p.callTree.selfSamples.pop();
        }),
        /callTree.selfSamples/,
      ],
      [
        mutate((p) => {
          delete p.totalSamples;
        }),
        /totalSamples/,
      ],
      [
        mutate((p) => {
          p.stacks.stacks[0] = [77];
        }),
        /outside its locations/,
      ],
      [
        mutate((p) => {
          p.functions = 'x';
        }),
        /functions is malformed/,
      ],
      [
        mutate((p) => {
          p.version = 7;
        }),
        /profile model version 7/,
      ],
    ];
    for (const [text, re] of bad)
      assert.throws(
        () => parseSession(text),
        (e: unknown) => e instanceof SessionError && re.test(e.message),
        String(re),
      );
  });

  it('a missing file is a clear error', () => {
    assert.throws(
      () => loadSession(path.join(tmp, 'nope.json')),
      (e: unknown) => e instanceof SessionError && /cannot read the session/.test(e.message),
    );
  });
});
