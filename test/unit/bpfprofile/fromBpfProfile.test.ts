/**
 * The caller repair and the eBPF sampler's ingest on real binaries (the frameless fixture built
 * with every Go toolchain), with addresses and call lines taken from `go tool objdump` as the
 * independent reference: a return address right after `CALL main.crunch` in main.main is put
 * back under the frameless leaf at objdump's line; words that are not return addresses, missing
 * words, framed leaves and callers already present are counted, not invented.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { BpfProfileIngest, ingestBpfProfile, type WireBpfStack } from '../../../src/ingest/fromBpfProfile';
import { mergeStacks, wireProfileResult as wire } from '../../support/bpfWire';
import { loadBinary } from '../../../src/ingest/loadBinary';
import type { Profile } from '../../../src/model/profile';
import { stacksText } from '../../../src/model/stacksText';
import { buildGoFixture, type GoToolchain, goToolchains, newestGo } from '../../support/goToolchains';
import { UserError } from '../../../src/util/userError';

interface Insn {
  addr: number;
  line: number;
  asm: string;
}

function objdump(tc: GoToolchain, bin: string, fn: string): Insn[] {
  const out = execFileSync(tc.goBin, ['tool', 'objdump', '-s', `^${fn.replace(/\./g, '\\.')}$`, bin], {
    encoding: 'utf8',
    env: { ...process.env, GOROOT: tc.goroot, GOTOOLCHAIN: 'local' },
  });
  const insns: Insn[] = [];
  for (const l of out.split('\n')) {
    const p = l
      .split('\t')
      .map((s) => s.trim())
      .filter(Boolean);
    if (p.length >= 4 && /^0x/.test(p[1]!)) insns.push({ addr: Number(p[1]), line: Number(/:(\d+)$/.exec(p[0]!)![1]), asm: p[3]! });
  }
  return insns;
}

/** The address after `CALL callee` in fn, and the call's line. */
function retAfterCall(insns: Insn[], callee: string): { ret: number; line: number } {
  const i = insns.findIndex((x) => x.asm.startsWith('CALL ') && (callee === '*' || x.asm.includes(`${callee}(SB)`)));
  assert.ok(i >= 0 && i + 1 < insns.length, `no CALL ${callee}`);
  return { ret: insns[i + 1]!.addr, line: insns[i]!.line };
}

function callerOf(p: Profile, leaf: string): Map<string, number> {
  const st = p.stacks!;
  const name = (l: number) => {
    const fr = st.locations[l]!.frames;
    return fr.length ? p.functions[fr[fr.length - 1]!.function]!.name : '?';
  };
  const m = new Map<string, number>();
  st.stacks.forEach((s, i) => {
    if (name(s[0]!) === leaf) m.set(s.length > 1 ? name(s[1]!) : '', (m.get(s.length > 1 ? name(s[1]!) : '') ?? 0) + st.counts[i]!);
  });
  return m;
}

