import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { readProfileFile, sniffProfile } from '../../../src/commands/readProfileFile';
import { decodePprof } from '../../../src/formats/pprof';
import { makeSession, saveSession } from '../../../src/model/session';
import { UserError } from '../../../src/util/userError';
import { cpuProfileUntil } from '../../support/cpuProfileUntil';
import { buildGoFixture, newestGo } from '../../support/goToolchains';

const noBinary = async (): Promise<string | undefined> => {
  throw new Error('asked for a binary, but this file needs none');
};

describe('commands: Open profile reads sessions and pprof files [go toolchain]', function () {
  let dir: string;
  let svc: ChildProcess | undefined;
  let pb: Buffer;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-open-'));
    svc = spawn(buildGoFixture('exampleservice', newestGo()), ['-addr', '127.0.0.1:0', '-pprof'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const addr = await new Promise<string>((resolve, reject) => {
      let buf = '';
      svc!.stdout!.on('data', (d: Buffer) => {
        const m = /listening on (\S+)/.exec((buf += d.toString()));
        if (m) resolve(m[1]!);
      });
      svc!.once('exit', (c) => reject(new Error(`service exited with ${c}`)));
    });
    let stop = false;
    const drive = async (): Promise<void> => {
      while (!stop) await (await fetch(`http://${addr}/checksum?n=3`)).arrayBuffer();
    };
    const loads = [drive(), drive()];
    try {
      // 1 s profiles until one has samples (a loaded machine may give the service no CPU in one).
      pb = Buffer.from((await cpuProfileUntil(`http://${addr}`, 1, (pp) => pp.samples.length > 0)).bytes);
    } finally {
      stop = true;
      await Promise.all(loads);
    }
  });
  after(() => {
    svc?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a gzipped pprof from Go’s own profiler, and the same ungzipped, give the same profile', async () => {
    const gz = path.join(dir, 'cpu.pb.gz');
    const raw = path.join(dir, 'cpu.pb');
    fs.writeFileSync(gz, pb);
    fs.writeFileSync(raw, zlib.gunzipSync(pb));
    assert.equal(sniffProfile(pb.subarray(0, 256)), 'pprof');
    const a = await readProfileFile(gz, noBinary);
    const b = await readProfileFile(raw, noBinary);
    assert.equal(a.label, 'cpu.pb.gz');
    const pp = decodePprof(pb);
    const vi = pp.sampleTypes.findIndex((t) => t.type === 'samples');
    assert.equal(
      a.profile.totalSamples,
      pp.samples.reduce((n, s) => n + s.values[vi]!, 0),
    );
    assert.ok(a.profile.totalSamples > 0);
    assert.deepEqual(b.profile, a.profile);
  });

  it('a saved session comes back as it was saved, with its label', async () => {
    const p = (await readProfileFile(path.join(dir, 'cpu.pb.gz'), noBinary)).profile;
    const file = path.join(dir, 'saved.json');
    saveSession(file, { ...makeSession(p), label: 'checksum run' } as ReturnType<typeof makeSession>);
    const back = await readProfileFile(file, noBinary);
    assert.equal(back.label, 'checksum run');
    assert.deepEqual(back.profile, p);
  });

  it('anything else is a clear error, not a stack trace', async () => {
    const junk = path.join(dir, 'notes.txt');
    fs.writeFileSync(junk, 'these are not samples\n');
    await assert.rejects(
      readProfileFile(junk, noBinary),
      (e: unknown) => e instanceof UserError && e.code === 'unknown-format' && /perf\.data|pprof|session/.test(e.hint ?? ''),
    );
    // A text file whose first byte happens to look like a protobuf tag ('P' = field 10, varint).
    const p = path.join(dir, 'P.txt');
    fs.writeFileSync(p, 'Plain text, not a profile\n');
    await assert.rejects(readProfileFile(p, noBinary), (e: unknown) => e instanceof UserError && e.code === 'unknown-format');
    await assert.rejects(
      readProfileFile(path.join(dir, 'missing.pb.gz'), noBinary),
      (e: unknown) => e instanceof UserError && e.code === 'unreadable',
    );
  });
});
