/**
 * A seeded corpus of damaged inputs — cut at random offsets, bytes flipped, 4- and 8-byte fields
 * set to absurd sizes — made at test time from real files (a Go binary, perf.data in file and
 * pipe mode, a pprof profile, a session), each read by every reader that takes it in its own
 * process (test/support/corpusReader.ts). Each must end in a result or a clear error (UserError,
 * FormatError: never another exception), within a time and a memory bound. The seed is printed;
 * GPL_CORPUS_SEED replays another corpus. The time bound guards against hangs: it is far above
 * what any file takes here, not a speed requirement.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildGoFixture, newestGo } from '../../support/goToolchains';
import { CLI, ensureCli } from '../../support/cliRunner';
import type { CorpusReader } from '../../support/corpusReader';
import { havePerfAndRoot } from '../../support/profileTargets';
import { rng } from '../../support/rng';

const SEED = Number(process.env.GPL_CORPUS_SEED ?? 16);
const PER_BASE = 12;
const TIME_BOUND_MS = 30_000;
const MEMORY_BOUND_MB = 1024;
const READER_JS = path.resolve(__dirname, '../../support/corpusReader.js');

interface Verdict {
  outcome: 'ok' | 'clear' | 'crash' | 'timeout' | 'died';
  message: string;
  peakRssKb: number;
  ms: number;
}

/** One damaged copy of `base`: a cut, flips, or absurd little-endian sizes written over fields. */
function mutate(base: Buffer, next: () => number, i: number): { bytes: Buffer; how: string } {
  const at = (): number => Math.floor(next() * base.length);
  const b = Buffer.from(base);
  switch (i % 3) {
    case 0: {
      const cut = at();
      return { bytes: b.subarray(0, cut), how: `cut at ${cut}` };
    }
    case 1: {
      const n = 1 + Math.floor(next() * 16);
      const where: number[] = [];
      for (let k = 0; k < n; k++) {
        const o = at();
        b[o] = b[o]! ^ (1 + Math.floor(next() * 255));
        where.push(o);
      }
      return { bytes: b, how: `flipped ${where.join(',')}` };
    }
    default: {
      // Absurd sizes: headers are near the start; fields anywhere.
      const n = 1 + Math.floor(next() * 4);
      const where: number[] = [];
      for (let k = 0; k < n; k++) {
        const o = Math.min(b.length - 8, next() < 0.5 ? Math.floor(next() * Math.min(512, b.length)) : at());
        if (o < 0) break;
        if (next() < 0.5) b.writeUInt32LE([0xffffffff, 0x7fffffff, 0x10000000][Math.floor(next() * 3)]!, o);
        else b.writeBigUInt64LE([0xffffffffffffffffn, 0x7fffffffffffffffn, 1n << 40n][Math.floor(next() * 3)]!, o);
        where.push(o);
      }
      return { bytes: b, how: `absurd sizes at ${where.join(',')}` };
    }
  }
}

function runReader(reader: CorpusReader, file: string, goodBinary: string): Promise<Verdict> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [READER_JS, reader, file, goodBinary], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIME_BOUND_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const ms = Date.now() - t0;
      if (signal === 'SIGKILL' && ms >= TIME_BOUND_MS)
        return resolve({ outcome: 'timeout', message: `no answer within ${TIME_BOUND_MS / 1000} s`, peakRssKb: 0, ms });
      try {
        resolve({ ...(JSON.parse(out) as Omit<Verdict, 'ms'>), ms });
      } catch {
        resolve({ outcome: 'died', message: `exit ${code ?? signal}: ${err.slice(-2000)}`, peakRssKb: 0, ms });
      }
    });
  });
}

