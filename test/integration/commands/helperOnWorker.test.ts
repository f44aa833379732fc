/**
 * A streamed perf recording's helper is started and read on the ingest worker
 * (StreamedIngestInWorker.runHelper): the extension host's thread neither spawns it nor reads its
 * output. What comes back must be what a helper run on this thread gives (without the chunks,
 * which stay on the worker), damage found there must end the run here as it would have, stop and
 * cancel must reach it, a job abandoned while it runs must still stop it (the worker ends after
 * the helper), and perf.data's bytes must reach the streamed ingest there while perf records.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type HelperMessage, recordPerf } from '../../../src/capture';
import { StreamedIngestInWorker } from '../../../src/commands/ingestWorker';
import { eventuallyGone, FAKE_PLAN, fakeEnvelope, PRELUDE, runFake } from '../../support/fakeHelper';
import { killSpin, type Spinner, startSpin } from '../capture/captureSupport';

describe('commands: a streamed recording’s helper is started and read on the ingest worker [go]', function () {
  this.timeout(180_000);
  let spin: Spinner;
  let dir: string;
  let live: StreamedIngestInWorker;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-helper-on-worker-'));
    spin = await startSpin();
  });
  beforeEach(async () => {
    live = await StreamedIngestInWorker.open({ bytes: fs.readFileSync(spin.bin), path: spin.bin }, spin.pid);
  });
  afterEach(() => live.dispose());
  after(() => {
    killSpin(spin);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives the messages decoding here gives, in order, without the chunks; the file is written and checked there', async () => {
    const body =
      PRELUDE +
      [
        'parts=[bytes([i])*(i*9777+1) for i in range(1,40)]',
        "W(type='file',name='s.bin',size=None)",
        "[(C(p), W(type='progress',message='p%d'%i)) for i,p in enumerate(parts)]",
        "W(type='warning',message='w')",
        "data=b''.join(parts)",
        "W(type='file-end',name='s.bin',size=len(data),sha256=hashlib.sha256(data).hexdigest())",
        "W(type='result',data={'n':len(data)})",
      ].join('\n');
    const hereDir = fs.mkdtempSync(path.join(dir, 'here-'));
    const thereDir = fs.mkdtempSync(path.join(dir, 'there-'));
    const here = await runFake(body, hereDir);
    const there = await runFake(body, thereDir, live.runHelper);
    assert.equal(here.error, undefined, here.error?.message);
    assert.equal(there.error, undefined, there.error?.message);
    assert.equal(here.messages.filter((m) => m.type === 'received-chunk').length, 39);
    const withPath = (m: HelperMessage, d: string): HelperMessage =>
      m.type === 'received-file' ? { ...m, path: path.join(d, m.name) } : m;
    assert.deepEqual(
      there.messages.map((m) => withPath(m, 'D')),
      here.messages.filter((m) => m.type !== 'received-chunk').map((m) => withPath(m, 'D')),
    );
    const f = there.messages.find((m) => m.type === 'received-file');
    assert.ok(f?.type === 'received-file');
    assert.equal(f.path, path.join(thereDir, 's.bin'));
    assert.ok(fs.readFileSync(f.path).equals(fs.readFileSync(path.join(hereDir, 's.bin'))));
  });

  it('damage found there ends the run here as a helper-protocol error, and the helper is stopped', async () => {
    const cases = [
      // sha256 of other bytes
      "W(type='file',name='s.bin',size=None)\nC(b'abc')\nW(type='file-end',name='s.bin',size=3,sha256=hashlib.sha256(b'abd').hexdigest())\nW(type='result',data=1)",
      // a name that would leave the private folder
      "W(type='file',name='../s.bin',size=None)\nW(type='result',data=1)",
      // a chunk of a file never announced
      "C(b'abc')\nW(type='result',data=1)",
      // not JSON, then the helper would wait forever
      "sys.stdout.write('not json'+chr(10)); sys.stdout.flush()\n__import__('time').sleep(600)",
    ];
    for (const c of cases) {
      const d = fs.mkdtempSync(path.join(dir, 'bad-'));
      const r = await runFake(`${PRELUDE}open('${d}/pid','w').write(str(__import__('os').getpid()))\n${c}`, d, live.runHelper);
      assert.equal(r.error?.code, 'helper-protocol', `${c}: ${r.error?.message}`);
      assert.ok(!r.messages.some((m) => m.type === 'received-file' || m.type === 'result'), c);
      await eventuallyGone(Number(fs.readFileSync(path.join(d, 'pid'), 'utf8')));
    }
  });

  /** A stand-in that says hello, writes its pid, then sleeps, deaf to stop and EOF: only SIGTERM ends it. */
  const deaf = (d: string): string =>
    `${PRELUDE}open('${d}/pid','w').write(str(__import__('os').getpid()))\nW(type='progress',message='asleep')\n__import__('time').sleep(600)`;

  it('the caller’s AbortSignal cancels the helper there: the run ends as cancelled, the process is gone', async () => {
    const d = fs.mkdtempSync(path.join(dir, 'abort-'));
    const abort = new AbortController();
    const client = live.runHelper(FAKE_PLAN, fakeEnvelope(deaf(d)), { dir: d, signal: abort.signal });
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const m of client.messages()) {
          seen.push(m.type);
          if (m.type === 'progress') abort.abort();
        }
      })(),
      (e: Error & { code?: string }) => e.code === 'cancelled',
    );
    assert.deepEqual(seen, ['hello', 'progress']);
    assert.ok(client.pid !== undefined && client.pid > 0, `pid ${client.pid}`);
    const exit = await client.exit();
    assert.equal(exit.signal, 'SIGTERM', JSON.stringify(exit));
    await eventuallyGone(Number(fs.readFileSync(path.join(d, 'pid'), 'utf8')));
  });

  it('a job abandoned while its helper runs cancels it there, and its worker ends only after the helper has exited', async () => {
    const d = fs.mkdtempSync(path.join(dir, 'abandoned-'));
    const client = live.runHelper(FAKE_PLAN, fakeEnvelope(deaf(d)), { dir: d });
    const reading = (async () => {
      for await (const m of client.messages()) if (m.type === 'progress') live.dispose();
    })();
    await assert.rejects(reading, /the ingest job was abandoned/);
    // Deaf to stop and EOF: had the worker ended at once, nobody would send SIGTERM.
    const exit = await client.exit();
    assert.equal(exit.signal, 'SIGTERM', JSON.stringify(exit));
    await eventuallyGone(Number(fs.readFileSync(path.join(d, 'pid'), 'utf8')));
  });

  it('perf.data reaches the streamed ingest there while perf records: the profile so far comes, the whole has every sample perf script shows [root, perf]', async () => {
    let stop: (() => void) | undefined;
    const partials: number[] = [];
    live.dispose();
    // The recording is stopped once the worker has handed over a profile so far: made of
    // streamed bytes, since the file is complete only at the end.
    live = await StreamedIngestInWorker.open({ bytes: fs.readFileSync(spin.bin), path: spin.bin }, spin.pid, (p) => {
      partials.push(p.totalSamples);
      stop?.();
    });
    const rec = await recordPerf(
      { kind: 'local' },
      { pid: spin.pid, durationSec: 120, freqHz: 999, event: 'cpu-clock', stream: true },
      { runElsewhere: live.runHelper, onStart: (c) => (stop = () => c.stop()) },
    );
    try {
      assert.equal(rec.result.endedBy, 'stop');
      const profile = await live.finish(rec.perfDataPath, { pid: spin.pid, frequencyHz: rec.result.freqHz });
      assert.ok(partials.length >= 1 && partials[0]! > 0, `profiles so far: ${JSON.stringify(partials)}`);
      const script = execFileSync('perf', ['script', '-G', '-i', rec.perfDataPath, '-F', 'pid'], {
        maxBuffer: 256 << 20,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).toString();
      const ref = script.split('\n').filter((l) => Number(l.trim()) === spin.pid).length;
      assert.ok(ref > 0, 'perf script shows no sample');
      assert.equal(profile.totalSamples, ref);
    } finally {
      fs.rmSync(rec.tempDir, { recursive: true, force: true });
    }
  });
});
