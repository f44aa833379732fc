/**
 * `perf record --call-graph dwarf` recordings (the seed article's command) unwound with Go's
 * own frame tables, on real Go programs built by every toolchain here, against references
 * that do not come from the unwinder: the programs' call structure (known by construction),
 * a frame-pointer recording of the same steady workload, perf script's sampled addresses, and
 * a dump cut short on purpose (its stacks must be counted as truncated, never shown shorter).
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parsePerfData } from '../../../src/formats/perfData';
import { ingestPerfData, PerfIngestState } from '../../../src/ingest/fromPerfData';
import { loadBinary } from '../../../src/ingest/loadBinary';
import type { Profile } from '../../../src/model/profile';
import { buildGoFixture, goToolchains, REPO_ROOT } from '../../support/goToolchains';
import { havePerfAndRoot, perfRecordCommand, perfRecordPid, stopAllTargets, track } from '../../support/profileTargets';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
/** Where Go's own traceback stops (funcFlag TOPFRAME in the runtime's assembly): a whole stack ends there. */
const TOP = new Set(['runtime.goexit', 'runtime.mstart', 'runtime.rt0_go', 'runtime.sigtramp']);

function perfRecordDwarf(args: string[], out: string, dumpBytes?: number): void {
  const mode = dumpBytes === undefined ? 'dwarf' : `dwarf,${dumpBytes}`;
  execFileSync('perf', ['record', '-q', '-e', 'cpu-clock', '-g', '--call-graph', mode, '-F', '999', '-o', out, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** Each stack of the profile as physical function names, leaf first, with its count. */
function stacksOf(p: Profile): { names: string[]; count: number }[] {
  const st = p.stacks!;
  return st.stacks.map((s, i) => ({
    names: s.map((l) => {
      const fr = st.locations[l]!.frames;
      return p.functions[fr[fr.length - 1]!.function]!.name;
    }),
    count: st.counts[i]!,
  }));
}

const cumShare = (p: Profile, name: string): number => (p.functions.find((f) => f.name === name)?.cumSamples ?? 0) / p.totalSamples;
const selfOf = (p: Profile, name: string): number => p.functions.find((f) => f.name === name)?.selfSamples ?? 0;

/** Starts the frameless fixture and resolves once it prints "ready". */
async function startFrameless(bin: string, mode: string): Promise<{ pid: number; stop(): void }> {
  const proc = track(spawn(bin, [mode], { stdio: ['ignore', 'pipe', 'inherit'] }));
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.once('data', () => resolve());
    proc.once('exit', (c) => reject(new Error(`frameless exited (${c})`)));
  });
  return { pid: proc.pid!, stop: () => proc.kill('SIGKILL') };
}

describe('--call-graph dwarf recordings unwound with Go frame tables [root, perf, go]', function () {
  this.timeout(600_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-dwarf-'));
  before(function () {
    if (!havePerfAndRoot()) throw new Error('these tests need root and perf (run scripts/setup.sh, as root)');
    if (goToolchains().length === 0) throw new Error('no Go toolchain: run scripts/setup.sh');
    execFileSync('node', ['scripts/build.mjs'], { cwd: REPO_ROOT, stdio: 'ignore' });
  });
  after(() => {
    stopAllTargets();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const tc of goToolchains()) {
    describe(`go${tc.version}`, () => {
      let bin: string;
      let dwarfData: string;
      let dwarf: Profile;
      let state: PerfIngestState;
      before(() => {
        bin = buildGoFixture('perfload', tc);
        dwarfData = path.join(tmp, `perfload-${tc.version}.dwarf.data`);
        perfRecordDwarf(['--', bin, '-duration', '1.5s', '-workers', '2'], dwarfData);
        state = new PerfIngestState();
        dwarf = ingestPerfData(parsePerfData(fs.readFileSync(dwarfData)), loadBinary(bin), {}, state);
      });

      it("every stack of the hot loop is the program's own call chain, down to runtime.goexit", () => {
        assert.match(dwarf.stackMethod ?? '', /Go frame tables/);
        let spin = 0;
        const chain =
          /^main\.spin main\.level6 main\.level5 main\.level4 (main\.level3 )?main\.level2 main\.level1 main\.worker (main\.main\.(gowrap|func)1 )?runtime\.goexit$/;
        for (const s of stacksOf(dwarf)) {
          if (s.names[0] !== 'main.spin') continue;
          spin += s.count;
          assert.match(s.names.join(' '), chain);
        }
        // The hot loop is nearly all of the CPU; the old one-frame reading had main.worker at 0%.
        assert.ok(spin / dwarf.totalSamples > 0.9, `main.spin in ${spin} of ${dwarf.totalSamples}`);
        assert.ok(cumShare(dwarf, 'main.worker') > 0.9, String(cumShare(dwarf, 'main.worker')));
        // Frame pointers agree with the unwound frames.
        const c = state.unwound!.samples.counts;
        assert.ok(c.fpChecked > dwarf.totalSamples, `fp checks ${c.fpChecked}`);
        assert.ok(c.fpDisagreed <= c.fpChecked * 0.005, `fp disagreed at ${c.fpDisagreed} of ${c.fpChecked}`);
        // Whole stacks except for what is counted and said.
        const whole = stacksOf(dwarf)
          .filter((s) => TOP.has(s.names[s.names.length - 1]!))
          .reduce((a, s) => a + s.count, 0);
        assert.equal(whole + (dwarf.truncatedStackSamples ?? 0), dwarf.totalSamples - dwarf.unattributedSamples);
      });

      it("the sampled addresses are perf script's, sample by sample", () => {
        // perf's own unwinding of Go from these dumps is poor: only its sampled address is compared.
        const out = execFileSync('perf', ['script', '-i', dwarfData, '-F', 'ip,sym,dso', '--hide-call-graph'], {
          encoding: 'utf8',
          maxBuffer: 1 << 28,
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        const leaves = out.split('\n').filter((l) => l.trim());
        const spinLeaves = leaves.filter((l) => l.endsWith(` main.spin (${bin})`)).length;
        // A sample taken in the kernel (a page fault, a timer) has its leaf at the user ip it
        // entered the kernel from (the dump's registers), where perf script shows the kernel's.
        const inKernel = leaves.filter((l) => /^\s*ffff[0-9a-f]{12} /.test(l)).length;
        const ours = selfOf(dwarf, 'main.spin');
        assert.ok(
          ours >= spinLeaves && ours <= spinLeaves + inKernel,
          `main.spin leaves: ours ${ours}, perf script ${spinLeaves} (+ ${inKernel} in the kernel)`,
        );
        assert.ok(spinLeaves > 0.9 * leaves.length);
      });

      it('agrees with a frame-pointer recording of the same steady workload', () => {
        const fpData = path.join(tmp, `perfload-${tc.version}.fp.data`);
        perfRecordCommand([bin, '-duration', '1.5s', '-workers', '2'], fpData);
        const fp = ingestPerfData(parsePerfData(fs.readFileSync(fpData)), loadBinary(bin));
        assert.match(fp.stackMethod ?? '', /frame pointers/);
        // Not main.level6: spin is a frameless leaf, so frame-pointer stacks skip its caller (and
        // level6 calls it from two sites, so the ingest cannot infer it): there the unwound stacks
        // are right and the frame-pointer ones are not.
        for (const name of ['main.worker', 'main.level1', 'main.level2', 'main.level4', 'main.level5', 'main.spin']) {
          const a = cumShare(dwarf, name),
            b = cumShare(fp, name);
          assert.ok(Math.abs(a - b) < 0.05, `${name}: ${(a * 100).toFixed(1)}% unwound, ${(b * 100).toFixed(1)}% with frame pointers`);
        }
        // level3 is on half the paths by construction (even seeds): two recordings of it differ by
        // sampling noise, which grows as a loaded machine gives the workload fewer samples. Beyond
        // four standard errors of that difference (or 8 points, whichever is wider) it is no noise.
        const l3 = [cumShare(dwarf, 'main.level3'), cumShare(fp, 'main.level3')] as const;
        const p3 = (l3[0] + l3[1]) / 2;
        const noise = 4 * Math.sqrt(p3 * (1 - p3) * (1 / dwarf.totalSamples + 1 / fp.totalSamples));
        assert.ok(
          Math.abs(l3[0] - l3[1]) < Math.max(0.08, noise),
          `main.level3: ${(l3[0] * 100).toFixed(1)}% of ${dwarf.totalSamples} unwound, ${(l3[1] * 100).toFixed(1)}% of ${fp.totalSamples} with frame pointers`,
        );
        assert.ok(cumShare(dwarf, 'main.level6') >= cumShare(dwarf, 'main.spin'));
        assert.ok(fp.missingCallerSamples! > 0.5 * fp.totalSamples);
      });

      it('a dump too short for the stack: truncated stacks counted with their share, never shown as whole', () => {
        const data = path.join(tmp, `perfload-${tc.version}.short.data`);
        perfRecordDwarf(['--', bin, '-duration', '0.8s', '-workers', '2'], data, 128);
        const p = ingestPerfData(parsePerfData(fs.readFileSync(data)), loadBinary(bin));
        const cut = p.truncatedStackSamples ?? 0;
        assert.ok(cut > 0.5 * p.totalSamples, `${cut} of ${p.totalSamples} truncated`);
        const w = (p.warnings ?? []).find((x) => /truncated stacks/.test(x));
        assert.ok(w, String(p.warnings));
        assert.match(w!, /\d+\.\d% of samples \(\d+\) have truncated stacks: the 128-byte stack dump/);
        const whole = stacksOf(p)
          .filter((s) => TOP.has(s.names[s.names.length - 1]!))
          .reduce((a, s) => a + s.count, 0);
        assert.equal(whole + cut, p.totalSamples - p.unattributedSamples);
        assert.ok(p.missingCallerSamples! >= cut);
      });

      it("the frameless leaf's two callers, which frame pointers lose, are exact", async () => {
        const fbin = buildGoFixture('frameless', tc);
        const t = await startFrameless(fbin, 'frameless');
        try {
          const data = path.join(tmp, `frameless-${tc.version}.dwarf.data`);
          perfRecordDwarf(['-p', String(t.pid), '--', 'sleep', '1.2'], data);
          const p = ingestPerfData(parsePerfData(fs.readFileSync(data)), loadBinary(fbin));
          const callers = new Map<string, number>();
          let crunch = 0;
          for (const s of stacksOf(p)) {
            if (s.names[0] !== 'main.crunch') continue;
            crunch += s.count;
            callers.set(s.names[1] ?? '(none)', (callers.get(s.names[1] ?? '(none)') ?? 0) + s.count);
          }
          assert.ok(crunch > 0.8 * p.totalSamples, `crunch ${crunch} of ${p.totalSamples}`);
          assert.deepEqual([...callers.keys()].sort(), ['main.main', 'main.worker'], JSON.stringify([...callers]));
          for (const n of callers.values()) assert.ok(n > 0.2 * crunch, JSON.stringify([...callers]));
          // The same process with frame pointers: the leaf's caller is unknown (counted as such).
          const fpData = path.join(tmp, `frameless-${tc.version}.fp.data`);
          perfRecordPid(t.pid, 1, fpData);
          const fp = ingestPerfData(parsePerfData(fs.readFileSync(fpData)), loadBinary(fbin));
          assert.ok((fp.missingCallerSamples ?? 0) > 0.5 * fp.totalSamples, `fp: ${fp.missingCallerSamples} of ${fp.totalSamples}`);
        } finally {
          t.stop();
        }
      });

      it('report, pprof and the JSON report read the recording with its stacks', () => {
        const r = execFileSync('node', [CLI, 'report', dwarfData, '--binary', bin], { encoding: 'utf8' });
        assert.match(r, /stacks:\s+Go frame tables/);
        const j = JSON.parse(execFileSync('node', [CLI, 'report', dwarfData, '--binary', bin, '--json'], { encoding: 'utf8' })) as {
          functions: { name: string; cum: number }[];
          samples: number;
        };
        assert.ok(j.functions.find((f) => f.name === 'main.worker')!.cum > 0.9 * j.samples);
        const out = path.join(tmp, `perfload-${tc.version}.pb.gz`);
        execFileSync('node', [CLI, 'pprof', dwarfData, '--binary', bin, '-o', out]);
        const top = execFileSync(tc.goBin, ['tool', 'pprof', '-top', '-cum', '-nodecount=15', out], {
          encoding: 'utf8',
          env: { ...process.env, GOROOT: tc.goroot },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        assert.match(top, /main\.worker/);
      });
    });
  }
});
