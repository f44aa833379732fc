/**
 * The DEFAULT CPU recording (recordCpuProfile and `go-perf-lens record` with no --sampler) on real
 * Go processes built by every Go toolchain here, with real BCC and perf: it uses the eBPF
 * sampler, says so, and its share of samples with an unknown caller is at most 0.5% where perf's
 * frame-pointer stacks lose the callers of frameless leaves. Callers are checked against Go's own
 * CPU profile of the same window (runtime/pprof: the runtime's exact unwinder, read by
 * `go tool pprof`). Where the caller cannot be known (stacks deeper than the kernel walks) the
 * samples are counted and reported; where BCC cannot run, the default falls back to perf and says so.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HelperProcess } from '../../../src/capture';
import { type CpuProfileOptions, type CpuProfileRequest, recordCpuProfile } from '../../../src/commands/recordCpuProfile';
import { BPF_STACK_METHOD } from '../../../src/ingest/fromBpfProfile';
import type { Profile } from '../../../src/model/profile';
import { unknownCallerShare } from '../../../src/model/stacksText';
import { buildGoFixture, type GoToolchain, goToolchains, newestGo } from '../../support/goToolchains';
import { buildGoPackage, startLoad, startService, stopAllTargets } from '../../support/profileTargets';
import { killAll, runCli, startTracee } from '../ebpf/goProcess';

const LOCAL = { kind: 'local' as const };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-default-rec-'));
const REQ: Omit<CpuProfileRequest, 'pid' | 'durationSec'> = { freqHz: 999, event: 'auto' };

function fn(p: Profile, name: string) {
  return p.functions.find((f) => f.name === name);
}

const cumShare = (p: Profile, name: string): number => (fn(p, name)?.cumSamples ?? 0) / p.totalSamples;

/** `go tool pprof -top -cum` of a Go CPU profile: cum share by function name, and the sample count. */
function goPprofCum(tc: GoToolchain, file: string): { cum: Map<string, number>; samples: number } {
  const env = { ...process.env, GOROOT: tc.goroot, GOTOOLCHAIN: 'local', PPROF_TMPDIR: tmp };
  const top = execFileSync(tc.goBin, ['tool', 'pprof', '-top', '-cum', '-nodecount=500', file], { encoding: 'utf8', env });
  const cum = new Map<string, number>();
  for (const line of top.split('\n')) {
    const m = /^\s*\S+\s+[\d.]+%\s+[\d.]+%\s+\S+\s+([\d.]+)%\s+(.+?)\s*$/.exec(line);
    if (!m) continue;
    // An inlined function's node is "name (inline)"; where it also ran on its own, two nodes.
    const name = m[2]!.replace(/ \(inline\)$/, '');
    cum.set(name, (cum.get(name) ?? 0) + Number(m[1]) / 100);
  }
  // -raw lists each sample's count (the first value: samples).
  const raw = execFileSync(tc.goBin, ['tool', 'pprof', '-raw', file], { encoding: 'utf8', env });
  let samples = 0;
  let inSamples = false;
  for (const line of raw.split('\n')) {
    if (/^Samples:/.test(line)) inSamples = true;
    else if (/^Locations/.test(line)) inSamples = false;
    else if (inSamples) {
      const m = /^\s+(\d+)\s+\d+:/.exec(line);
      if (m) samples += Number(m[1]);
    }
  }
  return { cum, samples };
}

/**
 * Each cum share of ours and of Go's profile (same process, same window) differs by sampling
 * noise only: both are binomial proportions, so their difference has SD sqrt(q(1-q)/n1 + q(1-q)/n2);
 * 4.5 SD (+ 1 point for the windows' edges) is the tolerance, computed from the counts each
 * run really had (a loaded machine gives fewer samples, and a wider but still honest bound).
 */
function assertCallersAgree(p: Profile, ref: { cum: Map<string, number>; samples: number }, names: string[]): void {
  assert.ok(ref.samples >= 100, `Go's own profile has only ${ref.samples} samples`);
  for (const name of names) {
    const ours = cumShare(p, name);
    const go = ref.cum.get(name) ?? 0;
    const q = Math.min(Math.max((ours + go) / 2, 0.05), 0.95);
    const tol = 4.5 * Math.sqrt((q * (1 - q)) / ref.samples + (q * (1 - q)) / p.totalSamples) + 0.01;
    assert.ok(
      Math.abs(ours - go) <= tol,
      `${name} cum: default recording ${(100 * ours).toFixed(1)}% (${p.totalSamples} samples) vs Go's own profile ${(100 * go).toFixed(1)}% (${ref.samples} samples), tolerance ${(100 * tol).toFixed(1)} points`,
    );
  }
}