describe('corrupt-input corpus through every reader [perf, go]', function () {
  this.timeout(900_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-corpus16-'));
  const bases: { name: string; file: string; readers: CorpusReader[] }[] = [];
  let goodBinary: string;

  before(function () {
    this.timeout(300_000);
    if (!havePerfAndRoot()) throw new Error('this test needs perf and root (run scripts/setup.sh, as root)');
    ensureCli();
    goodBinary = buildGoFixture('hotline', newestGo());
    const perfFile = path.join(tmp, 'file.data');
    execFileSync('perf', ['record', '-q', '-o', perfFile, '-F', '999', '-g', '--', goodBinary, '0.5'], { stdio: 'ignore' });
    const perfPipe = path.join(tmp, 'pipe.data');
    execFileSync('bash', ['-c', `perf record -q -o - -F 999 -g -- "$0" 0.5 > "$1"`, goodBinary, perfPipe], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const pprof = path.join(tmp, 'p.pb.gz');
    const session = path.join(tmp, 's.json');
    execFileSync('node', [CLI, 'pprof', perfFile, '--binary', goodBinary, '-o', pprof], { stdio: 'ignore' });
    execFileSync('node', [CLI, 'report', perfFile, '--binary', goodBinary, '--json', '-o', session], { stdio: 'ignore' });
    bases.push(
      { name: 'go-binary', file: goodBinary, readers: ['elf'] },
      { name: 'perf-file-mode', file: perfFile, readers: ['perf', 'perf-file'] },
      { name: 'perf-pipe-mode', file: perfPipe, readers: ['perf', 'perf-file'] },
      { name: 'pprof', file: pprof, readers: ['pprof'] },
      { name: 'pprof-raw', file: path.join(tmp, 'p.pb'), readers: ['pprof'] },
      { name: 'session', file: session, readers: ['session'] },
    );
    fs.writeFileSync(path.join(tmp, 'p.pb'), execFileSync('gunzip', ['-c', pprof]));
    console.log(`      corpus seed ${SEED} (GPL_CORPUS_SEED replays another), ${PER_BASE} damaged copies of each input`);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const name of ['go-binary', 'perf-file-mode', 'perf-pipe-mode', 'pprof', 'pprof-raw', 'session']) {
    it(`${name}: every damaged copy ends in a result or a clear error, within ${TIME_BOUND_MS / 1000} s and ${MEMORY_BOUND_MB} MB`, async () => {
      const base = bases.find((b) => b.name === name)!;
      const bytes = fs.readFileSync(base.file);
      const next = rng(SEED * 1000 + bases.indexOf(base));
      // The undamaged input reads: the readers are the right ones for it.
      for (const r of base.readers) {
        const v = await runReader(r, base.file, goodBinary);
        assert.equal(v.outcome, 'ok', `${r} on the undamaged ${name}: ${v.message}`);
      }
      const problems: string[] = [];
      const counts: Record<string, number> = {};
      let slowest = 0;
      let biggest = 0;
      for (let i = 0; i < PER_BASE; i++) {
        const m = mutate(bytes, next, i);
        const file = path.join(tmp, `${name}-${i}`);
        fs.writeFileSync(file, m.bytes);
        // Two readers at a time at most: the machine is shared.
        const verdicts = await Promise.all(base.readers.map((r) => runReader(r, file, goodBinary).then((v) => ({ r, v }))));
        for (const { r, v } of verdicts) {
          counts[v.outcome] = (counts[v.outcome] ?? 0) + 1;
          slowest = Math.max(slowest, v.ms);
          biggest = Math.max(biggest, v.peakRssKb);
          const mb = v.peakRssKb / 1024;
          if (v.outcome !== 'ok' && v.outcome !== 'clear')
            problems.push(`${r} on copy ${i} (${m.how}): ${v.outcome}: ${v.message.slice(0, 600)}`);
          else if (mb > MEMORY_BOUND_MB) problems.push(`${r} on copy ${i} (${m.how}): ${mb.toFixed(0)} MB`);
        }
        fs.rmSync(file);
      }
      console.log(`      ${name}: ${JSON.stringify(counts)}; slowest ${slowest} ms, peak ${(biggest / 1024).toFixed(0)} MB`);
      assert.deepEqual(problems, []);
      assert.ok((counts.clear ?? 0) > 0, 'some copies must be refused, or the damage did nothing');
    });
  }
});
