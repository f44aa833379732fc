import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LIMITS } from '../../../src/capture/helperOutput';
import type { HelperMessage } from '../../../src/capture/helperProtocol';
import { eventuallyGone, PRELUDE, runFake } from '../../support/fakeHelper';

describe('capture: HelperClient with files of unknown size (streamed) and received-chunk', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-client-stream-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('yields each chunk, decoded and in order, after writing it; progress between chunks passes through', async () => {
    const d = fs.mkdtempSync(path.join(dir, 'a-'));
    const body =
      PRELUDE +
      [
        'parts=[bytes([i])*(i*977+1) for i in range(1,40)]',
        "W(type='file',name='s.bin',size=None)",
        "[(C(p), W(type='progress',message='p%d'%i)) for i,p in enumerate(parts)]",
        "data=b''.join(parts)",
        "W(type='file-end',name='s.bin',size=len(data),sha256=hashlib.sha256(data).hexdigest())",
        "W(type='result',data=1)",
      ].join('\n');
    const r = await runFake(body, d);
    assert.equal(r.error, undefined, r.error?.message);
    const kinds = r.messages.map((m) => m.type);
    assert.deepEqual(kinds.slice(0, 1), ['hello']);
    const chunks = r.messages.filter((m) => m.type === 'received-chunk');
    assert.equal(chunks.length, 39);
    chunks.forEach((c, i) => {
      assert.ok(c.type === 'received-chunk');
      assert.equal(c.name, 's.bin');
      assert.ok(c.data.equals(Buffer.alloc((i + 1) * 977 + 1, i + 1)), `chunk ${i}`);
    });
    // Chunks and progress alternate as they were sent; the file and the result come last.
    for (let i = 0; i < 39; i++) {
      assert.equal(r.messages[1 + 2 * i]!.type, 'received-chunk');
      const p = r.messages[2 + 2 * i]!;
      assert.ok(p.type === 'progress' && p.message === `p${i}`);
    }
    const f = r.messages.at(-2)!;
    assert.ok(f.type === 'received-file');
    const all = Buffer.concat(chunks.map((c) => (c.type === 'received-chunk' ? c.data : Buffer.alloc(0))));
    assert.ok(fs.readFileSync(f.path).equals(all));
    assert.equal(f.size, all.length);
    assert.deepEqual(r.messages.at(-1), { type: 'result', data: 1 });
  });

  it('damage is still caught at file-end: a short file of unknown size, a size that breaks its promise, a bad size', async () => {
    const cases = [
      // sha256 of other bytes
      "W(type='file',name='s.bin',size=None)\nC(b'abc')\nW(type='file-end',name='s.bin',size=3,sha256=hashlib.sha256(b'abd').hexdigest())\nW(type='result',data=1)",
      // the announced size is not what arrived (even though file-end agrees with the bytes)
      "W(type='file',name='s.bin',size=10)\nC(b'abc')\nW(type='file-end',name='s.bin',size=3,sha256=hashlib.sha256(b'abc').hexdigest())\nW(type='result',data=1)",
      "W(type='file',name='s.bin',size='big')",
      "W(type='file',name='s.bin',size=-1)",
    ];
    for (const c of cases) {
      const d = fs.mkdtempSync(path.join(dir, 'b-'));
      const r = await runFake(PRELUDE + c, d);
      assert.equal(r.error?.code, 'helper-protocol', c);
      assert.ok(!r.messages.some((m) => m.type === 'received-file' || m.type === 'result'), c);
    }
  });
});

describe('capture: HelperClient caps what a helper sends back (a fake helper over the real stream code)', () => {
  let dir: string;
  const saved = { ...LIMITS };
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-client-caps-'));
  });
  afterEach(() => Object.assign(LIMITS, saved));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs the fake; it must end with a helper-protocol error naming `why`, and its process must be gone. */
  async function refused(body: string, why: RegExp): Promise<HelperMessage[]> {
    const d = fs.mkdtempSync(path.join(dir, 'c-'));
    // The fake writes its own PID first, so the test can check it was stopped, not left running.
    const r = await runFake(`${PRELUDE}open('${d}/pid','w').write(str(__import__('os').getpid()))\n${body}`, d);
    assert.equal(r.error?.code, 'helper-protocol', r.error?.message ?? JSON.stringify(r.messages.map((m) => m.type)));
    assert.match(r.error!.message, why);
    assert.ok(!r.messages.some((m) => m.type === 'result'));
    const pid = Number(fs.readFileSync(path.join(d, 'pid'), 'utf8'));
    await eventuallyGone(pid);
    return r.messages;
  }

  it('a line longer than the cap, still growing, ends the run with a clear error (the helper is stopped, not waited for)', async () => {
    LIMITS.maxLineBytes = 1 << 20;
    // 8 MB without a newline, then the helper would wait forever.
    await refused("sys.stdout.write('x'*(8<<20)); sys.stdout.flush()\n__import__('time').sleep(600)", /a line longer than 1048576 bytes/);
  });

  it('more files than the cap are refused at the first one too many', async () => {
    const msgs = await refused(
      "for i in range(20): W(type='file',name='f%d.bin'%i,size=0); W(type='file-end',name='f%d.bin'%i,size=0,sha256=hashlib.sha256(b'').hexdigest())\nW(type='result',data=1)",
      new RegExp(`more than ${LIMITS.maxFiles} files`),
    );
    assert.equal(msgs.filter((m) => m.type === 'received-file').length, LIMITS.maxFiles);
  });

  it('a file larger than the cap is refused before its bytes past the cap are written', async () => {
    LIMITS.maxFileBytes = 1000;
    const d = await refused(
      "W(type='file',name='s.bin',size=None)\nC(b'a'*600)\nC(b'b'*600)\nW(type='file-end',name='s.bin',size=1200,sha256='0'*64)\nW(type='result',data=1)",
      /s\.bin larger than 1000 bytes/,
    );
    assert.equal(d.filter((m) => m.type === 'received-chunk').length, 1);
  });
});