describe('eBPF sampler ingest: the caller skipped at frameless points', () => {
  for (const tc of goToolchains()) {
    it(`repairs exactly when the SP word is a return address, and counts the rest (Go ${tc.version})`, () => {
      const path = buildGoFixture('frameless', tc);
      const bin = loadBinary(path);
      const crunch = objdump(tc, path, 'main.crunch');
      const heavy = objdump(tc, path, 'main.heavy');
      const intoMain = retAfterCall(objdump(tc, path, 'main.main'), 'main.crunch');
      const intoRuntimeMain = retAfterCall(objdump(tc, path, 'runtime.main'), '*'); // an outer frame: any call in runtime.main
      const loopPc = crunch.find((x) => /^J(G|L|LT|GT|NE)\b/.test(x.asm))?.addr ?? crunch[2]!.addr;
      const heavyBody = heavy[Math.floor(heavy.length / 2)]!;
      assert.ok(!/^(PUSHQ|POPQ|RET|SUBQ|ADDQ)/.test(heavyBody.asm));
      const p = ingestBpfProfile(
        wire([
          { count: 50, user: [loopPc, intoRuntimeMain.ret], spWord: intoMain.ret },
          { count: 7, user: [loopPc, intoRuntimeMain.ret], spWord: intoMain.ret + 1 },
          { count: 3, user: [loopPc, intoRuntimeMain.ret] },
          { count: 2, user: [loopPc, intoMain.ret, intoRuntimeMain.ret], spWord: intoMain.ret },
          { count: 11, user: [heavyBody.addr, intoRuntimeMain.ret], spWord: intoMain.ret },
        ]),
        bin,
      );
      assert.equal(p.totalSamples, 73);
      assert.equal(p.repairedCallerSamples, 50);
      assert.equal(p.missingCallerSamples, 10); // 7 not after a CALL + 3 without a word
      const callers = callerOf(p, 'main.crunch');
      assert.equal(callers.get('main.main'), 52); // 50 repaired + 2 already whole
      assert.equal(callers.get('runtime.main'), 10);
      assert.equal(callerOf(p, 'main.heavy').get('runtime.main'), 11, 'a framed leaf is left alone');
      const t = p.callTree;
      const edge = t.functions.findIndex(
        (f, i) =>
          p.functions[f]!.name === 'main.crunch' && t.parents[i]! >= 0 && p.functions[t.functions[t.parents[i]!]!]!.name === 'main.main',
      );
      assert.ok(edge >= 0);
      assert.equal(t.callLines[edge], intoMain.line, 'call line of main.main → main.crunch (objdump)');
      assert.ok(
        (p.warnings ?? []).some((w) => /10 sample\(s\).*still have an unknown caller/.test(w)),
        JSON.stringify(p.warnings),
      );
    });
  }

  for (const tc of goToolchains()) {
    it(`counts every sample whose callers cannot be known: no user stack, a stack as deep as the walk, a dropped record (Go ${tc.version})`, () => {
      const path = buildGoFixture('frameless', tc);
      const bin = loadBinary(path);
      const crunch = objdump(tc, path, 'main.crunch');
      const heavy = objdump(tc, path, 'main.heavy');
      const intoMain = retAfterCall(objdump(tc, path, 'main.main'), 'main.crunch');
      const intoRuntimeMain = retAfterCall(objdump(tc, path, 'runtime.main'), '*');
      const goexitRet = objdump(tc, path, 'runtime.goexit.abi0')[0]!.addr + 1; // the bottom of a goroutine's stack (an assembly function)
      const loopPc = crunch.find((x) => /^J(G|L|LT|GT|NE)\b/.test(x.asm))?.addr ?? crunch[2]!.addr;
      const heavyBody = heavy[Math.floor(heavy.length / 2)]!.addr;
      const deep = (leaf: number, bottom: number): number[] => [leaf, ...Array<number>(125).fill(intoRuntimeMain.ret), bottom];
      const w = wire([
        { count: 4, user: [heavyBody], userStackError: -14 }, // no user stack: callers unknown
        { count: 6, user: [loopPc], userStackError: -14, spWord: intoMain.ret }, // caller repaired, its callers unknown
        { count: 5, user: deep(heavyBody, intoRuntimeMain.ret) }, // 127 frames, no bottom: cut
        { count: 2, user: deep(loopPc, intoRuntimeMain.ret) }, // cut, and a frameless leaf without a word: counted once
        { count: 8, user: deep(heavyBody, goexitRet) }, // 127 frames that end at goexit: whole
        { count: 20, user: [heavyBody, intoMain.ret, goexitRet] }, // whole
      ]);
      w.stats.ringFull = 9;
      w.unreceived = 1;
      w.stats.userStackErrors = 10;
      const p = ingestBpfProfile(w, bin);
      assert.equal(p.totalSamples, 45);
      assert.equal(p.truncatedStackSamples, 4 + 6 + 5 + 2);
      assert.equal(p.missingCallerSamples, 4 + 6 + 5 + 2);
      assert.equal(p.repairedCallerSamples, 6);
      assert.equal(p.lostSamples, 10);
      const ws = p.warnings ?? [];
      assert.ok(
        ws.some((x) =>
          /^10 sample\(s\) were dropped \(9 found the sampler's 1024 KB ring buffer full, 1 never arrived\): counted as lost/.test(x),
        ),
        JSON.stringify(ws),
      );
      assert.ok(
        ws.some((x) => /^10 sample\(s\) kept only their leaf/.test(x)),
        JSON.stringify(ws),
      );
      assert.ok(
        ws.some((x) => /^7 sample\(s\) had stacks of 127 frames, as deep as the kernel walks/.test(x)),
        JSON.stringify(ws),
      );
      assert.match(stacksText(p)!, /\(eBPF sampler\); unknown caller: 37\.78% \(17 of 45 samples\)$/);
    });
  }

  it('takes the stacks in batch by batch as the sampler sends them: the same profile as one ingest of them all, and malformed batches refused', () => {
    const tc = newestGo();
    const path = buildGoFixture('frameless', tc);
    const crunch = objdump(tc, path, 'main.crunch');
    const heavyBody = objdump(tc, path, 'main.heavy')[5]!.addr;
    const intoMain = retAfterCall(objdump(tc, path, 'main.main'), 'main.crunch');
    const intoRuntimeMain = retAfterCall(objdump(tc, path, 'runtime.main'), '*');
    const loopPc = crunch.find((x) => /^J(G|L|LT|GT|NE)\b/.test(x.asm))?.addr ?? crunch[2]!.addr;
    const batches: WireBpfStack[][] = [
      [
        { count: 5, user: [loopPc, intoRuntimeMain.ret], spWord: intoMain.ret },
        { count: 2, user: [heavyBody], userStackError: -14 },
      ],
      [
        { count: 3, user: [heavyBody, intoMain.ret, intoRuntimeMain.ret] },
        { count: 4, user: [loopPc, intoRuntimeMain.ret], spWord: intoMain.ret }, // a stack seen before, again
      ],
      [{ count: 1, user: [loopPc, intoRuntimeMain.ret] }],
    ];
    // One ingest of all: equal stacks merged (as a sampler sending once would), in the order first seen.
    const whole = wire(mergeStacks(batches.flat()), {}, { ringFull: 3, userStackErrors: 2 });
    const oneShot = ingestBpfProfile(whole, loadBinary(path));

    const ingest = new BpfProfileIngest(loadBinary(path));
    const sofar: number[] = [];
    for (const stacks of batches.slice(0, -1)) {
      // A partial: the stacks since the last one, the counters so far (unreceived only at the end).
      const partial = { ...whole, stacks, unreceived: undefined };
      ingest.add(partial);
      const p = ingest.profile(partial);
      sofar.push(p.totalSamples);
      assert.equal(p.lostSamples, 3, 'a partial counts what found the ring full');
    }
    assert.deepEqual(sofar, [7, 14]);
    // Malformed batches: refused whole, before anything of them is taken in.
    const bad: unknown[] = [
      {
        ...whole,
        stacks: [
          { count: 1, user: [loopPc] },
          { count: 1, user: ['0x1'] },
        ],
      },
      { ...whole, stacks: [{ count: -1, user: [loopPc] }] },
      { ...whole, stacks: 'x' },
      { ...whole, loadBias: undefined },
      { ...whole, stats: { ...whole.stats, ringFull: undefined } },
    ];
    for (const b of bad)
      assert.throws(
        () => ingest.add(b as typeof whole),
        (e: unknown) => e instanceof UserError && e.code === 'helper-protocol',
      );
    assert.equal(ingest.samples, 14);
    ingest.add({ ...whole, stacks: batches[2]! });
    assert.deepEqual(ingest.profile(whole), oneShot);
  });
});
