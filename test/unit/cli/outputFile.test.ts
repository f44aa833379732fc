import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkOutputPath, writeOutputFile } from '../../../src/cli/outputFile';
import { UserError } from '../../../src/util/userError';

describe('cli/outputFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-out16-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('checkOutputPath accepts a new or existing file in an existing folder', () => {
    checkOutputPath(path.join(dir, 'a.json'), 'x');
    fs.writeFileSync(path.join(dir, 'b.json'), '');
    checkOutputPath(path.join(dir, 'b.json'), 'x');
  });

  it('checkOutputPath refuses a directory, a missing folder, a file as folder; with a way forward', () => {
    fs.writeFileSync(path.join(dir, 'f'), '');
    const cases: [string, RegExp, RegExp][] = [
      [dir, /is a directory/, /-o .*session\.json/],
      [`${path.join(dir, 'sub')}/`, /is a directory/, /session\.json/],
      [path.join(dir, 'missing', 'a.json'), /does not exist/, /mkdir -p/],
      [path.join(dir, 'f', 'a.json'), /is not a folder/, /another -o/],
    ];
    for (const [out, msg, hint] of cases) {
      assert.throws(
        () => checkOutputPath(out, 'session.json'),
        (e: unknown) => e instanceof UserError && msg.test(e.message) && hint.test(e.hint ?? '') && e.code === 'bad-output',
        out,
      );
    }
  });

  it('writeOutputFile writes atomically and leaves no temporary file', () => {
    const out = path.join(dir, 'a.json');
    writeOutputFile(out, 'hello');
    assert.equal(fs.readFileSync(out, 'utf8'), 'hello');
    assert.deepEqual(fs.readdirSync(dir), ['a.json']);
  });

  it('writeOutputFile saves to the first rescue folder that works and says where', () => {
    const good = path.join(dir, 'good');
    fs.mkdirSync(good);
    const out = path.join(dir, 'gone', 'rec.json');
    let err: UserError | undefined;
    try {
      writeOutputFile(out, 'data', [path.join(dir, 'also-gone'), good]);
    } catch (e) {
      err = e as UserError;
    }
    assert.ok(err instanceof UserError && err.code === 'output-rescued', String(err));
    const saved = fs.readdirSync(good);
    assert.equal(saved.length, 1);
    assert.match(saved[0]!, /^go-perf-lens-rescued-.*-rec\.json$/);
    assert.equal(fs.readFileSync(path.join(good, saved[0]!), 'utf8'), 'data');
    assert.ok(err.message.includes(path.join(good, saved[0]!)) && /its folder does not exist/.test(err.message), err.message);
  });

  it('writeOutputFile onto a directory: rescued, the directory untouched', () => {
    fs.mkdirSync(path.join(dir, 'd'));
    fs.writeFileSync(path.join(dir, 'd', 'inside'), 'x');
    assert.throws(() => writeOutputFile(path.join(dir, 'd'), 'data', [dir]), /it is a directory|ENOTEMPTY|EISDIR/);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'd')), ['inside']);
    assert.equal(fs.readdirSync(dir).filter((f) => f.includes('.tmp')).length, 0);
  });

  it('writeOutputFile with nowhere to write: output-failed names the folders tried', () => {
    assert.throws(
      () => writeOutputFile(path.join(dir, 'x', 'a'), 'd', [path.join(dir, 'y')]),
      (e: unknown) => e instanceof UserError && e.code === 'output-failed' && e.message.includes(path.join(dir, 'y')),
    );
  });
});
