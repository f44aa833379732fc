/**
 * The eBPF CPU sampler and the frameless-caller repair, on real Go processes with real BCC and
 * real perf, against independent references: `go tool objdump` (where a function has no frame,
 * read from its prologue and epilogue), `go tool addr2line` (the call line at a return address),
 * and `perf script` (each perf sample's leaf).
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isStacksPartial, recordBpfProfile } from '../../../src/commands/recordBpfProfile';
import type { WireBpfStack } from '../../../src/ingest/fromBpfProfile';
import { parseElf } from '../../../src/formats/elf';
import { parsePerfData, userCallchain } from '../../../src/formats/perfData';
import { framelessIndexOf } from '../../../src/ingest/framelessIndexOf';
import { ingestPerfData } from '../../../src/ingest/fromPerfData';
import { loadBinary } from '../../../src/ingest/loadBinary';
import type { Profile } from '../../../src/model/profile';
import { UserError } from '../../../src/util/userError';
import { type BuildVariant, buildGoFixture, type GoToolchain, goToolchains, newestGo, REPO_ROOT } from '../../support/goToolchains';
import { perfRecordPid, perfScriptSymbols } from '../../support/profileTargets';
import { eventually, usedCpu } from '../capture/captureSupport';
import { killAll, LineWatcher, runCli, startTracee } from '../ebpf/goProcess';
import { ObjdumpFrames } from './objdumpFrames';

const LOCAL = { kind: 'local' as const };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-bpfprofile-'));

function fn(p: Profile, name: string) {
  return p.functions.find((f) => f.name === name);
}

/** The physical (outermost) function of a stack-table location. */
function outerName(p: Profile, loc: number): string | undefined {
  const fr = p.stacks!.locations[loc]!.frames;
  return fr.length ? p.functions[fr[fr.length - 1]!.function]!.name : undefined;
}

/** `go tool addr2line` for link-time addresses: function and line of each. */
function addr2line(tc: GoToolchain, binary: string, addrs: number[]): Map<number, { fn: string; line: number }> {
  const input = addrs.map((a) => `0x${a.toString(16)}`).join('\n') + '\n';
  const out = execFileSync(tc.goBin, ['tool', 'addr2line', binary], {
    input,
    encoding: 'utf8',
    env: { ...process.env, GOROOT: tc.goroot, GOTOOLCHAIN: 'local' },
  }).split('\n');
  const m = new Map<number, { fn: string; line: number }>();
  addrs.forEach((a, i) => m.set(a, { fn: out[2 * i]!, line: Number(/:(\d+)$/.exec(out[2 * i + 1]!)?.[1] ?? 0) }));
  return m;
}

/**
 * `perf record -g --call-graph fp -F 999 -e cpu-clock -p PID` until the target has used `cpuMs`
 * of CPU with perf's events open (a condition on what perf can sample, not on the clock), then
 * SIGINT; resolves once perf has written `out` and ended.
 */
