/**
 * The x86-64 call-site decoder against iced-x86 (the independent reference): instruction by
 * instruction over every function of Go binaries built now with every installed toolchain
 * (plus a C binary and /usr/bin programs for breadth), and over random byte sequences built
 * from every opcode of every map. Wherever ours answers, iced must agree exactly; where ours
 * says "don't know", nothing is claimed — but it may say so only rarely on Go code.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Code, Decoder, DecoderOptions, FlowControl, Instruction, OpKind } from 'iced-x86';
import { type ElfFile, parseElf } from '../../../src/formats/elf';
import { openGoPclntab } from '../../../src/formats/openGoPclntab';
import { decodeCalls, INDIRECT_TARGET, instructionLength, type X86Calls } from '../../../src/formats/x86Calls';
import { FramelessIndex } from '../../../src/symbolize/framelessCallers';
import { buildCFixture } from '../../support/cFixtures';
import { buildGoFixture, goToolchains } from '../../support/goToolchains';
import { seededRandom } from '../../support/symbolizerCompare';

interface IcedDecoded {
  /** Start offset and length of every instruction, from the entry. */
  offsets: number[];
  lengths: number[];
  invalid: boolean[];
  calls: X86Calls;
}

/** iced-x86 over the code from its first byte, with the calls listed as FramelessIndex has always listed them. */
function icedDecode(code: Uint8Array, address: number): IcedDecoded {
  const d = new Decoder(64, code, DecoderOptions.None);
  const ins = new Instruction();
  const out: IcedDecoded = { offsets: [], lengths: [], invalid: [], calls: { ends: [], targets: [] } };
  try {
    d.ip = BigInt(address);
    let off = 0;
    while (d.canDecode) {
      d.decodeOut(ins);
      out.offsets.push(off);
      out.lengths.push(ins.length);
      out.invalid.push(ins.code === Code.INVALID);
      off += ins.length;
      const fc = ins.flowControl;
      if (fc === FlowControl.Call) {
        out.calls.ends.push(address + off);
        out.calls.targets.push(ins.op0Kind === OpKind.NearBranch64 ? Number(ins.nearBranch64) : NaN);
      } else if (fc === FlowControl.IndirectCall) {
        out.calls.ends.push(address + off);
        out.calls.targets.push(INDIRECT_TARGET);
      }
    }
  } finally {
    ins.free();
    d.free();
  }
  return out;
}

/** iced's verdict on the instruction at the start of `bytes`: its length, or 0 when invalid. */
function icedLength(bytes: Uint8Array, ins: Instruction): number {
  const d = new Decoder(64, bytes, DecoderOptions.None); // it copies the bytes: one per sequence
  try {
    d.decodeOut(ins);
  } finally {
    d.free();
  }
  return ins.code === Code.INVALID ? 0 : ins.length;
}

interface Tally {
  funcs: number;
  fallbackFuncs: number;
  bytes: number;
  fallbackBytes: number;
  instructions: number;
  known: number;
  /** First unknown instruction of each fallen-back function: its first bytes (hex) → count. */
  unknown: Map<string, number>;
}

