/**
 * pprof profiles of every kind Go's runtime/pprof writes — heap, allocs, block, mutex,
 * goroutine — from a real Go program built at test time (test/fixtures/go/pprofkinds), opened as
 * heat: every sample type is kept as a metric, and each one, shown, gives per function (self and
 * cumulative) and per line (self) what `go tool pprof -top [-lines] -sample_index=TYPE` gives for
 * the same file, and the same total.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePprof, gzipPprof } from '../../../src/formats/pprof';
import { ingestPprof } from '../../../src/ingest/fromPprof';
import { toPprof } from '../../../src/ingest/toPprof';
import { contentionSampleType } from '../../../src/model/contentionKind';
import { metricsOf, shownMetric, withMetric } from '../../../src/model/metrics';
import type { Profile } from '../../../src/model/profile';
import { HeatIndex } from '../../../src/ui/heatIndex';
import { buildGoFixture, type GoToolchain, goToolchains } from '../../support/goToolchains';

interface Top {
  type: string;
  total: number;
  /** By function name (or "file:line" with -lines): flat summed over rows, cum of the last row, rows seen. */
  rows: Map<string, { flat: number; cum: number; n: number }>;
}

/** `go tool pprof -top` of every node, values as plain numbers (-unit=B/ns prints them whole, with the unit's letter after). */
function pprofTop(tc: GoToolchain, file: string, sampleIndex: string, unit: string, lines = false): Top {
  const out = execFileSync(
    tc.goBin,
    [
      'tool',
      'pprof',
      '-top',
      ...(lines ? ['-lines'] : []),
      '-nodefraction=0',
      '-edgefraction=0',
      '-nodecount=100000',
      `-sample_index=${sampleIndex}`,
      `-unit=${unit}`,
      file,
    ],
    { encoding: 'utf8', env: { ...process.env, GOROOT: tc.goroot, GOTOOLCHAIN: 'local' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const num = (s: string): number => Number(s.replace(/[A-Za-z]+$/, ''));
  const type = /^Type: (\S+)/m.exec(out)?.[1] ?? '';
  const total = num(/of (\S+) total/.exec(out)?.[1] ?? 'NaN');
  const rows: Top['rows'] = new Map();
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)[A-Za-z]*\s+[\d.e+-]+%\s+[\d.e+-]+%\s+(\d+)[A-Za-z]*\s+[\d.e+-]+%\s+(.+?)\s*$/.exec(line);
    if (!m) continue;
    let name = m[3]!.replace(/ \(inline\)$/, '');
    if (lines) name = name.slice(name.lastIndexOf(' ') + 1);
    const r = rows.get(name) ?? { flat: 0, cum: 0, n: 0 };
    rows.set(name, { flat: r.flat + num(m[1]!), cum: num(m[2]!), n: r.n + 1 });
  }
  return { type, total, rows };
}

/** The profile showing metric `id`, checked against go tool pprof for its sample type: total, functions, lines. */
function assertSameAsPprof(tc: GoToolchain, file: string, p: Profile, id: string): void {
  const type = contentionSampleType(id);
  const m = shownMetric(p);
  const unit = m.event.unit === 'bytes' ? 'B' : m.event.unit === 'nanoseconds' ? 'ns' : 'B';
  const ref = pprofTop(tc, file, type, unit);
  assert.equal(ref.type, type);
  assert.equal(p.totalSamples, ref.total, `${type}: total`);
  assert.ok(ref.rows.size >= 2, `${type}: go tool pprof listed only ${ref.rows.size} rows`);
  for (const [name, r] of ref.rows) {
    const f = p.functions.find((x) => x.name === name);
    assert.ok(f, `${type}: go tool pprof lists ${name}; we do not`);
    if (r.n === 1) assert.deepEqual({ flat: f.selfSamples, cum: f.cumSamples }, { flat: r.flat, cum: r.cum }, `${type}: ${name}`);
  }
  // Nothing more than pprof has: every function with a value is one of its rows.
  for (const f of p.functions)
    if (f.cumSamples > 0) assert.ok(ref.rows.has(f.name), `${type}: we list ${f.name} (cum ${f.cumSamples}); pprof does not`);
  // Lines: the self value of each file:line, as pprof -lines -top gives it.
  const byLine = pprofTop(tc, file, type, unit, true);
  const ours = new Map<string, number>();
  for (const l of p.lines) if (l.selfSamples > 0) ours.set(`${l.file}:${l.line1}`, (ours.get(`${l.file}:${l.line1}`) ?? 0) + l.selfSamples);
  const theirs = new Map([...byLine.rows].filter(([, r]) => r.flat > 0).map(([k, r]) => [k, r.flat]));
  assert.ok(theirs.size >= 1, `${type}: go tool pprof -lines listed no line with a value`);
  assert.deepEqual(new Map([...ours].sort()), new Map([...theirs].sort()), `${type}: self per line`);
}

const KINDS: { kind: string; types: string[]; shownFirst: string }[] = [
  { kind: 'heap', types: ['alloc_objects', 'alloc_space', 'inuse_objects', 'inuse_space'], shownFirst: 'inuse_space' },
  { kind: 'allocs', types: ['alloc_objects', 'alloc_space', 'inuse_objects', 'inuse_space'], shownFirst: 'alloc_space' },
  { kind: 'block', types: ['block_contentions', 'block_delay'], shownFirst: 'block_delay' },
  { kind: 'mutex', types: ['mutex_contentions', 'mutex_delay'], shownFirst: 'mutex_delay' },
  { kind: 'goroutine', types: ['goroutine'], shownFirst: 'goroutine' },
];

const all = goToolchains();
for (const tc of all.length > 1 ? [all[0]!, all[all.length - 1]!] : all) {
  describe(`pprof profiles of every kind from a real Go ${tc.version} program open as heat [go toolchain]`, function () {
    this.timeout(300_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gpl-b14-pprofkinds-${tc.version}-`));
    let mainGo = '';
    before(() => {
      const bin = buildGoFixture('pprofkinds', tc);
      const out = execFileSync(bin, [dir], { encoding: 'utf8', timeout: 120_000 });
      assert.match(out, /done/);
      mainGo = fs.realpathSync(path.join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'go', 'pprofkinds', 'main.go'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    for (const { kind, types, shownFirst } of KINDS) {
      it(`${kind}: every sample type is kept; each, shown, gives go tool pprof's figures per function and line`, () => {
        const file = path.join(dir, `${kind}.pb.gz`);
        const p = ingestPprof(decodePprof(fs.readFileSync(file)));
        assert.deepEqual(
          metricsOf(p).map((m) => m.id),
          types,
        );
        assert.equal(shownMetric(p).id, shownFirst);
        for (const t of types) assertSameAsPprof(tc, file, withMetric(p, t)!, t);
        // Export pprof… writes every metric back: go tool pprof reads the same figures from our file.
        const exported = path.join(dir, `${kind}.export.pb.gz`);
        fs.writeFileSync(exported, gzipPprof(toPprof(p)));
        assert.deepEqual(
          metricsOf(ingestPprof(decodePprof(fs.readFileSync(exported)))).map((m) => m.id),
          types,
        );
        for (const t of types) assertSameAsPprof(tc, exported, withMetric(p, t)!, t);
      });
    }

    it('the block and the mutex profile are told apart: metrics of their own, named for their kind, none in common', () => {
      const read = (kind: string): Profile => ingestPprof(decodePprof(fs.readFileSync(path.join(dir, `${kind}.pb.gz`))));
      const block = metricsOf(read('block'));
      const mutex = metricsOf(read('mutex'));
      assert.deepEqual(
        block.map((m) => m.label),
        ['Blocking: contentions', 'Blocking: delay'],
      );
      assert.deepEqual(
        mutex.map((m) => m.label),
        ['Mutex contention: contentions', 'Mutex contention: delay'],
      );
      // So "Show heat for…" names them apart and a baseline of one is never compared with the other.
      assert.ok(!block.some((b) => mutex.some((m) => m.id === b.id)));
      // The mutex profile charges the waits for mu to the Unlock of the goroutine holding it; the block profile to the waiter's Lock.
      const self = (p: Profile, name: string): number => p.functions.find((f) => f.name === name)?.selfSamples ?? 0;
      const cum = (p: Profile, name: string): number => p.functions.find((f) => f.name === name)?.cumSamples ?? 0;
      const m = read('mutex');
      const b = read('block');
      assert.ok(self(m, 'sync.(*Mutex).Unlock') > 0 && cum(m, 'main.waitMutex.func1') > 0, 'mutex: the holder’s Unlock');
      assert.ok(self(b, 'sync.(*Mutex).Lock') > 0 && cum(b, 'main.waitMutex') > 0, 'block: the waiter’s Lock');
      assert.equal(self(b, 'sync.(*Mutex).Unlock') + self(m, 'sync.(*Mutex).Lock'), 0);
    });

    it('the heat follows the metric: the line allocating 64 KiB blocks leads in bytes, the 32-byte one in objects', () => {
      const p = ingestPprof(decodePprof(fs.readFileSync(path.join(dir, 'allocs.pb.gz'))));
      const src = fs.readFileSync(mainGo, 'utf8').split('\n');
      const big = src.findIndex((l) => l.includes('make([]byte, 64<<10)')) + 1;
      const small = src.findIndex((l) => l.includes('make([]byte, 32)')) + 1;
      const heatOf = (q: Profile, line: number): number =>
        new HeatIndex(q, (f) => (f === mainGo || fs.existsSync(f) ? fs.realpathSync(f) : undefined))
          .heatFor(mainGo, { basis: 'self', showFigure: true, amount: 'samples', threshold: 0 })
          .find((h) => h.line1 === line)?.share ?? 0;
      const bytes = withMetric(p, 'alloc_space')!;
      const objects = withMetric(p, 'alloc_objects')!;
      assert.ok(heatOf(bytes, big) > 0.9 && heatOf(bytes, small) < 0.1, `bytes: ${heatOf(bytes, big)} / ${heatOf(bytes, small)}`);
      assert.ok(heatOf(objects, small) > 0.9 && heatOf(objects, big) < 0.1, `objects: ${heatOf(objects, small)} / ${heatOf(objects, big)}`);
      // 200,000 × 32 B, every allocation recorded (MemProfileRate 1): exact.
      assert.equal(objects.lines.find((l) => l.line1 === small && l.file === mainGo)?.selfSamples, 200_000);
      assert.equal(bytes.lines.find((l) => l.line1 === small && l.file === mainGo)?.selfSamples, 6_400_000);
    });
  });
}
