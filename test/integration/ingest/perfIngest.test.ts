/**
 * perf.data → model, against independent references on real recordings of real Go programs:
 * perf script's own callchains (physical functions), llvm-symbolizer (inline chains and lines),
 * and go tool pprof reading our export.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parsePerfData } from '../../../src/formats/perfData';
import { decodePprof, gzipPprof } from '../../../src/formats/pprof';
import { recordPerf } from '../../../src/capture';
import { ingestPerfData } from '../../../src/ingest/fromPerfData';
import { StreamedPerfIngest } from '../../../src/ingest/streamedPerf';
import { ingestPprof } from '../../../src/ingest/fromPprof';
import { loadBinary } from '../../../src/ingest/loadBinary';
import { toPprof } from '../../../src/ingest/toPprof';
import type { Profile } from '../../../src/model/profile';
import { loadSession, makeSession, saveSession } from '../../../src/model/session';
import { buildGoFixture, goToolchains, newestGo } from '../../support/goToolchains';
import { llvmSymbolize } from '../../support/llvmSymbolizer';
import { declKey, goFuncLines } from '../../support/goFuncLines';
import { openSymbolizer } from '../../../src/symbolize/openSymbolizer';
import {
  buildGoPackage,
  havePerfAndRoot,
  perfRecordCommand,
  perfRecordPid,
  perfScriptSymbols,
  startLoad,
  startService,
  stopAllTargets,
} from '../../support/profileTargets';

/** perf names assembly functions by their ELF symbol (with the ABI suffix); Go's tables do not. */
const perfName = (s: string): string => s.replace(/\.abi(0|internal)$/, '');

/** Per physical function: samples whose stack holds it (once per sample), from our stack table. */
function ourPhysicalCum(p: Profile): Map<string, number> {
  const cum = new Map<string, number>();
  const st = p.stacks!;
  st.stacks.forEach((stack, i) => {
    const names = new Set<string>();
    for (const l of stack) {
      const fr = st.locations[l]!.frames;
      if (fr.length) names.add(p.functions[fr[fr.length - 1]!.function]!.name);
    }
    for (const n of names) cum.set(n, (cum.get(n) ?? 0) + st.counts[i]!);
  });
  return cum;
}

/** The same from perf script: frames in the binary, perf's symbol per frame, once per sample. */
function perfPhysicalCum(file: string, binary: string): { cum: Map<string, number>; samples: number } {
  const cum = new Map<string, number>();
  const all = perfScriptSymbols(file);
  for (const s of all) {
    const names = new Set(s.filter((f) => f.dso === binary).map((f) => perfName(f.sym)));
    for (const n of names) cum.set(n, (cum.get(n) ?? 0) + 1);
  }
  return { cum, samples: all.length };
}

/** A profile with ids resolved to names (ids depend on the order things were first seen). */
function canonical(p: Profile): unknown {
  const fn = (id: number) => p.functions[id]!.name;
  const st = p.stacks!;
  const loc = (l: number) => {
    const x = st.locations[l]!;
    return `${x.address}:${x.frames.map((f) => `${fn(f.function)}@${f.file ?? p.functions[f.function]!.file}:${f.line1}`).join('<')}`;
  };
  const stacks = new Map<string, number>();
  st.stacks.forEach((s, i) => stacks.set(s.map(loc).join(';'), st.counts[i]!));
  const t = p.callTree;
  const paths: string[] = [];
  const tree = t.parents.map((par, i) => {
    paths[i] = `${par >= 0 ? `${paths[par]}>` : ''}${fn(t.functions[i]!)}@${t.callLines[i]}`;
    return `${paths[i]} ${t.totalSamples[i]}/${t.selfSamples[i]}`;
  });
  const { functions, lines, stacks: _s, callTree: _t, ...rest } = p;
  return {
    rest,
    functions: [...functions].sort((a, b) => a.name.localeCompare(b.name)),
    lines: [...lines].sort((a, b) => a.file.localeCompare(b.file) || a.line1 - b.line1),
    stacks: [...stacks].sort(),
    tree: tree.sort(),
  };
}

