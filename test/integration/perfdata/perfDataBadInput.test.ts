/**
 * Broken perf.data: real recordings cut at many offsets and with flipped bytes. The rule: a
 * FormatError, or a result — and a result of a file cut short says so (`truncated`) and
 * keeps exactly the whole sample records before the cut. Never another exception, never a hang.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chainU64, ipU64, parsePerfData, parsePerfDataFile, type PerfData } from '../../../src/formats/perfData';
import { readPerfDataFile } from '../../../src/ingest/readPerfDataFile';
import { FormatError } from '../../../src/util/byteReader';
import { rng } from '../../support/rng';
import { buildGoFixture, newestGo } from '../../support/goToolchains';
import { havePerf, perfDump, perfRecord, type DumpSample } from './perfReference';

function tryParse(bytes: Uint8Array, what: string): PerfData | FormatError {
  const res = parseOrError(() => parsePerfData(bytes), what);
  // Read in pieces (parsePerfDataFile, as the CLI reads files): exactly the same outcome.
  const piece = 4096 + (bytes.length % 997);
  const pieces = parseOrError(
    () =>
      parsePerfDataFile(
        bytes.length,
        (pos, buf, at, len) => {
          const n = Math.max(0, Math.min(len, bytes.length - pos));
          buf.set(bytes.subarray(pos, pos + n), at);
          return n;
        },
        piece,
      ),
    `${what}, read in pieces of ${piece} bytes`,
  );
  if (res instanceof FormatError) {
    assert.ok(pieces instanceof FormatError, `${what}: an error when whole, a result in pieces`);
    assert.deepEqual(
      [pieces.message, pieces.section, pieces.offset],
      [res.message, res.section, res.offset],
      `${what}: the same error in pieces`,
    );
  } else {
    assert.deepStrictEqual(pieces, res, `${what}: the same result in pieces`);
  }
  return res;
}

function parseOrError(parse: () => PerfData, what: string): PerfData | FormatError {
  try {
    return parse();
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw new Error(`${what}: not a FormatError: ${(e as Error)?.stack ?? String(e)}`);
  }
}

/** Section boundaries of a file-mode perf.data, read independently of the parser. */
function fileLayout(b: Buffer): { cuts: number[]; dataStart: number; dataEnd: number; wholeEnd: number } {
  const u64 = (o: number) => Number(b.readBigUInt64LE(o));
  const attrSize = u64(16),
    attrsOff = u64(24),
    attrsSize = u64(32),
    dataOff = u64(40),
    dataSize = u64(48);
  const cuts = [
    0,
    1,
    7,
    8,
    15,
    16,
    24,
    40,
    56,
    72,
    88,
    103,
    104,
    attrsOff,
    attrsOff + 4,
    attrsOff + attrSize - 16,
    attrsOff + attrsSize - 1,
    dataOff - 1,
    dataOff,
    dataOff + 4,
    dataOff + 8,
  ];
  // ids of each attr
  for (let a = attrsOff; a < attrsOff + attrsSize; a += attrSize) {
    const idsOff = u64(a + attrSize - 16),
      idsSize = u64(a + attrSize - 8);
    cuts.push(idsOff, idsOff + Math.floor(idsSize / 2));
  }
  let nfeat = 0;
  for (let w = 0; w < 4; w++) {
    let x = b.readBigUInt64LE(72 + w * 8);
    while (x) {
      nfeat += Number(x & 1n);
      x >>= 1n;
    }
  }
  const table = dataOff + dataSize;
  let wholeEnd = table + nfeat * 16;
  cuts.push(table, table + 8, table + nfeat * 8);
  for (let k = 0; k < nfeat; k++) {
    const off = u64(table + k * 16),
      size = u64(table + k * 16 + 8);
    cuts.push(off, off + 4, off + Math.floor(size / 2), off + size - 1);
    wholeEnd = Math.max(wholeEnd, off + size);
  }
  return { cuts: cuts.filter((c) => c >= 0 && c < b.length), dataStart: dataOff, dataEnd: table, wholeEnd };
}