async function perfRecordPidUntil(pid: number, out: string, cpuMs: number): Promise<void> {
  const perf = spawn('perf', ['record', '-q', '-g', '--call-graph', 'fp', '-F', '999', '-e', 'cpu-clock', '-p', String(pid), '-o', out], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  perf.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<string>((r) => perf.once('close', (code, signal) => r(signal ?? String(code))));
  try {
    const eventsOpen = (): boolean => {
      try {
        return fs
          .readdirSync(`/proc/${perf.pid}/fd`)
          .some((fd) => fs.readlinkSync(`/proc/${perf.pid}/fd/${fd}`) === 'anon_inode:[perf_event]');
      } catch {
        return false; // not yet, or an fd closed meanwhile
      }
    };
    assert.ok(await eventually(eventsOpen, 120000), `perf opened no events on PID ${pid}: ${stderr}`);
    await usedCpu(pid, cpuMs, 300000);
  } finally {
    perf.kill('SIGINT');
  }
  // perf record ends on SIGINT by raising it again, once it has written the file.
  assert.equal(await exited, 'SIGINT', `perf record: ${stderr}`);
}

/** Call-tree edges caller → callee with their call lines. */
function edges(p: Profile, caller: string, callee: string): Set<number> {
  const t = p.callTree;
  const lines = new Set<number>();
  for (let i = 0; i < t.parents.length; i++) {
    const par = t.parents[i]!;
    if (par < 0) continue;
    if (p.functions[t.functions[i]!]!.name === callee && p.functions[t.functions[par]!]!.name === caller) lines.add(t.callLines[i]!);
  }
  return lines;
}

describe('eBPF CPU sampler: exact callers above frameless leaves [root, bcc]', function () {
  this.timeout(900000);
  after(() => {
    killAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const tc of goToolchains()) {
    it(`knows where each main.* function has no frame, as the disassembly shows (Go ${tc.version})`, () => {
      const bin = buildGoFixture('frameless', tc);
      const idx = framelessIndexOf(loadBinary(bin))!;
      assert.ok(idx, 'no pclntab index');
      const od = new ObjdumpFrames(tc, bin);
      const fns = od.functions(/^main\./);
      assert.ok(fns.some((f) => f.name === 'main.crunch') && fns.some((f) => f.name === 'main.heavy'));
      let checked = 0;
      for (const f of fns) {
        for (const i of f.insns) {
          assert.equal(idx.isFramelessAt(i.addr), od.isFramelessAt(i.addr), `${f.name} at 0x${i.addr.toString(16)} (${i.asm})`);
          checked++;
        }
      }
      // crunch never sets up a frame; heavy does.
      assert.ok(od.functions(/^main\.crunch$/)[0]!.insns.every((i) => idx.isFramelessAt(i.addr)));
      assert.ok(!od.functions(/^main\.heavy$/)[0]!.insns.every((i) => idx.isFramelessAt(i.addr)));
      assert.ok(checked > 50);
      // The whole binary: the simple reading of the disassembly misses only exotic assembly
      // (stack switches, reflectcall frames), so nearly every instruction agrees.
      let all = 0,
        agree = 0;
      for (const f of od.functions(/./))
        for (const i of f.insns) {
          all++;
          if (idx.isFramelessAt(i.addr) === od.isFramelessAt(i.addr)) agree++;
        }
      assert.ok(all > 10000 && agree >= 0.99 * all, `${agree} of ${all} instructions agree`);
    });

    const variants: BuildVariant[] = [{ name: 'default', flags: [] }];
    if (tc === newestGo()) variants.push({ name: 'pie', flags: ['-buildmode=pie'] });
    for (const variant of variants)
      it(`puts main.main and main.worker back above the frameless leaf, at the right call lines (Go ${tc.version}, ${variant.name})`, async () => {
        const bin = buildGoFixture('frameless', tc, variant);
        const t = await startTracee(bin, ['frameless']);
        let rec;
        // The stacks come with the partials and the result: all of them are the recording.
        const partialStacks: WireBpfStack[] = [];
        try {
          rec = await recordBpfProfile(
            LOCAL,
            { pid: t.pid, durationSec: 3 },
            { keepStacks: true, onMessage: (m) => (isStacksPartial(m) ? partialStacks.push(...m.data.stacks) : undefined) },
          );
        } finally {
          t.proc.kill('SIGKILL');
          await t.exited;
        }
        const { profile: p } = rec;
        const wire = { ...rec.wire, stacks: [...partialStacks, ...rec.wire.stacks] };
        assert.equal(p.source, 'bpf');
        if (variant.name === 'pie') assert.notEqual(wire.loadBias, 0, 'a PIE should load at a bias');
        assert.equal(
          p.totalSamples,
          wire.stacks.reduce((s, x) => s + x.count, 0),
        );
        const crunch = fn(p, 'main.crunch');
        assert.ok(crunch && crunch.selfSamples >= 100, `too few samples in main.crunch: ${crunch?.selfSamples}`);
        assert.ok(crunch.selfSamples >= 0.8 * p.totalSamples, 'the fixture should spend its time in crunch');

        // Independent reference: the leaf by objdump, the caller by go tool addr2line at SP word - 1.
        const od = new ObjdumpFrames(tc, bin);
        const leafSamples = wire.stacks.filter(
          (s) => s.user.length > 0 && od.functionAt(s.user[0]! - wire.loadBias)?.name === 'main.crunch',
        );
        const words = [...new Set(leafSamples.filter((s) => s.spWord).map((s) => s.spWord! - wire.loadBias - 1))];
        const ref = addr2line(tc, bin, words);
        const leafTotal = leafSamples.reduce((s, x) => s + x.count, 0);
        const refRight = leafSamples
          .filter((s) => s.spWord && /^main\.(main|worker)$/.test(ref.get(s.spWord - wire.loadBias - 1)!.fn))
          .reduce((s, x) => s + x.count, 0);
        assert.ok(
          refRight >= 0.9 * leafTotal,
          `only ${refRight} of ${leafTotal} leaf samples have an SP word addr2line puts in main.main/main.worker`,
        );

        // Our model: ≥ 90% of the leaf's samples have main.main or main.worker as their caller.
        const st = p.stacks!;
        let leaf = 0,
          right = 0;
        st.stacks.forEach((s, i) => {
          if (outerName(p, s[0]!) !== 'main.crunch') return;
          leaf += st.counts[i]!;
          if (s.length > 1 && /^main\.(main|worker)$/.test(outerName(p, s[1]!) ?? '')) right += st.counts[i]!;
        });
        assert.equal(leaf, crunch.selfSamples);
        assert.ok(right >= 0.9 * leaf, `only ${right} of ${leaf} leaf samples have the right caller`);
        const mainCum = fn(p, 'main.main')?.cumSamples ?? 0;
        const workerCum = fn(p, 'main.worker')?.cumSamples ?? 0;
        assert.ok(
          mainCum + workerCum >= 0.9 * crunch.selfSamples,
          `main.main ${mainCum} + main.worker ${workerCum} vs crunch ${crunch.selfSamples}`,
        );
        assert.ok(
          mainCum >= 0.1 * crunch.selfSamples && workerCum >= 0.1 * crunch.selfSamples,
          `both callers ran: main ${mainCum}, worker ${workerCum}`,
        );
        assert.ok(p.repairedCallerSamples! >= 0.9 * leaf);

        // Each caller → crunch edge exists, at the line addr2line gives for the return address - 1.
        for (const caller of ['main.main', 'main.worker']) {
          const refLines = new Set([...ref.values()].filter((r) => r.fn === caller).map((r) => r.line));
          assert.ok(refLines.size > 0, `addr2line saw no return address into ${caller}`);
          assert.deepEqual([...edges(p, caller, 'main.crunch')].sort(), [...refLines].sort(), `${caller} → main.crunch call lines`);
        }
      });

    it(`perf: reports as missing-caller exactly the samples whose leaf is where its function has no frame (Go ${tc.version})`, async () => {
      const bin = buildGoFixture('frameless', tc);
      const t = await startTracee(bin, ['frameless']);
      const file = path.join(tmp, `perf-${tc.version}.data`);
      try {
        perfRecordPid(t.pid, 3, file);
      } finally {
        t.proc.kill('SIGKILL');
        await t.exited;
      }
      const p = ingestPerfData(parsePerfData(fs.readFileSync(file)), loadBinary(bin), { pid: t.pid });
      const od = new ObjdumpFrames(tc, bin);
      // perf script prints a binary's addresses as file offsets (map-relative): back to vaddrs.
      const loads = parseElf(fs.readFileSync(bin)).programHeaders.filter((h) => h.type === 1);
      const toVaddr = (off: number): number => {
        const h = loads.find((x) => off >= x.offset && off < x.offset + x.filesz);
        return h ? off - h.offset + Number(h.vaddr) : NaN;
      };
      let expected = 0;
      let inBinary = 0;
      const script = perfScriptSymbols(file);
      const refLeaf: (number | undefined)[] = [];
      for (const s of script) {
        const leaf = s.find((f) => !f.dso.startsWith('[kernel'));
        refLeaf.push(leaf && leaf.dso === bin ? toVaddr(Number(leaf.addr)) : undefined);
        if (!leaf || leaf.dso !== bin) continue;
        inBinary++;
        if (od.isFramelessAt(toVaddr(Number(leaf.addr)))) expected++;
      }
      if (p.missingCallerSamples! + p.repairedCallerSamples! !== expected) {
        // Say which leaf addresses disagree (perf script sorts samples by time, so compare counts).
        const d = parsePerfData(fs.readFileSync(file));
        const idx = framelessIndexOf(loadBinary(bin))!;
        const ours = new Map<number, number>(),
          ref = new Map<number, number>();
        for (let i = 0; i < d.samples.count; i++) {
          const ch = userCallchain(d, i);
          if (ch.length && idx.isFramelessAt(ch[0]!)) ours.set(ch[0]!, (ours.get(ch[0]!) ?? 0) + 1);
        }
        for (const a of refLeaf) if (a !== undefined && od.isFramelessAt(a)) ref.set(a, (ref.get(a) ?? 0) + 1);
        const odd = [...new Set([...ours.keys(), ...ref.keys()])]
          .filter((a) => ours.get(a) !== ref.get(a))
          .map((a) => `0x${a.toString(16)}: ours ${ours.get(a) ?? 0}, ref ${ref.get(a) ?? 0}`);
        assert.fail(
          `missing ${p.missingCallerSamples} + repaired ${p.repairedCallerSamples} ≠ ${expected} by objdump + perf script; ${script.length} script samples, ${d.samples.count} in perf.data, ${p.totalSamples} in the model; by leaf: ${odd.join('; ') || 'all leaf counts agree'}`,
        );
      }
      const crunch = fn(p, 'main.crunch')!;
      assert.ok(crunch.selfSamples >= 100, `too few samples: ${crunch.selfSamples}`);
      // Every such sample is either reported missing or (rarely here) got its caller back exactly.
      assert.equal(
        p.missingCallerSamples! + p.repairedCallerSamples!,
        expected,
        `missing-caller samples vs objdump + perf script (${inBinary} samples with a leaf in the binary)`,
      );
      assert.ok(p.missingCallerSamples! >= 0.9 * expected, 'main.main and worker reach crunch through indirect calls: nothing to infer');
      assert.ok(expected >= crunch.selfSamples, 'every crunch sample is frameless');
      assert.ok(
        (p.warnings ?? []).some((w) => /unknown caller.*--sampler bpf/.test(w)),
        `no missing-caller warning in ${JSON.stringify(p.warnings)}`,
      );
      // The gap is real: perf's main.main misses the leaf's samples.
      assert.ok((fn(p, 'main.main')?.cumSamples ?? 0) + (fn(p, 'main.worker')?.cumSamples ?? 0) < 0.5 * crunch.selfSamples);
    });
  }

  for (const tc of goToolchains()) {
    it(`perf: puts back a caller with a frame that the next frame's direct call names (nested, Go ${tc.version})`, async () => {
      const bin = buildGoFixture('frameless', tc);
      const t = await startTracee(bin, ['nested']);
      const file = path.join(tmp, `perf-nested-${tc.version}.data`);
      try {
        perfRecordPid(t.pid, 3, file);
      } finally {
        t.proc.kill('SIGKILL');
        await t.exited;
      }
      const p = ingestPerfData(parsePerfData(fs.readFileSync(file)), loadBinary(bin), { pid: t.pid });
      const crunch = fn(p, 'main.crunch')!;
      assert.ok(crunch.selfSamples >= 100, `too few samples: ${crunch.selfSamples}`);
      const middle = fn(p, 'main.middle');
      assert.ok(
        middle && middle.cumSamples >= 0.9 * crunch.selfSamples,
        `main.middle cum ${middle?.cumSamples} vs crunch ${crunch.selfSamples}`,
      );
      assert.ok(p.repairedCallerSamples! >= 0.9 * crunch.selfSamples);
      // The call line: objdump's line of the one CALL main.crunch in main.middle.
      const od = new ObjdumpFrames(tc, bin);
      const calls = od.functions(/^main\.middle$/)[0]!.insns.filter((i) => /^CALL main\.crunch\(SB\)/.test(i.asm));
      assert.equal(calls.length, 1);
      const line = addr2line(tc, bin, [calls[0]!.addr]).get(calls[0]!.addr)!.line;
      assert.deepEqual([...edges(p, 'main.middle', 'main.crunch')], [line]);
      assert.ok(edges(p, 'main.main', 'main.middle').size === 1, 'main.main → main.middle');
    });
  }

  it('agrees with perf on per-function self shares where no leaf is frameless (same process, same window)', async () => {
    const tc = newestGo();
    const bin = buildGoFixture('frameless', tc);
    const t = await startTracee(bin, ['framed']);
    const file = path.join(tmp, 'perf-framed.data');
    let perfDone: Promise<unknown> | undefined;
    let clientRef: { stop(): void } | undefined;
    let rec;
    try {
      rec = await recordBpfProfile(
        LOCAL,
        { pid: t.pid, durationSec: 600 },
        {
          onStart: (client) => {
            clientRef = client;
          },
          onMessage: (m) => {
            if (m.type === 'progress' && m.phase === 'attached' && !perfDone) {
              // perf records the same process while the sampler runs, until the target has used
              // 3 s of CPU under perf (~3,000 samples at 999 Hz however loaded the machine, where
              // a fixed 5 s gave it too little); the sampler stops when perf does.
              perfDone = perfRecordPidUntil(t.pid, file, 3000).finally(() => clientRef?.stop());
              perfDone.catch(() => undefined); // awaited below
            }
          },
        },
      );
      await perfDone;
    } finally {
      t.proc.kill('SIGKILL');
      await t.exited;
    }
    const b = rec.profile;
    const p = ingestPerfData(parsePerfData(fs.readFileSync(file)), loadBinary(bin), { pid: t.pid });
    assert.ok(b.totalSamples >= 1000 && p.totalSamples >= 1000, `too few samples: bpf ${b.totalSamples}, perf ${p.totalSamples}`);
    assert.equal(p.missingCallerSamples! / p.totalSamples < 0.02, true, 'the framed fixture should have (almost) no frameless leaves');
    // Each share is a binomial proportion; two independent profiles' shares differ by a standard
    // error of sqrt(p(1-p)(1/nb + 1/np)) (less here: the same threads over nearly the same window).
    // Four of them, plus 1 point for the sampler's window being a little longer than perf's, passes
    // sampling noise and still fails a real disagreement (with ~3,000 samples each, about 5 points
    // at a 50% share, 2 points at 5%).
    const agree = (what: string, nb: number, np: number): void => {
      const sb = nb / b.totalSamples;
      const sp = np / p.totalSamples;
      const pooled = (nb + np) / (b.totalSamples + p.totalSamples);
      const tol = 4 * Math.sqrt(pooled * (1 - pooled) * (1 / b.totalSamples + 1 / p.totalSamples)) + 0.01;
      assert.ok(
        Math.abs(sb - sp) <= tol,
        `${what}: bpf ${(100 * sb).toFixed(1)}% of ${b.totalSamples} vs perf ${(100 * sp).toFixed(1)}% of ${p.totalSamples} (tolerance ${(100 * tol).toFixed(1)} points)`,
      );
    };
    const names = new Set(
      [...b.functions, ...p.functions]
        .filter((f) => f.selfSamples >= 0.02 * (b.functions.includes(f) ? b.totalSamples : p.totalSamples))
        .map((f) => f.name),
    );
    assert.ok(names.has('main.heavy') && names.has('main.light'), [...names].join(', '));
    for (const name of names) agree(name, fn(b, name)?.selfSamples ?? 0, fn(p, name)?.selfSamples ?? 0);
    for (const name of ['main.main', 'main.framedWorker']) agree(`${name} cum`, fn(b, name)?.cumSamples ?? 0, fn(p, name)?.cumSamples ?? 0);
  });

  it('SIGKILL of the helper leaves no perf event or BPF program behind, and the target keeps running', async () => {
    const tc = newestGo();
    const bin = buildGoFixture('frameless', tc);
    const t = await startTracee(bin, ['frameless']);
    const elf = parseElf(fs.readFileSync(bin));
    const text = elf.section('.text')!;
    const helper = spawn(
      '/usr/bin/python3',
      [
        '-I',
        path.join(REPO_ROOT, 'bpf', 'helper.py'),
        'profile',
        '--pid',
        String(t.pid),
        '--duration',
        '300',
        '--textLo',
        String(Number(text.addr)),
        '--textHi',
        String(Number(text.addr) + text.size),
        '--goBuildId',
        elf.goBuildId!,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const out = new LineWatcher();
    helper.stdout.on('data', (d: Buffer) => out.feed(d));
    const exited = new Promise((resolve) => helper.on('close', resolve));
    try {
      await out.wait(/"type":"partial"/, 120000, 'a partial result from the helper');
      const hp = helper.pid!;
      const fds = fs.readdirSync(`/proc/${hp}/fd`).map((f) => {
        try {
          return fs.readlinkSync(`/proc/${hp}/fd/${f}`);
        } catch {
          return '';
        }
      });
      assert.ok(fds.filter((l) => l.includes('perf_event')).length >= 1, `no perf event fds in the helper: ${fds.join(' ')}`);
      const progIds = new Set<string>();
      for (const f of fs.readdirSync(`/proc/${hp}/fdinfo`)) {
        try {
          const m = /prog_id:\s*(\d+)/.exec(fs.readFileSync(`/proc/${hp}/fdinfo/${f}`, 'utf8'));
          if (m) progIds.add(m[1]!);
        } catch {
          /* closed meanwhile */
        }
      }
      assert.ok(progIds.size >= 1, 'no BPF program fd in the helper');
      helper.kill('SIGKILL');
      await exited;
      assert.ok(!fs.existsSync(`/proc/${hp}/fdinfo`), 'the helper is still there');
      // No process holds the sampler's program (perf events hold it while they exist).
      const holders: string[] = [];
      for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
        let infos: string[];
        try {
          infos = fs.readdirSync(`/proc/${pid}/fdinfo`);
        } catch {
          continue;
        }
        for (const f of infos) {
          try {
            const m = /prog_id:\s*(\d+)/.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${f}`, 'utf8'));
            if (m && progIds.has(m[1]!)) holders.push(`${pid}/${f}`);
          } catch {
            /* gone */
          }
        }
      }
      assert.deepEqual(holders, []);
      await new Promise((r) => setTimeout(r, 1000));
      assert.ok(t.proc.exitCode === null && t.proc.signalCode === null, 'the target died');
    } finally {
      helper.kill('SIGKILL');
      t.proc.kill('SIGKILL');
      await t.exited;
    }
  });

  it('a PID that exits mid-recording keeps the samples so far and says so; non-Go and gone PIDs are clear errors', async () => {
    const tc = newestGo();
    const bin = buildGoFixture('frameless', tc);
    const t = await startTracee(bin, ['frameless']);
    let killed = false;
    let firstPartial: unknown;
    const rec = await recordBpfProfile(
      LOCAL,
      { pid: t.pid, durationSec: 60 },
      {
        onMessage: (m) => {
          if (m.type === 'partial' && !killed) {
            firstPartial = m.data;
            killed = true;
            t.proc.kill('SIGKILL');
          }
        },
      },
    );
    await t.exited;
    assert.equal(rec.wire.endedBy, 'target-exited');
    assert.ok(rec.profile.totalSamples > 0);
    // Without keepStacks a partial reaches this thread with its counts, its stacks taken in on the worker.
    const counts = firstPartial as { samples?: unknown; stacks?: unknown };
    assert.ok(typeof counts.samples === 'number' && counts.stacks === undefined, JSON.stringify(counts).slice(0, 300));
    assert.ok(
      (rec.profile.warnings ?? []).some((w) => /exited/.test(w)),
      JSON.stringify(rec.profile.warnings),
    );

    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await assert.rejects(
        recordBpfProfile(LOCAL, { pid: sleeper.pid!, durationSec: 1 }),
        (e: unknown) => e instanceof UserError && e.code === 'not-go' && /not a Go program/.test(e.message),
      );
    } finally {
      sleeper.kill('SIGKILL');
    }
    const gone = spawn('true');
    await new Promise((r) => gone.on('close', r));
    await assert.rejects(
      recordBpfProfile(LOCAL, { pid: gone.pid!, durationSec: 1 }),
      (e: unknown) => e instanceof UserError && e.code === 'pid-gone',
    );
  });

  it('go-perf-lens record --sampler bpf writes a session whose report names the callers; a bad --sampler is a usage error', async () => {
    const tc = newestGo();
    const bin = buildGoFixture('frameless', tc);
    const t = await startTracee(bin, ['frameless']);
    const out = path.join(tmp, 'bpf-session.json');
    try {
      const r = await runCli(['record', '--pid', String(t.pid), '--duration', '2', '--sampler', 'bpf', '-o', out]);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      t.proc.kill('SIGKILL');
      await t.exited;
    }
    const rep = await runCli(['report', out, '--json']);
    assert.equal(rep.code, 0, rep.stderr);
    const j = JSON.parse(rep.stdout) as { samples: number; functions: { name: string; self: number; cum: number }[] };
    const crunch = j.functions.find((f) => f.name === 'main.crunch')!;
    const main = j.functions.find((f) => f.name === 'main.main')!;
    const worker = j.functions.find((f) => f.name === 'main.worker')!;
    assert.ok(main.cum + worker.cum >= 0.9 * crunch.self, JSON.stringify({ crunch, main, worker }));
    const bad = await runCli(['record', '--pid', '1', '--duration', '1', '--sampler', 'dtrace', '-o', out]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--sampler must be auto, perf or bpf/);
  });
});