function goTool(args: string[], cwd?: string): string {
  const tc = newestGo();
  return execFileSync(tc.goBin, ['tool', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    cwd,
    env: { ...process.env, GOROOT: tc.goroot, GOTOOLCHAIN: 'local' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** `go tool pprof -top` rows: name → flat, cum (in samples). */
function pprofTop(file: string, n: number): Map<string, { flat: number; cum: number }> {
  const out = goTool(['pprof', '-top', `-nodecount=${n}`, '-sample_index=samples', file]);
  const rows = new Map<string, { flat: number; cum: number }>();
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+[\d.]+%\s+[\d.]+%\s+(\d+)\s+[\d.]+%\s+(.+?)\s*$/.exec(line);
    // pprof marks functions that only ever ran inlined with " (inline)".
    if (m) rows.set(m[3]!.replace(/ \(inline\)$/, ''), { flat: Number(m[1]), cum: Number(m[2]) });
  }
  return rows;
}

/**
 * Runs `work` against the example service (newest Go) while its load generator drives it, then
 * stops both, also when `work` fails. Returns the service's binary.
 */
async function withServiceUnderLoad(work: (pid: number, binary: string) => unknown): Promise<string> {
  const tc = newestGo();
  const binary = buildGoFixture('exampleservice', tc);
  const svc = await startService(binary);
  const load = startLoad(buildGoPackage('exampleservice', './cmd/load', tc), svc.url, 60);
  try {
    await new Promise((r) => setTimeout(r, 500));
    await work(svc.pid, binary);
    return binary;
  } finally {
    load.proc.kill('SIGTERM');
    await load.done;
    await svc.stop();
  }
}

describe('ingest perf.data [root, perf, go]', function () {
  this.timeout(300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-ingest-'));
  before(function () {
    if (!havePerfAndRoot()) throw new Error('these tests need root and perf (run scripts/setup.sh, as root)');
  });
  after(() => {
    stopAllTargets();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('a recording streamed in by the helper and ingested as it came (StreamedPerfIngest)', () => {
    let binary: string;
    let live: StreamedPerfIngest;
    let streamed: Profile;
    let dataFile: string;
    let chunks = 0;
    /** The profiles so far handed over while it recorded (live heat), with the advance each came from. */
    const snapshots: { profile: Profile; advance: number }[] = [];
    before(async function () {
      binary = await withServiceUnderLoad(async (pid, bin) => {
        live = new StreamedPerfIngest(loadBinary(bin), { pid }, (profile) => snapshots.push({ profile, advance: live.advances }));
        const rec = await recordPerf(
          { kind: 'local' },
          { pid, durationSec: 4, freqHz: 999, event: 'cpu-clock', stream: true },
          {
            onData: (c) => {
              chunks++;
              live.push(c);
            },
          },
        );
        dataFile = path.join(tmp, 'streamed.data');
        fs.copyFileSync(rec.perfDataPath, dataFile);
        fs.rmSync(rec.tempDir, { recursive: true, force: true });
        streamed = live.finish({ size: fs.statSync(dataFile).size, read: () => fs.readFileSync(dataFile) }, { pid });
      });
    });

    it('was taken in while it was recorded, not only at its end', () => {
      assert.ok(chunks >= 3, `${chunks} pieces of perf.data`);
      assert.ok(live.advances >= 2, `taken in ${live.advances} time(s) while recording`);
    });

    it('handed over the profile so far each time it took samples in (live heat): growing, each within the whole', () => {
      assert.ok(snapshots.length >= 2, `${snapshots.length} profile(s) handed over while recording`);
      assert.deepEqual(
        snapshots.map((s) => s.advance),
        snapshots.map((_, i) => snapshots[0]!.advance + i),
        'one per take-in',
      );
      const finalCum = new Map(streamed.functions.map((f) => [f.name, f.cumSamples]));
      let before = 0;
      for (const { profile } of snapshots) {
        assert.ok(
          profile.totalSamples > before && profile.totalSamples <= streamed.totalSamples,
          `${profile.totalSamples} after ${before}`,
        );
        before = profile.totalSamples;
        for (const f of profile.functions)
          assert.ok(f.cumSamples <= (finalCum.get(f.name) ?? 0), `${f.name}: ${f.cumSamples} so far, ${finalCum.get(f.name)} in the whole`);
        assert.equal(profile.target?.pid, streamed.target?.pid);
      }
    });

    it('counts every sample perf script shows, and the same per-function cumulative counts', () => {
      const ref = perfPhysicalCum(dataFile, binary);
      assert.equal(streamed.totalSamples, ref.samples);
      assert.ok(streamed.totalSamples > 200, `only ${streamed.totalSamples} samples`);
      // Through the stream without the frameless-caller repair: exactly perf's stacks.
      const plain = new StreamedPerfIngest(loadBinary(binary), { repairFramelessCallers: false });
      const bytes = fs.readFileSync(dataFile);
      for (let at = 0; at < bytes.length; at += 50_000) {
        plain.push(bytes.subarray(at, at + 50_000));
        plain.advance();
      }
      const asPerf = plain.finish({ size: bytes.length, read: () => bytes }, { repairFramelessCallers: false });
      const ours = ourPhysicalCum(asPerf);
      const diffs: string[] = [];
      for (const name of new Set([...ours.keys(), ...ref.cum.keys()])) {
        if ((ours.get(name) ?? 0) !== (ref.cum.get(name) ?? 0))
          diffs.push(`${name}: ours ${ours.get(name) ?? 0}, perf script ${ref.cum.get(name) ?? 0}`);
      }
      assert.deepEqual(diffs, []);
    });

    it('gives the model a whole-file ingest gives (the profiles handed over on the way changed nothing): functions, lines, stacks, call tree', () => {
      const whole = ingestPerfData(parsePerfData(fs.readFileSync(dataFile)), loadBinary(binary), { pid: streamed.target!.pid! });
      assert.deepEqual(canonical(streamed), canonical(whole));
    });
  });

  describe('the example service under load (newest Go)', () => {
    let binary: string;
    let dataFile: string;
    let profile: Profile;
    before(async function () {
      dataFile = path.join(tmp, 'svc.data');
      binary = await withServiceUnderLoad((pid) => perfRecordPid(pid, 3, dataFile));
      profile = ingestPerfData(parsePerfData(fs.readFileSync(dataFile)), loadBinary(binary));
    });

    it('counts every sample perf script shows, and the same per-function cumulative counts', () => {
      const ref = perfPhysicalCum(dataFile, binary);
      // perf's own view: the stacks as the frame-pointer walk recorded them.
      const asPerf = ingestPerfData(parsePerfData(fs.readFileSync(dataFile)), loadBinary(binary), { repairFramelessCallers: false });
      assert.equal(asPerf.totalSamples, ref.samples);
      assert.equal(profile.totalSamples, ref.samples);
      assert.ok(profile.totalSamples > 200, `only ${profile.totalSamples} samples`);
      const ours = ourPhysicalCum(asPerf);
      // With callers put back at frameless leaves, counts only grow, by at most the repaired samples.
      const repaired = ourPhysicalCum(profile);
      for (const [name, n] of ours) {
        const r = repaired.get(name) ?? 0;
        assert.ok(r >= n && r - n <= (profile.repairedCallerSamples ?? 0), `${name}: ${n} as perf sees it, ${r} repaired`);
      }
      const diffs: string[] = [];
      for (const name of new Set([...ours.keys(), ...ref.cum.keys()])) {
        if ((ours.get(name) ?? 0) !== (ref.cum.get(name) ?? 0))
          diffs.push(`${name}: ours ${ours.get(name) ?? 0}, perf script ${ref.cum.get(name) ?? 0}`);
      }
      assert.deepEqual(diffs, []);
    });

    it('resolves every distinct address to the inline chain llvm-symbolizer gives', () => {
      const st = profile.stacks!;
      const locs = st.locations.filter((l) => l.address !== undefined);
      const ref = llvmSymbolize(
        binary,
        locs.map((l) => BigInt(l.address!)),
      );
      const diffs: string[] = [];
      locs.forEach((l, i) => {
        // Named difference: compiler-generated wrappers (method values "-fm", promoted methods)
        // are "<autogenerated>:1" in Go's pclntab (what Go's own tools print), and line 0 or 1
        // in DWARF: lines 0 and 1 of "<autogenerated>" count as the same.
        // (The frame's own file: an ABI wrapper's frames are "<autogenerated>" while the function
        // of the same name it wraps is declared in a real file.)
        const fileOf = (f: { function: number; file?: string }): string | undefined => f.file ?? profile.functions[f.function]!.file;
        const lineOf = (f: { function: number; line1: number; file?: string }): number =>
          fileOf(f) === '<autogenerated>' && f.line1 === 1 ? 0 : f.line1;
        const ours = l.frames.map((f) => `${profile.functions[f.function]!.name}:${lineOf(f)}`).join(' < ');
        // Named difference: DWARF names assembly functions with their ABI suffix (".abi0"),
        // Go's own tables (and so Go's tools) without; and llvm prints an empty frame where
        // nothing covers an address (we give none).
        const generated = (k: number): boolean => l.frames[k] !== undefined && fileOf(l.frames[k]!) === '<autogenerated>';
        const theirs = ref[i]!.filter((f) => f.function !== '')
          .map((f, k) => `${perfName(f.function)}:${generated(k) && f.line === 1 ? 0 : f.line}`)
          .join(' < ');
        if (ours !== theirs) diffs.push(`${l.address}: ours ${ours} | llvm ${theirs}`);
      });
      assert.deepEqual(diffs.slice(0, 20), []);
    });

    it('counts inlined functions as their own entries (main.mix inlined into main.checksum)', () => {
      const mix = profile.functions.find((f) => f.name === 'main.mix');
      assert.ok(mix && mix.cumSamples > 0, 'main.mix has samples');
      assert.equal(mix.inlinedOnly, true);
      const handler = profile.functions.find((f) => f.name === 'main.handleChecksum')!;
      assert.ok(handler.cumSamples >= mix.cumSamples);
    });

    it('gives functions seen only inlined their `func` line (gopclntab and DWARF), as go/ast finds it', () => {
      const bytes = new Uint8Array(fs.readFileSync(binary));
      const dwarfBin = { ...loadBinary(binary), symbolizer: openSymbolizer(bytes, binary, 'dwarf').symbolizer };
      const viaDwarf = ingestPerfData(parsePerfData(fs.readFileSync(dataFile)), dwarfBin);
      for (const [backend, p] of [
        ['gopclntab', profile],
        ['dwarf', viaDwarf],
      ] as const) {
        const inlined = p.functions.filter((f) => f.inlinedOnly && f.file && declKey(f.name) !== undefined);
        const lines = goFuncLines(newestGo(), [...new Set(inlined.map((f) => f.file!))]);
        const diffs: string[] = [];
        let checked = 0;
        for (const f of inlined) {
          const want = lines.get(f.file!)?.get(declKey(f.name)!);
          if (want === undefined) continue; // declared in a file go/ast could not read here
          checked++;
          if (f.line1 !== want) diffs.push(`${f.name}: ours ${f.file}:${f.line1}, go/ast ${want}`);
        }
        assert.ok(checked >= 1 && inlined.some((f) => f.name === 'main.mix'), `${backend}: ${checked} inlined-only functions checked`);
        assert.deepEqual(diffs, [], backend);
      }
    });

    it('keeps call-tree totals consistent with the function counts', () => {
      const t = profile.callTree;
      const rootsTotal = t.parents.reduce((s, p, i) => (p === -1 ? s + t.totalSamples[i]! : s), 0);
      assert.equal(rootsTotal, profile.totalSamples - profile.unattributedSamples);
      for (let i = 0; i < t.parents.length; i++) {
        const kids = t.parents.reduce((s, p, j) => (p === i ? s + t.totalSamples[j]! : s), 0);
        assert.equal(t.totalSamples[i], t.selfSamples[i]! + kids, `node ${i}`);
      }
      const selfSum = profile.functions.reduce((s, f) => s + f.selfSamples, 0);
      assert.equal(selfSum, profile.totalSamples - profile.unattributedSamples);
    });

    it('exports a pprof that go tool pprof -top reads with the same functions and counts', () => {
      const out = path.join(tmp, 'svc.pb.gz');
      fs.writeFileSync(out, gzipPprof(toPprof(profile)));
      const rows = pprofTop(out, 15);
      assert.ok(rows.size >= 10, `go tool pprof printed ${rows.size} rows`);
      for (const [name, r] of rows) {
        const f = profile.functions.find((x) => x.name === name);
        assert.ok(f, `pprof names ${name}, which we do not have`);
        assert.deepEqual({ flat: f.selfSamples, cum: f.cumSamples }, r, name);
      }
      const byFlat = [...rows].sort((a, b) => b[1].flat - a[1].flat)[0]![0];
      const ourTop = profile.functions.slice().sort((a, b) => b.selfSamples - a.selfSamples)[0]!;
      assert.equal(rows.get(byFlat)!.flat, ourTop.selfSamples);
    });

    it('round-trips through pprof (export, import) to the same counts', () => {
      const back = ingestPprof(decodePprof(gzipPprof(toPprof(profile))));
      const canon = (p: Profile) => ({
        total: p.totalSamples,
        unattributed: p.unattributedSamples,
        lost: p.lostSamples,
        event: p.event.name,
        functions: p.functions
          .map((f) => `${f.name}|${f.file}|${f.line1}|${f.selfSamples}|${f.cumSamples}|${f.inlinedOnly ?? false}`)
          .sort(),
        lines: p.lines.map((l) => `${l.file}:${l.line1}|${l.function}|${l.selfSamples}|${l.cumSamples}`).sort(),
        tree: treePaths(p),
      });
      assert.deepEqual(canon(back), canon(profile));
      assert.equal(back.durationNanos, profile.durationNanos);
      assert.equal(back.event.periodPerSample, Math.round(profile.event.periodPerSample));
    });

    it('saves a session that loads back identically', () => {
      const f = path.join(tmp, 'svc.session.json');
      const s = makeSession(profile, 'test');
      saveSession(f, s);
      assert.deepStrictEqual(loadSession(f), JSON.parse(JSON.stringify(s)));
      assert.deepStrictEqual(loadSession(f).profile, profile);
    });
  });

  for (const tc of [goToolchains()[0]!, newestGo()].filter((t, i, a) => a.indexOf(t) === i)) {
    for (const variant of [
      { name: 'default', flags: [] as string[] },
      { name: 'pie', flags: ['-buildmode=pie'] },
    ]) {
      it(`puts a hot line's heat on that line (hotline, go${tc.version}, ${variant.name})`, () => {
        const bin = buildGoFixture('hotline', tc, variant);
        const data = path.join(tmp, `hot-${tc.version}-${variant.name}.data`);
        perfRecordCommand([bin, '2'], data);
        const p = ingestPerfData(parsePerfData(fs.readFileSync(data)), loadBinary(bin));
        const src = fs
          .readFileSync(path.join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'go', 'hotline', 'main.go'), 'utf8')
          .split('\n');
        const hotLine = src.findIndex((l) => /\/\/ HOT$/.test(l)) + 1;
        assert.ok(hotLine > 0, 'the fixture marks its hot line');
        const spin = p.functions.find((f) => f.name === 'main.spin')!;
        assert.ok(spin.selfSamples >= 50, `main.spin has ${spin.selfSamples} samples`);
        const lines = p.lines.filter((l) => l.function === 'main.spin').sort((a, b) => b.selfSamples - a.selfSamples);
        assert.equal(lines[0]!.line1, hotLine);
        assert.ok(lines[0]!.selfSamples >= 0.8 * spin.selfSamples, `the HOT line has ${lines[0]!.selfSamples} of ${spin.selfSamples}`);
        // go tool pprof -list on our export agrees on every line of main.spin.
        const out = path.join(tmp, `hot-${tc.version}-${variant.name}.pb.gz`);
        fs.writeFileSync(out, gzipPprof(toPprof(p)));
        const list = goTool(['pprof', '-list', '^main.spin$', '-sample_index=samples', out]);
        const listed = new Map<number, { flat: number; cum: number }>();
        for (const l of list.split('\n')) {
          const m = /^\s*(\d+|\.)\s+(\d+|\.)\s+(\d+):/.exec(l);
          if (m) listed.set(Number(m[3]), { flat: m[1] === '.' ? 0 : Number(m[1]), cum: m[2] === '.' ? 0 : Number(m[2]) });
        }
        for (const l of p.lines.filter((x) => x.function === 'main.spin')) {
          assert.deepEqual(listed.get(l.line1), { flat: l.selfSamples, cum: l.cumSamples }, `line ${l.line1}`);
        }
      });
    }
  }
});

/** Call tree as "a;b;c total self" paths, order-free. */
function treePaths(p: Profile): string[] {
  const t = p.callTree;
  const names: string[] = [];
  const out: string[] = [];
  for (let i = 0; i < t.parents.length; i++) {
    const parent = t.parents[i]!;
    names[i] = `${parent >= 0 ? `${names[parent]};` : ''}${p.functions[t.functions[i]!]!.name}`;
    out.push(`${names[i]} ${t.totalSamples[i]} ${t.selfSamples[i]} ${t.callLines[i]}`);
  }
  return out.sort();
}
