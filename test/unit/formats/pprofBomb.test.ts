/**
 * A gzip bomb (a few MB of gzip holding gigabytes of zeros) given as a pprof profile: refused
 * with "larger than N MB when decompressed", in a child process whose peak memory is measured.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { MAX_PPROF_DECOMPRESSED_BYTES, decodePprof, encodePprof } from '../../../src/formats/pprof';
import { UserError } from '../../../src/util/userError';
import { pprofProfile } from '../../support/pprofBuilder';

describe('pprof gzip bomb', function () {
  this.timeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-bomb16-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('4 GiB of zeros in ~4 MB of gzip: a clear error, under 2x the limit of memory, no hang', () => {
    // gzip members concatenate (RFC 1952): 64 copies of one 64 MiB member inflate to 4 GiB.
    const member = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const bomb = path.join(dir, 'bomb.pb.gz');
    fs.writeFileSync(bomb, Buffer.concat(Array.from({ length: 64 }, () => member)));
    // The check itself, in a fresh process: its peak resident memory is what the bomb cost.
    const mod = path.resolve(__dirname, '../../../src/formats/pprof.js');
    const script = `
      const { decodePprof } = require(${JSON.stringify(mod)});
      const bytes = require('fs').readFileSync(${JSON.stringify(bomb)});
      const base = process.resourceUsage().maxRSS;
      let message = 'no error';
      try { decodePprof(bytes); } catch (e) { message = e.message + ' | ' + e.code; }
      process.stdout.write(JSON.stringify({ message, baseKb: base, peakKb: process.resourceUsage().maxRSS }));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { message: string; baseKb: number; peakKb: number };
    assert.match(out.message, /larger than 256 MB when decompressed .*\| input-too-large$/);
    const grewMb = (out.peakKb - out.baseKb) / 1024;
    assert.ok(grewMb < (2 * MAX_PPROF_DECOMPRESSED_BYTES) / (1024 * 1024), `decoding grew the process by ${grewMb.toFixed(0)} MB`);
  });

  it('the limit is the only difference: the same profile decodes under it and is refused over it', () => {
    const p = pprofProfile({
      sampleTypes: [{ type: 'samples', unit: 'count' }],
      durationNanos: 1e9,
      period: 1,
      comments: ['x'.repeat(5000)],
    });
    const gz = zlib.gzipSync(encodePprof(p));
    const raw = zlib.gunzipSync(gz);
    assert.doesNotThrow(() => decodePprof(gz, raw.length));
    assert.throws(
      () => decodePprof(gz, raw.length - 1),
      (e: unknown) => e instanceof UserError && e.code === 'input-too-large',
    );
  });
});
