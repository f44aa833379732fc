/**
 * findGoProbePoints on hand-assembled amd64 code: the three shapes of Go's stack check, a
 * NOSPLIT function, several RETs, a tail jump out of the function, and bytes that are not a
 * stack check. Encodings are the ones Go's assembler emits (checked with objdump).
 */
import { strict as assert } from 'node:assert';
import { findGoProbePoints } from '../../../src/formats/goProbePoints';

const BASE = 0x401000n;
const hex = (s: string) =>
  Uint8Array.from(
    s
      .trim()
      .split(/\s+/)
      .map((b) => parseInt(b, 16)),
  );

describe('findGoProbePoints (iced-x86)', () => {
  it('small frame: CMPQ SP, 16(R14); JLS → entry after the JLS; every RET', () => {
    const code = hex(
      `
      49 3b 66 10        ` /* +0  cmp rsp,[r14+10h] */ +
        `
      76 0a              ` /* +4  jbe +10 → +16 (morestack call) */ +
        `
      55                 ` /* +6  push rbp */ +
        `
      48 89 e5           ` /* +7  mov rbp,rsp */ +
        `
      5d                 ` /* +10 pop rbp */ +
        `
      c3                 ` /* +11 ret */ +
        `
      5d                 ` /* +12 pop rbp */ +
        `
      c3                 ` /* +13 ret */ +
        `
      90 90              ` /* +14 nop nop */ +
        `
      e8 00 00 00 00     ` /* +16 call (morestack) */ +
        `
      eb e9              ` /* +21 jmp -23 → +0: back to the entry, inside the function */ +
        `
      cc cc cc           ` /* +23 int3 padding */,
    );
    const p = findGoProbePoints(code, BASE);
    assert.equal(p.stackCheck, true);
    assert.equal(p.entry, BASE + 6n);
    assert.deepEqual(p.rets, [BASE + 11n, BASE + 13n]);
    assert.deepEqual(p.exitJumps, []);
  });

  it('big frame: LEAQ -N(SP), R12; CMPQ R12, 16(R14); JLS', () => {
    const code = hex(
      `
      4c 8d a4 24 60 ff ff ff ` /* +0  lea r12,[rsp-0A0h] */ +
        `
      4d 3b 66 10             ` /* +8  cmp r12,[r14+10h] */ +
        `
      76 02                   ` /* +12 jbe +2 */ +
        `
      55                      ` /* +14 push rbp */ +
        `
      c3                      ` /* +15 ret */ +
        `
      c3                      ` /* +16 ret (the morestack path is elided) */,
    );
    const p = findGoProbePoints(code, BASE);
    assert.equal(p.stackCheck, true);
    assert.equal(p.entry, BASE + 14n);
    assert.deepEqual(p.rets, [BASE + 15n, BASE + 16n]);
  });

  it('huge frame: MOVQ SP, R12; SUBQ $N, R12; JCS; CMPQ R12, 16(R14); JLS', () => {
    const code = hex(
      `
      49 89 e4                ` /* +0  mov r12,rsp */ +
        `
      49 81 ec 98 1f 00 00    ` /* +3  sub r12,1F98h */ +
        `
      72 08                   ` /* +10 jb +8 (JCS: not the stack check) */ +
        `
      4d 3b 66 10             ` /* +12 cmp r12,[r14+10h] */ +
        `
      76 02                   ` /* +16 jbe +2 */ +
        `
      55                      ` /* +18 push rbp */ +
        `
      c3                      ` /* +19 ret */,
    );
    const p = findGoProbePoints(code, BASE);
    assert.equal(p.stackCheck, true);
    assert.equal(p.entry, BASE + 18n);
    assert.deepEqual(p.rets, [BASE + 19n]);
  });

  it('ABI0 assembly: g from TLS in RCX, then CMPQ SP, 16(CX); JLS', () => {
    const code = hex(
      `
      64 48 8b 0c 25 f8 ff ff ff ` /* +0 mov rcx,fs:[0FFFFFFFFFFFFFFF8h] */ +
        `
      48 3b 61 10                ` /* +9 cmp rsp,[rcx+10h] */ +
        `
      76 01                      ` /* +13 jbe +1 */ +
        `
      c3                         ` /* +15 ret */,
    );
    const p = findGoProbePoints(code, BASE);
    assert.equal(p.entry, BASE + 15n);
    assert.deepEqual(p.rets, [BASE + 15n]);
  });

  it('NOSPLIT leaf: no stack check → the first instruction; a comparison with another offset is not a check', () => {
    const code = hex(
      `
      48 8b 08        ` /* +0 mov rcx,[rax] */ +
        `
      48 3b 48 18     ` /* +3 cmp rcx,[rax+18h]: not stackguard0 */ +
        `
      76 01           ` /* +7 jbe +1 */ +
        `
      c3              ` /* +9 ret */ +
        `
      c3              ` /* +10 ret */,
    );
    const p = findGoProbePoints(code, BASE);
    assert.equal(p.stackCheck, false);
    assert.equal(p.entry, BASE);
    assert.deepEqual(p.rets, [BASE + 9n, BASE + 10n]);
  });

  it('reports unconditional jumps that leave the function (tail calls): their returns are not seen', () => {
    const code = hex(
      `
      48 89 c3         ` /* +0 mov rbx,rax */ +
        `
      e9 00 10 00 00   ` /* +3 jmp +0x1000: outside */ +
        `
      c3               ` /* +8 ret */,
    );
    const p = findGoProbePoints(code, BASE);
    assert.deepEqual(p.exitJumps, [BASE + 3n]);
    assert.deepEqual(p.rets, [BASE + 8n]);
  });

  it('a RET byte inside another instruction is not a RET', () => {
    const code = hex(
      `
      b8 c3 c3 c3 c3   ` /* +0 mov eax,0C3C3C3C3h */ +
        `
      c3               ` /* +5 ret */,
    );
    assert.deepEqual(findGoProbePoints(code, BASE).rets, [BASE + 5n]);
  });
});