describe('perf.data reader on broken files [root, perf]', function () {
  let dir: string;
  let file: Buffer, pipe: Buffer;
  let fileSamples: DumpSample[], pipeSamples: DumpSample[];
  let pipeRecords: Set<number>;
  let full: PerfData, pipeFull: PerfData;

  before(function () {
    if (!havePerf()) throw new Error('perf is missing: run scripts/setup.sh');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perfdata-bad-'));
    const bin = buildGoFixture('perfload', newestGo());
    const args = ['-g', '--call-graph', 'fp', '-F', '999', '-e', 'cpu-clock'];
    perfRecord(path.join(dir, 'f.data'), args, [bin, '-duration', '1s', '-workers', '2']);
    perfRecord(path.join(dir, 'p.data'), args, [bin, '-duration', '1s', '-workers', '2'], true);
    file = fs.readFileSync(path.join(dir, 'f.data'));
    pipe = fs.readFileSync(path.join(dir, 'p.data'));
    fileSamples = perfDump(path.join(dir, 'f.data')).samples;
    const pd = perfDump(path.join(dir, 'p.data'));
    pipeSamples = pd.samples;
    pipeRecords = pd.recordOffsets;
    full = parsePerfData(file);
    pipeFull = parsePerfData(pipe);
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A result of a cut file keeps exactly the samples whose records end before the cut, equal to the whole file's. */
  function checkPrefix(r: PerfData, whole: PerfData, samples: DumpSample[], cut: number): void {
    const kept = samples.filter((s) => s.offset + s.size <= cut).length;
    assert.equal(r.samples.count, kept, `cut at ${cut}: samples kept`);
    const n = r.samples.count;
    for (const col of ['pid', 'tid', 'time', 'ip', 'period', 'chainLength'] as const) {
      assert.deepEqual(r.samples[col].subarray(0, n), whole.samples[col].subarray(0, n), `cut at ${cut}: ${col}`);
    }
    const chainLen = n ? r.samples.chainOffset[n - 1]! + r.samples.chainLength[n - 1]! : 0;
    assert.deepEqual(r.samples.chain.subarray(0, chainLen), whole.samples.chain.subarray(0, chainLen));
  }

  it('file mode cut at ~200 offsets (header, attrs, ids, every feature section, mid-record): FormatError or truncated with the whole records', function () {
    const lay = fileLayout(file);
    const r = rng(42);
    const cuts = new Set(lay.cuts);
    // Mid-record cuts: inside and at the edges of sample records.
    for (const s of fileSamples.filter(() => r() < 0.1).slice(0, 60)) {
      cuts.add(s.offset);
      cuts.add(s.offset + 3);
      cuts.add(s.offset + Math.floor(s.size / 2));
    }
    while (cuts.size < 200) cuts.add(Math.floor(r() * file.length));
    let errors = 0,
      truncated = 0;
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      const res = tryParse(file.subarray(0, cut), `cut at ${cut}`);
      if (res instanceof FormatError) {
        errors++;
        // Only the header and attrs are fatal; a cut in the data or features is not.
        assert.ok(cut < lay.dataStart, `cut at ${cut} (data starts at ${lay.dataStart}) threw: ${res.message}`);
        assert.ok(res.offset <= file.length);
        continue;
      }
      assert.ok(cut >= lay.dataStart, `cut at ${cut} before the data gave a result`);
      if (cut < lay.wholeEnd) {
        assert.ok(res.truncated, `cut at ${cut} of ${file.length}: no truncated flag`);
        truncated++;
        assert.ok(res.truncated.reason.length > 10);
      }
      checkPrefix(res, full, fileSamples, cut);
    }
    assert.ok(errors > 10 && truncated > 100, `${errors} errors, ${truncated} truncated`);
  });

  it('pipe mode cut at ~200 offsets: FormatError before the first attr, else truncated with the whole records', function () {
    const r = rng(7);
    const cuts = new Set<number>([0, 1, 8, 15, 16, 17, 24, 100]);
    for (const s of pipeSamples.filter(() => r() < 0.1).slice(0, 50)) {
      cuts.add(s.offset);
      cuts.add(s.offset + 5);
      cuts.add(s.offset + s.size - 1);
    }
    while (cuts.size < 200) cuts.add(Math.floor(r() * pipe.length));
    let truncated = 0;
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      const res = tryParse(pipe.subarray(0, cut), `pipe cut at ${cut}`);
      if (res instanceof FormatError) continue;
      // A stream has no declared length: a cut between records looks complete, any other cut must say so.
      assert.ok(res.truncated || pipeRecords.has(cut), `pipe cut at ${cut}: no truncated flag`);
      truncated += res.truncated ? 1 : 0;
      checkPrefix(res, pipeFull, pipeSamples, cut);
    }
    assert.ok(truncated > 100, `only ${truncated} truncated results`);
  });

  it('~200 seeded byte flips in each mode: FormatError or a result, nothing else', function () {
    for (const [name, bytes] of [
      ['file', file],
      ['pipe', pipe],
    ] as const) {
      const r = rng(name === 'file' ? 1 : 2);
      let errors = 0;
      for (let k = 0; k < 200; k++) {
        const b = Buffer.from(bytes);
        // Half the flips hit the first 4 KiB (header, attrs, first records), where they hurt most.
        const n = 1 + Math.floor(r() * 3);
        const at: number[] = [];
        for (let j = 0; j < n; j++) {
          const pos = Math.floor(r() * (k % 2 ? b.length : Math.min(4096, b.length)));
          b[pos] ^= 1 + Math.floor(r() * 255);
          at.push(pos);
        }
        const res = tryParse(b, `${name} flips at ${at.join(',')}`);
        if (res instanceof FormatError) errors++;
        else assert.ok(res.samples.count <= b.length / 8);
      }
      assert.ok(errors > 0, `${name}: no flip was detected at all`);
    }
  });

  it('a recording whose perf was killed (SIGKILL) keeps its samples: the same ones perf reads once the header is repaired', async function () {
    const out = path.join(dir, 'killed.data');
    const bin = buildGoFixture('perfload', newestGo());
    const perf = spawn(
      'perf',
      ['record', '-m', '4', '-g', '-F', '999', '-e', 'cpu-clock', '-o', out, '--', bin, '-duration', '4s', '-workers', '2'],
      { stdio: 'ignore' },
    );
    // Let perf write some rounds (this machine may be busy): wait for the file to grow.
    for (let waited = 0; waited < 8000; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      if (waited >= 1500 && fs.existsSync(out) && fs.statSync(out).size > 64 * 1024) break;
    }
    // perf's child is the fixture: note it before killing perf, then stop it too.
    let children: number[] = [];
    try {
      children = fs.readFileSync(`/proc/${perf.pid}/task/${perf.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      /* already gone */
    }
    perf.kill('SIGKILL');
    for (const c of children) {
      try {
        process.kill(c, 'SIGKILL');
      } catch {
        /* exited */
      }
    }
    await new Promise((r) => perf.once('exit', r));
    const bytes = fs.readFileSync(out);
    const d = parsePerfData(bytes);
    assert.deepStrictEqual(readPerfDataFile(out), d, 'read from disk in pieces: the same');
    assert.ok(d.truncated, 'a killed recording is reported as truncated');
    assert.match(d.truncated.reason, /killed/);
    assert.ok(d.samples.count > 10, `${d.samples.count} samples`);
    // perf cannot read it (data size 0 in the header); write the size in a copy and ask perf.
    // The size covers the whole records (a last one perf was writing when killed may be partial).
    const fixed = Buffer.from(bytes);
    const dataOff = Number(fixed.readBigUInt64LE(40));
    fixed.writeBigUInt64LE(BigInt(d.truncated.offset - dataOff), 48);
    fs.writeFileSync(path.join(dir, 'repaired.data'), fixed);
    const ref = perfDump(path.join(dir, 'repaired.data')).samples;
    assert.equal(d.samples.count, ref.length);
    const s = d.samples;
    for (let i = 0; i < s.count; i++) {
      const chain = Array.from({ length: s.chainLength[i]! }, (_, k) => chainU64(s, s.chainOffset[i]! + k));
      assert.deepEqual(
        { pid: s.pid[i], tid: s.tid[i], time: s.time[i], ip: ipU64(s, i), chain },
        { pid: ref[i]!.pid, tid: ref[i]!.tid, time: ref[i]!.time, ip: ref[i]!.ip, chain: ref[i]!.chain },
      );
    }
  });

  it('a file that is not perf.data is a FormatError at offset 0', function () {
    const elf = fs.readFileSync(buildGoFixture('perfload', newestGo()));
    for (const b of [elf, Buffer.alloc(0), Buffer.from('PERFILE'), Buffer.from('hello world, this is not perf data at all\n')]) {
      const res = tryParse(b, 'non-perf file');
      assert.ok(res instanceof FormatError, 'expected a FormatError');
      assert.equal(res.offset, 0);
      assert.equal(res.section, 'perf.data header');
    }
  });
});