function newTally(): Tally {
  return { funcs: 0, fallbackFuncs: 0, bytes: 0, fallbackBytes: 0, instructions: 0, known: 0, unknown: new Map() };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Compares one function (or any code decoded from its first byte) and tallies fallbacks. */
function compareCode(code: Uint8Array, address: number, what: string, t: Tally): void {
  const ref = icedDecode(code, address);
  let firstUnknown: number | undefined;
  for (let k = 0; k < ref.offsets.length; k++) {
    const off = ref.offsets[k]!;
    const ours = instructionLength(code, off);
    t.instructions++;
    if (ours === 0) {
      firstUnknown ??= off;
      continue;
    }
    t.known++;
    if (ref.invalid[k] || ours !== ref.lengths[k]) {
      assert.fail(
        `${what}+0x${off.toString(16)}: ours ${ours} bytes, iced ${ref.invalid[k] ? 'INVALID' : ref.lengths[k]} (${hex(code.subarray(off, off + 16))})`,
      );
    }
  }
  const calls = decodeCalls(code, address);
  t.funcs++;
  t.bytes += code.length;
  if (calls) {
    assert.equal(firstUnknown, undefined, `${what}: decodeCalls answered although an instruction is unknown`);
    assert.deepEqual(calls, ref.calls, `${what}: calls differ from iced-x86`);
  } else {
    assert.notEqual(firstUnknown, undefined, `${what}: decodeCalls gave up although every instruction is known`);
    t.fallbackFuncs++;
    t.fallbackBytes += code.length;
    const key = hex(code.subarray(firstUnknown!, Math.min(code.length, firstUnknown! + 6)));
    t.unknown.set(key, (t.unknown.get(key) ?? 0) + 1);
  }
}

function report(name: string, t: Tally): string {
  const top = [...t.unknown.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([k, n]) => `${k}×${n}`)
    .join(' ');
  return (
    `${name}: ${t.fallbackFuncs}/${t.funcs} functions (${((100 * t.fallbackBytes) / Math.max(1, t.bytes)).toFixed(2)}% of bytes) fall back to iced; ` +
    `${t.known}/${t.instructions} instructions known${top ? `; first unknown bytes: ${top}` : ''}`
  );
}

function textReader(elf: ElfFile) {
  return (vaddr: number, len: number): Uint8Array | undefined => {
    const off = elf.fileOffsetOf(BigInt(vaddr));
    return off === undefined || off + len > elf.bytes.length ? undefined : elf.bytes.subarray(off, off + len);
  };
}

describe('x86Calls: against iced-x86 on every function of Go binaries (every toolchain)', function () {
  this.timeout(900_000);
  const toolchains = goToolchains();
  it('has Go toolchains to test with', () => assert.ok(toolchains.length > 0, 'no Go toolchain: run scripts/setup.sh'));
  for (const tc of toolchains) {
    for (const fixture of ['asmheavy', 'exampleservice', 'perfload']) {
      it(`go${tc.version} ${fixture}: lengths and calls equal iced's; ≤ 1% of functions and bytes fall back`, () => {
        const elf = parseElf(fs.readFileSync(buildGoFixture(fixture, tc)));
        const tab = openGoPclntab(elf);
        assert.ok(tab, 'no .gopclntab');
        const read = textReader(elf);
        const t = newTally();
        for (let i = 0; i < tab.nfunc; i++) {
          const entry = tab.entryOf(i),
            end = tab.endOf(i);
          const code = end > entry ? read(entry, end - entry) : undefined;
          if (!code) continue;
          compareCode(code, entry, `${tab.funcName(tab.func(i))}@0x${entry.toString(16)}`, t);
        }
        console.log(`      ${report(`go${tc.version} ${fixture}`, t)}`);
        assert.ok(t.funcs > 1000, `only ${t.funcs} functions`);
        assert.ok(t.fallbackFuncs <= 0.01 * t.funcs, `${t.fallbackFuncs} of ${t.funcs} functions fall back`);
        assert.ok(t.fallbackBytes <= 0.01 * t.bytes, `${t.fallbackBytes} of ${t.bytes} bytes fall back`);
      });
    }
  }

  it('FramelessIndex answers as before and counts its fallbacks', () => {
    const tc = toolchains[toolchains.length - 1]!;
    const elf = parseElf(fs.readFileSync(buildGoFixture('asmheavy', tc)));
    const tab = openGoPclntab(elf)!;
    const read = textReader(elf);
    const idx = new FramelessIndex(tab, read);
    let goexit = -2;
    for (let i = 0; i < tab.nfunc; i++) if (tab.funcName(tab.func(i)) === 'runtime.goexit') goexit = tab.entryOf(i);
    let checked = 0;
    for (let i = 0; i < tab.nfunc; i++) {
      const entry = tab.entryOf(i),
        end = tab.endOf(i);
      const code = read(entry, end - entry);
      if (!code) continue;
      const ref = icedDecode(code, entry);
      const ends = new Set(ref.calls.ends);
      // Every instruction end is a return address exactly when iced says a call ends there.
      for (let k = 0; k < ref.offsets.length; k++) {
        const at = entry + ref.offsets[k]! + ref.lengths[k]!;
        if (at >= end || at === goexit + 1) continue; // the next function's byte; goexit+1 is a return address by design
        assert.equal(idx.isReturnAddress(at), ends.has(at), `0x${at.toString(16)}`);
        checked++;
      }
    }
    assert.ok(checked > 10_000);
    assert.ok(idx.icedFallbacks <= 0.01 * tab.nfunc, `${idx.icedFallbacks} fallbacks`);
  });
});

describe('x86Calls: against iced-x86 on a C binary and /usr/bin programs', function () {
  this.timeout(600_000);
  const files = ['/usr/bin/perf', '/usr/bin/gdb', '/usr/bin/bash', '/usr/bin/python3'].filter((f) => fs.existsSync(f));
  it("every instruction ours knows has iced's length (.text, decoded from each function symbol)", () => {
    const bins = [buildCFixture('inline', ['-O2', '-g']), ...files];
    for (const bin of bins) {
      const elf = parseElf(fs.readFileSync(bin));
      const read = textReader(elf);
      const t = newTally();
      const syms = elf.symbols().filter((s) => s.type === 2 /* STT_FUNC */ && s.size > 0);
      for (const s of syms.slice(0, 3000)) {
        const code = read(Number(s.value), Number(s.size));
        if (code) compareCode(code, Number(s.value), `${bin}:${s.name}`, t);
      }
      console.log(`      ${report(bin, t)}`);
      assert.ok(t.known > 0.5 * t.instructions || t.instructions === 0, 'ours knows too little of this code');
    }
  });
});

describe('x86Calls: fuzz against iced-x86 (seeded)', function () {
  this.timeout(600_000);
  const PREFIXES = [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65];
  let ins: Instruction;
  const buf = new Uint8Array(32);
  before(() => {
    ins = new Instruction();
  });
  after(() => ins.free());

  /** Checks the bytes in buf; returns whether ours knew them. */
  function check(): boolean {
    const ours = instructionLength(buf, 0);
    if (ours === 0) return false;
    const ref = icedLength(buf, ins);
    if (ours !== ref) assert.fail(`${hex(buf.subarray(0, 16))}: ours ${ours} bytes, iced ${ref === 0 ? 'INVALID' : ref}`);
    // A call as ours sees it is one for iced too, and the other way round.
    const calls = decodeCalls(buf.subarray(0, ours), 0x1000);
    const fc = ins.flowControl;
    assert.equal(calls?.ends.length, fc === FlowControl.Call || fc === FlowControl.IndirectCall ? 1 : 0, hex(buf.subarray(0, ours)));
    return true;
  }

  it('random bytes', () => {
    const rnd = seededRandom(12345);
    let known = 0;
    for (let n = 0; n < 300_000; n++) {
      for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(rnd() * 256);
      if (check()) known++;
    }
    console.log(`      random: ours knew ${known} of 300000`);
    assert.ok(known > 10_000);
  });

  it('random prefixes + every opcode of every map (legacy, 0F, 0F38, 0F3A, VEX C5/C4, EVEX) + random ModRM/SIB/disp/imm', () => {
    const rnd = seededRandom(777);
    const byte = () => Math.floor(rnd() * 256);
    const heads: { name: string; head: (op: number) => number[]; vex: boolean }[] = [
      { name: 'one-byte', head: (op) => [op], vex: false },
      { name: '0F', head: (op) => [0x0f, op], vex: false },
      { name: '0F38', head: (op) => [0x0f, 0x38, op], vex: false },
      { name: '0F3A', head: (op) => [0x0f, 0x3a, op], vex: false },
      { name: 'VEX C5', head: (op) => [0xc5, byte(), op], vex: true },
      ...[1, 2, 3].map((m) => ({ name: `VEX C4 map ${m}`, head: (op: number) => [0xc4, (byte() & 0xe0) | m, byte(), op], vex: true })),
      // EVEX: mostly well-formed P0/P1 (reserved bits right), P2 random; sometimes all random.
      ...[1, 2, 3].map((m) => ({
        name: `EVEX map ${m}`,
        head: (op: number) =>
          rnd() < 0.2
            ? [0x62, byte(), byte(), byte(), op]
            : [0x62, (byte() & 0xf0) | m, byte() | 4, rnd() < 0.5 ? byte() & 0x6f : byte(), op],
        vex: true,
      })),
    ];
    const summary: string[] = [];
    for (const h of heads) {
      let known = 0,
        tried = 0;
      for (let op = 0; op < 256; op++) {
        for (let k = 0; k < 400; k++) {
          const bytes: number[] = [];
          const np = rnd() < 0.5 ? 0 : Math.floor(rnd() * 4);
          for (let i = 0; i < np; i++) bytes.push(PREFIXES[Math.floor(rnd() * PREFIXES.length)]!);
          // VEX: prefixes other than 67/segments are invalid before it: keep some cases valid.
          if (h.vex && rnd() < 0.7) bytes.length = 0;
          if (rnd() < 0.4) bytes.push(0x40 | Math.floor(rnd() * 16));
          bytes.push(...h.head(op));
          // ModRM: register form, memory forms with SIB (base 101 too), RIP-relative.
          const modrmKind = rnd();
          const modrm =
            modrmKind < 0.25
              ? 0xc0 | byte()
              : modrmKind < 0.4
                ? (byte() & 0x38) | 0x05
                : modrmKind < 0.55
                  ? (byte() & 0xf8) | 0x04
                  : byte();
          bytes.push(modrm, modrmKind < 0.7 && rnd() < 0.5 ? (byte() & 0xf8) | 5 : byte());
          while (bytes.length < buf.length) bytes.push(byte());
          buf.set(bytes.slice(0, buf.length));
          tried++;
          if (check()) known++;
        }
      }
      summary.push(`${h.name} ${known}/${tried}`);
    }
    console.log(`      known: ${summary.join(', ')}`);
  });

  it('every VEX and EVEX map, pp and opcode, with random R/X/B/W/vvvv/L/z/b/aaa bits', () => {
    const rnd = seededRandom(4242);
    const byte = () => Math.floor(rnd() * 256);
    let vex = 0,
      evex = 0;
    for (let map = 1; map <= 3; map++) {
      for (let pp = 0; pp < 4; pp++) {
        for (let op = 0; op < 256; op++) {
          for (let k = 0; k < 48; k++) {
            const tail = Array.from({ length: 24 }, byte);
            // vvvv unused (1111) half of the time, so instructions that need it so are reached.
            const vvvv = rnd() < 0.5 ? 0x78 : byte() & 0x78;
            buf.set([0xc4, (byte() & 0xe0) | map, (byte() & 0x84) | vvvv | pp, op, ...tail].slice(0, buf.length));
            if (check()) vex++;
            const p2 = rnd() < 0.6 ? (byte() & 0x67) | 0x08 : byte(); // z=0, b=0, V'=1 most of the time
            buf.set([0x62, (byte() & 0xf0) | map, (byte() & 0x80) | vvvv | 4 | pp, p2, op, ...tail].slice(0, buf.length));
            if (check()) evex++;
          }
        }
      }
    }
    console.log(`      known: VEX ${vex}, EVEX ${evex} of ${3 * 4 * 256 * 48} each`);
    assert.ok(vex > 1000 && evex > 100);
  });

  it('truncated instructions are "don\'t know", never a length past the end', () => {
    const rnd = seededRandom(99);
    for (let n = 0; n < 20_000; n++) {
      for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(rnd() * 256);
      const full = instructionLength(buf, 0);
      if (full === 0) continue;
      for (let cut = 0; cut < full; cut++) assert.equal(instructionLength(buf.subarray(0, cut), 0), 0, hex(buf.subarray(0, full)));
      if (full > 1) assert.equal(decodeCalls(buf.subarray(0, full - 1), 0), undefined, hex(buf.subarray(0, full)));
    }
  });

  it('every instruction iced-x86 classes as a call is one ours recognizes or does not know', () => {
    // iced's own list of call codes: each encoding ours knows among them must be listed as a call.
    const known: string[] = [];
    for (const [bytes, want] of [
      ['e8 10 00 00 00', 0x1015],
      ['48 e8 f0 ff ff ff', 0x1006 - 0x10],
      ['ff d0', INDIRECT_TARGET],
      ['41 ff 14 24', INDIRECT_TARGET],
      ['ff 15 00 00 00 00', INDIRECT_TARGET],
      ['48 ff 18', INDIRECT_TARGET],
      ['ff 1c 25 00 00 00 00', INDIRECT_TARGET],
      ['0f 05', NaN],
    ] as const) {
      const code = Uint8Array.from(bytes.split(' ').map((x) => parseInt(x, 16)));
      const ours = decodeCalls(code, 0x1000);
      const ref = icedDecode(code, 0x1000).calls;
      assert.deepEqual(ours, ref, bytes);
      assert.equal(ours!.targets.length, 1, bytes);
      if (Number.isNaN(want)) assert.ok(Number.isNaN(ours!.targets[0]!), bytes);
      else assert.equal(ours!.targets[0], want, bytes);
      known.push(bytes);
    }
    assert.equal(known.length, 8);
  });
});