/** Recording options that stop the recording (keeping it) once it has `samples` samples. */
function stopAt(samples: number, also: CpuProfileOptions = {}): CpuProfileOptions {
  let client: HelperProcess | undefined;
  return {
    ...also,
    onStart: (c) => {
      client = c;
    },
    onSamples: (n) => {
      if (n >= samples) client?.stop();
    },
  };
}

describe('default CPU recording: the eBPF sampler, exact callers, unknown callers counted [root, bcc, perf]', function () {
  this.timeout(900000);
  after(() => {
    killAll();
    stopAllTargets();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const tc of goToolchains()) {
    it(`has ≤ 0.5% unknown callers above a frameless leaf, and callers as Go's own profile of the same window (Go ${tc.version})`, async () => {
      const bin = buildGoFixture('frameless', tc);
      const goProf = path.join(tmp, `go-${tc.version}.pprof`);
      const t = await startTracee(bin, ['frameless'], { ...process.env, GPL_CPUPROFILE: goProf });
      let p: Profile;
      try {
        // Go's profile starts when the sampler has attached and stops when the recording ends,
        // once it has 4000 samples (Go's own, at 100 Hz, then has about 400).
        p = await recordCpuProfile(
          LOCAL,
          { ...REQ, pid: t.pid, durationSec: 300 },
          stopAt(4000, { onProgress: (m) => (m.phase === 'attached' ? t.start() : undefined) }),
        );
        t.proc.kill('SIGTERM');
        assert.equal(await t.exited, 0, 'the fixture did not write its profile');
      } finally {
        t.proc.kill('SIGKILL');
      }
      assert.equal(p.source, 'bpf');
      assert.equal(p.stackMethod, BPF_STACK_METHOD);
      const crunch = fn(p, 'main.crunch')!;
      assert.ok(crunch.selfSamples >= 0.8 * p.totalSamples && p.totalSamples >= 4000, `crunch ${crunch.selfSamples} of ${p.totalSamples}`);
      const share = unknownCallerShare(p)!;
      assert.ok(
        share <= 0.005,
        `unknown-caller share ${(100 * share).toFixed(2)}% (${p.missingCallerSamples} of ${p.totalSamples}): ${JSON.stringify(p.warnings)}`,
      );
      // Every crunch sample (all of them frameless) has main.main or main.worker above it.
      assert.ok(cumShare(p, 'main.main') + cumShare(p, 'main.worker') >= crunch.selfSamples / p.totalSamples - 0.005);
      assertCallersAgree(p, goPprofCum(tc, goProf), ['main.main', 'main.worker', 'main.crunch']);
    });
  }

  it('go-perf-lens record with no --sampler, on the demo service under load: eBPF sampler said, unknown callers ≤ 0.5%, callers as Go’s own profile', async () => {
    const tc = newestGo();
    const svc = await startService(buildGoFixture('exampleservice', tc), ['-pprof']);
    const load = startLoad(buildGoPackage('exampleservice', './cmd/load', tc), svc.url, 600);
    const goProf = path.join(tmp, 'service.pprof');
    let fetched: Promise<void> | undefined;
    let client: HelperProcess | undefined;
    let p: Profile;
    try {
      // Go's profile covers 8 s from the sampler's attach; the recording stops when it is fetched.
      p = await recordCpuProfile(
        LOCAL,
        { ...REQ, pid: svc.pid, durationSec: 300 },
        {
          onStart: (c) => {
            client = c;
          },
          onProgress: (m) => {
            if (m.phase === 'attached' && !fetched)
              fetched = fetchTo(`${svc.url}/debug/pprof/profile?seconds=8`, goProf).finally(() => client?.stop());
          },
        },
      );
      await fetched;
      // The CLI's own default run: it says the method and the share.
      const out = path.join(tmp, 'service-session.json');
      const r = await runCli(['record', '--pid', String(svc.pid), '--duration', '2', '-o', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /with the eBPF sampler where it runs, else perf/);
      assert.match(
        r.stderr,
        /stacks: frame pointers and the return address at SP, every sample whole \(eBPF sampler\); unknown caller: \d+\.\d\d% \(\d+ of \d+ samples\)/,
      );
      const rep = await runCli(['report', out]);
      assert.equal(rep.code, 0, rep.stderr);
      assert.match(rep.stdout, /^stacks: +frame pointers .*\(eBPF sampler\); unknown caller: \d+\.\d\d%/m);
    } finally {
      load.proc.kill('SIGTERM');
      await svc.stop();
    }
    assert.equal(p.stackMethod, BPF_STACK_METHOD);
    const share = unknownCallerShare(p)!;
    assert.ok(p.totalSamples >= 500, `only ${p.totalSamples} samples`);
    assert.ok(
      share <= 0.005,
      `unknown-caller share ${(100 * share).toFixed(2)}% (${p.missingCallerSamples} of ${p.totalSamples}): ${JSON.stringify(p.warnings)}`,
    );
    const ref = goPprofCum(tc, goProf);
    const names = [...ref.cum.entries()].filter(([n, c]) => /^main\./.test(n) && c >= 0.03).map(([n]) => n);
    assert.ok(names.length >= 3, `Go's profile names ${names.join(', ')}`);
    assertCallersAgree(p, ref, names);
  });

  it('counts and reports the samples whose outer callers cannot be known (a stack deeper than the walk), and only those', async () => {
    const tc = newestGo();
    const bin = buildGoFixture('frameless', tc);
    const t = await startTracee(bin, ['deep']);
    let p: Profile;
    try {
      p = await recordCpuProfile(LOCAL, { ...REQ, pid: t.pid, durationSec: 300 }, stopAt(2000));
    } finally {
      t.proc.kill('SIGKILL');
      await t.exited;
    }
    assert.equal(p.stackMethod, BPF_STACK_METHOD);
    // By construction: the goroutine in main.deep runs crunch 201 calls deep (more than the 127
    // frames the kernel walks); main.main runs it at the top.
    const st = p.stacks!;
    const outer = (loc: number): string => {
      const fr = st.locations[loc]!.frames;
      return p.functions[fr[fr.length - 1]!.function]!.name;
    };
    let deepSamples = 0,
      deepLeaf = 0;
    st.stacks.forEach((s, i) => {
      if (!s.some((loc) => outer(loc) === 'main.deep')) return;
      deepSamples += st.counts[i]!;
      if (outer(s[0]!) === 'main.crunch') deepLeaf += st.counts[i]!;
    });
    assert.ok(deepLeaf >= 300, `too few samples under main.deep: ${deepLeaf}`);
    assert.ok(
      p.truncatedStackSamples! >= deepLeaf && p.truncatedStackSamples! <= deepSamples,
      `cut stacks ${p.truncatedStackSamples} vs samples under main.deep: ${deepLeaf} with the leaf, ${deepSamples} in all`,
    );
    // Those and only those have an unknown caller: main.main's samples keep theirs.
    assert.ok(p.missingCallerSamples! >= deepLeaf && p.missingCallerSamples! <= deepSamples + 0.005 * p.totalSamples);
    assert.ok(cumShare(p, 'main.main') >= 0.3, `main.main cum ${cumShare(p, 'main.main')}`);
    assert.ok(
      (p.warnings ?? []).some((w) =>
        new RegExp(`^${p.truncatedStackSamples} sample\\(s\\) had stacks of \\d+ frames.*outermost callers are cut off`).test(w),
      ),
      JSON.stringify(p.warnings),
    );
  });

  it('falls back to perf where BCC cannot be imported, and says so and how many callers are unknown [root, perf]', async () => {
    // A Python without BCC: a venv of the system Python in a folder only root can write.
    const venvRoot = fs.mkdtempSync(path.join(os.homedir(), '.gpl-test-venv-'));
    try {
      execFileSync('/usr/bin/python3', ['-m', 'venv', '--without-pip', path.join(venvRoot, 'v')]);
      const python = path.join(venvRoot, 'v', 'bin', 'python3');
      const bin = buildGoFixture('frameless', newestGo());
      const t = await startTracee(bin, ['frameless']);
      let p: Profile;
      try {
        p = await recordCpuProfile({ kind: 'local', python }, { ...REQ, pid: t.pid, durationSec: 2 });
      } finally {
        t.proc.kill('SIGKILL');
        await t.exited;
      }
      assert.equal(p.source, 'perf');
      assert.equal(p.stackMethod, 'frame pointers (perf record -g)');
      assert.match(
        p.warnings![0]!,
        /^recorded with perf: the eBPF sampler, which keeps the callers of frameless leaves, could not run here \(BCC's Python bindings are not importable/,
      );
      // perf loses crunch's callers: counted and said, not folded in.
      assert.ok(unknownCallerShare(p)! >= 0.5, `unknown-caller share ${unknownCallerShare(p)}`);
      assert.ok((p.warnings ?? []).some((w) => /have an unknown caller/.test(w)));
    } finally {
      fs.rmSync(venvRoot, { recursive: true, force: true });
    }
  });
});

function fetchTo(url: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`${url}: HTTP ${res.statusCode}`));
          res.resume();
          return;
        }
        const w = fs.createWriteStream(file);
        res.pipe(w);
        w.on('finish', () => resolve());
        w.on('error', reject);
      })
      .on('error', reject);
  });
}
