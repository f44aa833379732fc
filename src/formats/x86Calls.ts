/**
 * A small, exact x86-64 (64-bit mode) instruction-length decoder that finds CALL instructions.
 *
 * It knows the encodings Go-compiled code and Go's runtime/std assembly use (general-purpose
 * instructions, x87, SSE–SSE4.2, AES-NI, PCLMULQDQ, SHA-NI, BMI1/2, ADX, CRC32,
 * POPCNT/LZCNT/TZCNT, a set of AVX/AVX2/FMA VEX and of AVX-512 EVEX encodings) and answers "don't know" for
 * everything else: an unknown opcode, a prefix combination it is unsure of, an encoding that
 * iced-x86 (the reference, see framelessCallers.ts) would call invalid, or a truncated
 * instruction. "Don't know" means "ask a full decoder", never a guess.
 *
 * Tables follow the opcode maps of the Intel SDM vol. 2 (appendix A) and the per-instruction
 * pages for validity (mandatory prefixes, register-only / memory-only forms, VEX.L/W/vvvv).
 */

/** What decodeCalls() learns: every CALL in address order. */
export interface X86Calls {
  /** Address just past each call (its return address). */
  ends: number[];
  /**
   * Its target: the address for CALL rel32, INDIRECT_TARGET for CALL r/m64 and far CALL m16:xx,
   * NaN for a call with no near target (SYSCALL, which iced-x86 classes FlowControl.Call).
   */
  targets: number[];
}

/** Target of an indirect call (FF /2, FF /3). */
export const INDIRECT_TARGET = -1;

// Operand shapes, one letter per opcode.
//   .  unknown or invalid in 64-bit mode        n  no operands beyond the opcode
//   b  imm8      w  imm16     z  imm16/32 (66)   v  imm16/32/64 (66, REX.W: B8+r)
//   o  moffs (8 bytes, 4 with 67)               e  imm16 + imm8 (ENTER)
//   j  rel8 branch    J  rel32 branch            c  CALL rel32
//   m  ModRM     M  ModRM, memory only           R  ModRM, register only
//   i  ModRM + imm8    I  ModRM + imm16/32 (66)  g  a group decided by ModRM (groupImm1/groupImm0F)
//   s  SYSCALL (a call without a near target)
const S_UNKNOWN = 0,
  S_NONE = 1,
  S_IB = 2,
  S_IW = 3,
  S_IZ = 4,
  S_IV = 5,
  S_MOFFS = 6,
  S_ENTER = 7,
  S_REL8 = 8,
  S_REL32 = 9,
  S_CALL = 10,
  S_M = 11,
  S_MEM = 12,
  S_REG = 13,
  S_MIB = 14,
  S_MIZ = 15,
  S_GROUP = 16,
  S_SYSCALL = 17;
const SHAPE_CODES: Record<string, number> = {
  '.': S_UNKNOWN,
  n: S_NONE,
  b: S_IB,
  w: S_IW,
  z: S_IZ,
  v: S_IV,
  o: S_MOFFS,
  e: S_ENTER,
  j: S_REL8,
  J: S_REL32,
  c: S_CALL,
  m: S_M,
  M: S_MEM,
  R: S_REG,
  i: S_MIB,
  I: S_MIZ,
  g: S_GROUP,
  s: S_SYSCALL,
};

function shapes(rows: string[]): Uint8Array {
  const s = rows.join('');
  if (s.length !== 256) throw new Error(`x86 table has ${s.length} entries`);
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    const v = SHAPE_CODES[s[i]!];
    if (v === undefined) throw new Error(`x86 table: bad shape ${s[i]}`);
    t[i] = v;
  }
  return t;
}

/** Hex digits: which mandatory prefix is valid (bit 0: none, 1: 66, 2: F3, 3: F2); 0 = invalid. */
function masks(rows: string[]): Uint8Array {
  const s = rows.join('');
  if (s.length !== 256) throw new Error(`x86 mask table has ${s.length} entries`);
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = parseInt(s[i]!, 16);
  return t;
}

// The one-byte map. Prefixes (26 2E 36 3E 64 65 66 67 F0 F2 F3), REX (40–4F), the 0F escape and
// VEX/EVEX (C4 C5 62) are handled before the table; invalid-in-64-bit opcodes are '.'.
const MAP1 = shapes([
  'mmmmbz..mmmmbz..', // 00 ADD, 06/07 PUSH/POP ES invalid; 08 OR, 0E invalid, 0F escape
  'mmmmbz..mmmmbz..', // 10 ADC; 18 SBB (16 17 1E 1F invalid)
  'mmmmbz..mmmmbz..', // 20 AND (26 prefix, 27 DAA invalid); 28 SUB (2E prefix, 2F DAS invalid)
  'mmmmbz..mmmmbz..', // 30 XOR (36, 37 AAA); 38 CMP (3E, 3F AAS)
  '................', // 40 REX
  'nnnnnnnnnnnnnnnn', // 50 PUSH r, 58 POP r
  '...m....zIbinnnn', // 60-62 invalid/EVEX, 63 MOVSXD, 64-67 prefixes, 68 PUSH imm, 69 IMUL, 6A, 6B, 6C INS/OUTS
  'jjjjjjjjjjjjjjjj', // 70 Jcc rel8
  'iI.immmmmmmmgMgg', // 80 grp1, 82 invalid, 84 TEST, 86 XCHG, 88 MOV, 8C MOV Sreg, 8D LEA, 8E, 8F POP
  'nnnnnnnnnn.nnnnn', // 90 XCHG/NOP, 98 CBW, 99 CWD, 9A invalid, 9B WAIT, 9C PUSHF..9F LAHF
  'oooonnnnbznnnnnn', // A0 MOV moffs, A4 MOVS, A6 CMPS, A8 TEST imm, AA STOS, AC LODS, AE SCAS
  'bbbbbbbbvvvvvvvv', // B0 MOV r8, imm8; B8 MOV r, imm
  'iiwn..ggenwnnb.n', // C0 shifts, C2 RET imm16, C3 RET, C4/C5 VEX, C6/C7 MOV imm, C8 ENTER, C9 LEAVE, CA RETF, CC INT3, CD INT, CE INTO invalid, CF IRET
  'mmmm...ngggggggg', // D0 shifts, D4-D6 invalid, D7 XLAT, D8 x87
  'jjjjbbbbcJ.jnnnn', // E0 LOOP, E3 JrCXZ, E4 IN/OUT, E8 CALL, E9 JMP, EA invalid, EB JMP, EC IN/OUT
  '.n..nnggnnnnnngg', // F0 LOCK, F1 INT1, F4 HLT, F5 CMC, F6/F7 grp3, F8 CLC..FD STD, FE grp4, FF grp5
]);

// The 0F map: shapes, then valid mandatory prefixes. Legacy (non-SSE) instructions allow
// none/66 (3) or none only (1); F2/F3 on them are answered "don't know".
const MAP0F = shapes([
  '.g...snnnn.n.g..', // 00 grp6, 01 grp7, 05 SYSCALL, 06 CLTS, 07 SYSRET, 08 INVD, 09 WBINVD, 0B UD2, 0D prefetch
  'mmgMmmgMg.....gm', // 10 MOVUPS.., 12 MOVLPS.., 14 UNPCK, 16 MOVHPS.., 18 prefetch grp, 1E ENDBR, 1F NOP
  '........mmmMmmmm', // 28 MOVAPS, 2A CVT, 2B MOVNT, 2C CVTT, 2D CVT, 2E UCOMIS, 2F COMIS
  'nnnn............', // 30 WRMSR, RDTSC, RDMSR, RDPMC
  'mmmmmmmmmmmmmmmm', // 40 CMOVcc
  'Rmmmmmmmmmmmmmmm', // 50 MOVMSK, 51 SQRT .. 5F MAX
  'mmmmmmmmmmmmmmmm', // 60 PUNPCK.. 6E MOVD, 6F MOVQ/MOVDQA/MOVDQU
  'igggmmmn....mmmm', // 70 PSHUF, 71-73 shift-by-imm groups, 74 PCMPEQ, 77 EMMS, 7C HADD, 7E MOVD, 7F MOV
  'JJJJJJJJJJJJJJJJ', // 80 Jcc rel32
  'mmmmmmmmmmmmmmmm', // 90 SETcc
  'nnnmim..nn.mimgm', // A0 PUSH FS, POP FS, CPUID, BT, SHLD, A8 PUSH/POP GS, AB BTS, SHRD, AE grp15, AF IMUL
  'mmMmMMmmm.gmmmmm', // B0 CMPXCHG, B2 LSS, B3 BTR, B4 LFS, LGS, B6 MOVZX, B8 POPCNT, BA grp8, BB BTC, BC BSF/TZCNT, BD, BE MOVSX
  'mmiMigignnnnnnnn', // C0 XADD, C2 CMPPS, C3 MOVNTI, C4 PINSRW, C5 PEXTRW, C6 SHUFPS, C7 grp9, C8 BSWAP
  'mmmmmmmRmmmmmmmm', // D0 ADDSUB, D1-D5, D6 MOVQ, D7 PMOVMSKB, D8-DF
  'mmmmmmmMmmmmmmmm', // E0-E6, E7 MOVNTDQ, E8-EF
  'MmmmmmmRmmmmmmm.', // F0 LDDQU, F1-F6, F7 MASKMOVDQU (reg), F8-FE
]);
const MASK0F = masks([
  '0100011111010100', // 01 grp7 (checks its prefixes), 05 SYSCALL, 06, 07, 08, 09, 0B UD2, 0D prefetch
  'fff3337310000043', // 10-12 all, 13-15 none/66, 16 none/66/F3, 17 none/66, 18 none, 1E F3, 1F none/66
  '0000000033f3ff33', // 28 29 none/66, 2A all, 2B none/66, 2C 2D all, 2E 2F none/66
  '1111000000000000', // 30-33
  '3333333333333333', // 40 CMOVcc
  '3f553333fff7ffff', // 50 none/66, 51 all, 52 53 none/F3, 54-57 none/66, 58-5A all, 5B none/66/F3, 5C-5F all
  '3333333333332237', // 60-6B none/66, 6C 6D 66, 6E none/66, 6F none/66/F3
  'f33333310000aa77', // 70 all, 71-76 none/66, 77 EMMS none, 7C 7D 66/F2, 7E 7F none/66/F3
  '3333333333333333', // 80 Jcc
  '3333333333333333', // 90 SETcc
  '1113330011033313', // A0-A2 none, A3-A5, A8 A9 none, AB-AD, AE grp15 none, AF
  '3333333340337733', // B0-B7, B8 POPCNT F3, BA, BB, BC BD none/66/F3, BE BF
  '33f1333111111111', // C0 C1, C2 all, C3 none, C4-C6 none/66, C7 grp9 none, C8 BSWAP none
  'a333332333333333', // D0 66/F2, D1-D5, D6 66, D7, D8-DF
  '333333e333333333', // E0-E5, E6 66/F3/F2, E7, E8-EF
  '8333333333333330', // F0 F2, F1-FE none/66
]);

// 0F 38: every instruction has ModRM and no immediate; 0F 3A: ModRM + imm8. Valid prefixes only.
const MASK0F38 = masks([
  '3333333333330000', // 00 PSHUFB, PHADD*, PMADDUBSW, PHSUB*, PSIGN*, PMULHRSW
  '2000220200003330', // 10 PBLENDVB, 14 BLENDVPS, 15 BLENDVPD, 17 PTEST, 1C-1E PABS
  '2222220022220000', // 20-25 PMOVSX, 28 PMULDQ, 29 PCMPEQQ, 2A MOVNTDQA (mem), 2B PACKUSDW
  '2222220222222222', // 30-35 PMOVZX, 37 PCMPGTQ, 38-3F PMIN/PMAX
  '2200000000000000', // 40 PMULLD, 41 PHMINPOSUW
  '0000000000000000',
  '0000000000000000',
  '0000000000000000',
  '0000000000000000',
  '0000000000000000',
  '0000000000000000',
  '0000000000000000',
  '0000000011111102', // C8-CD SHA1/SHA256, CF GF2P8MULB
  '0000000000022222', // DB AESIMC, DC-DF AESENC/AESENCLAST/AESDEC/AESDECLAST
  '0000000000000000',
  '8800006000000000', // F0/F1 CRC32 (F2; MOVBE not known here), F6 ADCX (66) / ADOX (F3)
]);
const MASK0F3A = masks([
  '0000000022222223', // 08-0B ROUND*, 0C 0D BLEND, 0E PBLENDW, 0F PALIGNR
  '0000222200000000', // 14 PEXTRB, 15 PEXTRW, 16 PEXTRD/Q, 17 EXTRACTPS
  '2220000000000000', // 20 PINSRB, 21 INSERTPS, 22 PINSRD/Q
  '0000000000000000',
  '2220200000000000', // 40 DPPS, 41 DPPD, 42 MPSADBW, 44 PCLMULQDQ
  '0000000000000000',
  '2222000000000000', // 60-63 PCMP[EI]STR[IM]
  '0000000000000000',
  '0000000000000000',
  '0000000000000000',
  '0000000000000000',
  '0000000000000000',
  '0000000000001022', // CC SHA1RNDS4, CE CF GF2P8AFFINE*
  '0000000000000002', // DF AESKEYGENASSIST
  '0000000000000000',
  '0000000000000000',
]);

// VEX encodings we know, as "map pp opcodes flags":
//   map 1 = 0F, 2 = 0F38, 3 = 0F3A; pp 0 none, 1 66, 2 F3, 3 F2
//   v  uses VEX.vvvv (else it must be 1111)      i  imm8 (is4 included)
//   M  memory only    R  register only           n  no ModRM (VZEROUPPER/VZEROALL)
//   L0 / L1  VEX.L must be 0 / 1                 W0 / W1  VEX.W must be 0 / 1
//   g  shift-by-imm group: ModRM.reg must be one of the digits after g
const VEX_SPEC = `
1 0 10 11 28 29         L*             VMOVUPS/VMOVAPS
1 1 10 11 28 29         L*             VMOVUPD/VMOVAPD
1 0 54 55 56 57 58 59 5C 5D 5E 5F v    VANDPS.. VMAXPS
1 1 54 55 56 57 58 59 5C 5D 5E 5F v    VANDPD.. VMAXPD
1 2 51 58 59 5C 5D 5E 5F v             VSQRTSS VADDSS.. VMAXSS
1 3 51 58 59 5C 5D 5E 5F v             VSQRTSD VADDSD.. VMAXSD
1 0 C2 C6               v i            VCMPPS VSHUFPS
1 1 C2 C6               v i            VCMPPD VSHUFPD
1 1 60 61 62 63 64 65 66 67 68 69 6A 6B 6C 6D v   VPUNPCK*/VPACK*/VPCMPGT*
1 1 74 75 76            v              VPCMPEQB/W/D
1 1 6F 7F               .              VMOVDQA
1 2 6F 7F               .              VMOVDQU
1 1 6E 7E               L0             VMOVD/VMOVQ
1 2 7E                  L0             VMOVQ xmm, xmm/m64
1 1 D6                  L0             VMOVQ xmm/m64, xmm
1 1 E7                  M              VMOVNTDQ
1 1 D7                  R              VPMOVMSKB
1 0 50                  R              VMOVMSKPS
1 1 D1 D2 D3 D4 D5 D8 D9 DA DB DC DD DE DF v    VPSRL*, VPADDQ, VPMULLW, VPSUBUS*, VPMINUB, VPAND, VPADDUS*, VPMAXUB, VPANDN
1 1 E0 E1 E2 E3 E4 E5 E8 E9 EA EB EC ED EE EF v VPAVG*, VPSRA*, VPMULH*, VPSUBS*, VPMINSW, VPOR, VPADDS*, VPMAXSW, VPXOR
1 1 F1 F2 F3 F4 F5 F6 F8 F9 FA FB FC FD FE v    VPSLL*, VPMULUDQ, VPMADDWD, VPSADBW, VPSUB*, VPADD*
1 1 70                  i              VPSHUFD
1 2 70                  i              VPSHUFHW
1 3 70                  i              VPSHUFLW
1 1 71                  v i R g246     VPSRLW/VPSRAW/VPSLLW imm
1 1 72                  v i R g246     VPSRLD/VPSRAD/VPSLLD imm
1 1 73                  v i R g2367    VPSRLQ/VPSRLDQ/VPSLLQ/VPSLLDQ imm
1 0 77                  n              VZEROUPPER/VZEROALL
1 1 C4                  v i L0         VPINSRW
1 1 C5                  i R L0         VPEXTRW
2 1 00 01 02 03 04 05 06 07 08 09 0A 0B v  VPSHUFB, VPHADD*, VPMADDUBSW, VPHSUB*, VPSIGN*, VPMULHRSW
2 1 1C 1D 1E            .              VPABSB/W/D
2 1 17                  .              VPTEST
2 1 20 21 22 23 24 25 30 31 32 33 34 35 .  VPMOVSX*/VPMOVZX*
2 1 28 29 2B 37 38 39 3A 3B 3C 3D 3E 3F 40 v  VPMULDQ, VPCMPEQQ, VPACKUSDW, VPCMPGTQ, VPMIN*/VPMAX*, VPMULLD
2 1 18                  W0             VBROADCASTSS
2 1 19                  L1 W0          VBROADCASTSD
2 1 58 59 78 79         W0             VPBROADCASTD/Q/B/W
2 1 5A                  L1 W0 M        VBROADCASTI128
2 1 1A                  L1 W0 M        VBROADCASTF128
2 1 16 36               v L1 W0        VPERMPS VPERMD
2 1 45 47               v              VPSRLVD/Q VPSLLVD/Q
2 1 46                  v W0           VPSRAVD
2 1 96 97 98 99 9A 9B 9C 9D 9E 9F v    FMA
2 1 A6 A7 A8 A9 AA AB AC AD AE AF v    FMA
2 1 B6 B7 B8 B9 BA BB BC BD BE BF v    FMA
2 1 DB                  L0             VAESIMC
2 1 DC DD DE DF         v              VAESENC..VAESDECLAST
2 0 F2                  v L0           ANDN
2 0 F3                  v L0 g123      BLSR/BLSMSK/BLSI
2 0 F5                  v L0           BZHI
2 2 F5                  v L0           PEXT
2 3 F5                  v L0           PDEP
2 3 F6                  v L0           MULX
2 0 F7                  v L0           BEXTR
2 1 F7                  v L0           SHLX
2 2 F7                  v L0           SARX
2 3 F7                  v L0           SHRX
3 1 00 01               i L1 W1        VPERMQ VPERMPD
3 1 02                  v i W0         VPBLENDD
3 1 06 46               v i L1 W0      VPERM2F128 VPERM2I128
3 1 18 38               v i L1 W0      VINSERTF128 VINSERTI128
3 1 19 39               i L1 W0        VEXTRACTF128 VEXTRACTI128
3 1 0C 0D 0E 0F         v i            VBLENDPS VBLENDPD VPBLENDW VPALIGNR
3 1 4A 4B 4C            v i W0         VBLENDVPS VBLENDVPD VPBLENDVB
3 1 44                  v i            VPCLMULQDQ
3 1 14 15 16            i L0           VPEXTRB/W/D/Q
3 1 20 22               v i L0         VPINSRB VPINSRD/Q
3 1 DF                  i L0           VAESKEYGENASSIST
3 1 60 61 62 63         i L0           VPCMP[EI]STR[IM]
3 3 F0                  i L0           RORX
`;

// EVEX encodings we know (same notation as VEX_SPEC). Only plain forms: EVEX.z = 0, EVEX.b = 0
// (no broadcast, rounding or SAE), L'L ≠ 11; opmask registers (aaa) are allowed.
const EVEX_SPEC = `
1 0 10 11 28 29         W0             VMOVUPS VMOVAPS
1 1 10 11 28 29         W1             VMOVUPD VMOVAPD
1 1 6F 7F               .              VMOVDQA32/64
1 2 6F 7F               .              VMOVDQU32/64
1 3 6F 7F               .              VMOVDQU8/16
1 1 DB DF EB EF         v              VPAND VPANDN VPOR VPXOR (D/Q by W)
1 1 FA FE               v W0           VPSUBD VPADDD
1 1 D4 FB               v W1           VPADDQ VPSUBQ
1 1 F8 F9 FC FD         v              VPSUBB/W VPADDB/W
2 1 00                  v              VPSHUFB
3 1 0F                  v i            VPALIGNR
`;

const V_VVVV = 1,
  V_IMM = 2,
  V_MEM = 4,
  V_REG = 8,
  V_NOMODRM = 16,
  V_L0 = 32,
  V_L1 = 64,
  V_W0 = 128,
  V_W1 = 256;
/** key: map << 10 | pp << 8 | opcode; value: flags | (allowed ModRM.reg bits << 16, 0 = any). */
const VEX = parseSpec(VEX_SPEC);
const EVEX = parseSpec(EVEX_SPEC);

function parseSpec(spec: string): Map<number, number> {
  const table = new Map<number, number>();
  for (const line of spec.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words.length < 3) continue;
    const map = Number(words[0]),
      pp = Number(words[1]);
    let flags = 0;
    const ops: number[] = [];
    for (const w of words.slice(2)) {
      if (/^[0-9A-F]{2}$/.test(w)) {
        ops.push(parseInt(w, 16));
        continue;
      }
      if (w === 'v') flags |= V_VVVV;
      else if (w === 'i') flags |= V_IMM;
      else if (w === 'M') flags |= V_MEM;
      else if (w === 'R') flags |= V_REG;
      else if (w === 'n') flags |= V_NOMODRM;
      else if (w === 'L0') flags |= V_L0;
      else if (w === 'L1') flags |= V_L1;
      else if (w === 'W0') flags |= V_W0;
      else if (w === 'W1') flags |= V_W1;
      else if (/^g[0-7]+$/.test(w)) {
        for (const d of w.slice(1)) flags |= 1 << (16 + Number(d));
      } else if (w === '.' || w === 'L*') {
        /* nothing beyond the defaults */
      } else break; // the instruction names
    }
    for (const op of ops) table.set((map << 10) | (pp << 8) | op, flags);
  }
  return table;
}

const P_66 = 1,
  P_F3 = 2,
  P_F2 = 4,
  P_LOCK = 8,
  P_67 = 16,
  P_SEG = 32;
/** Legacy prefix bytes and their P_ bit (segment overrides are ignored in 64-bit mode); 0 = not a prefix. */
const PREFIX = new Uint8Array(256);
PREFIX[0x66] = P_66;
PREFIX[0xf3] = P_F3;
PREFIX[0xf2] = P_F2;
PREFIX[0xf0] = P_LOCK;
PREFIX[0x67] = P_67;
for (const seg of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]) PREFIX[seg] = P_SEG;
/** Set by decodeOne: 1 after a direct CALL rel32, 2 after an indirect CALL, 3 after SYSCALL, else 0. */
let callKind = 0;

/** Bytes of ModRM + SIB + displacement at `at`, or 0 when truncated. `mod`/`rm` come from code[at]. */
function modrmLength(code: Uint8Array, at: number): number {
  if (at >= code.length) return 0;
  const modrm = code[at]!;
  const mod = modrm >> 6,
    rm = modrm & 7;
  if (mod === 3) return 1;
  let n = 1;
  if (rm === 4) {
    if (at + 1 >= code.length) return 0;
    n = 2;
    if (mod === 0 && (code[at + 1]! & 7) === 5) n += 4; // SIB base=101 with mod=00: disp32, no base
  } else if (mod === 0 && rm === 5) {
    n += 4; // RIP-relative disp32
  }
  if (mod === 1) n += 1;
  else if (mod === 2) n += 4;
  return n;
}

/** Whether a LOCK prefix is valid: memory-destination read-modify-write instructions only. */
function lockable(map: number, op: number, modrm: number): boolean {
  if (modrm >> 6 === 3) return false;
  const reg = (modrm >> 3) & 7;
  if (map === 0) {
    if (op < 0x38 && (op & 7) <= 1) return true; // ADD OR ADC SBB AND SUB XOR r/m, r
    if (op === 0x80 || op === 0x81 || op === 0x83) return reg !== 7; // not CMP
    if (op === 0x86 || op === 0x87) return true; // XCHG
    if (op === 0xf6 || op === 0xf7) return reg === 2 || reg === 3; // NOT NEG
    if (op === 0xfe || op === 0xff) return reg <= 1; // INC DEC
    return false;
  }
  if (op === 0xab || op === 0xb3 || op === 0xbb || op === 0xb0 || op === 0xb1 || op === 0xc0 || op === 0xc1) return true;
  if (op === 0xba) return reg >= 5;
  if (op === 0xc7) return reg === 1;
  return false;
}

/** The mandatory prefix index (0 none, 1 66, 2 F3, 3 F2): F2/F3 (only the last one is kept) before 66. */
function mandatory(p: number): number {
  return p & P_F3 ? 2 : p & P_F2 ? 3 : p & P_66 ? 1 : 0;
}

/**
 * Length of the instruction at code[start], or 0 when not known for sure (unknown or invalid
 * encoding, truncated). Sets callKind.
 */
function decodeOne(code: Uint8Array, start: number): number {
  callKind = 0;
  const end = code.length;
  let p = start;
  let pfx = 0;
  let rex = 0;
  let b = 0;
  // Legacy prefixes, then at most one REX immediately before the opcode.
  for (;;) {
    if (p >= end) return 0;
    b = code[p]!;
    const bit = PREFIX[b]!;
    if (bit === 0) break;
    // Of F2 and F3, the last one is the one that counts.
    pfx = bit & (P_F2 | P_F3) ? (pfx & ~(P_F2 | P_F3)) | bit : pfx | bit;
    p++;
  }
  if ((b & 0xf0) === 0x40) {
    rex = b;
    p++;
    if (p >= end) return 0;
    b = code[p]!;
    // A legacy prefix or a second REX after REX: REX is ignored there; we do not go that way.
    if ((b & 0xf0) === 0x40 || PREFIX[b] !== 0) return 0;
  }
  const addr32 = (pfx & P_67) !== 0;
  const rexW = (rex & 8) !== 0;
  p++; // past the opcode byte b
  let len: number;
  if (b === 0xc4 || b === 0xc5) {
    if (rex || pfx & (P_66 | P_F2 | P_F3 | P_LOCK)) return 0; // #UD before VEX
    len = decodeVex(code, p, b === 0xc4);
    if (len === 0) return 0;
    len += p - start;
  } else if (b === 0x0f) {
    len = decode0F(code, p, pfx);
    if (len === 0) return 0;
    len += p - start;
  } else {
    if (b === 0x62) {
      if (rex || pfx & (P_66 | P_F2 | P_F3 | P_LOCK)) return 0; // #UD before EVEX
      len = decodeEvex(code, p);
      if (len === 0) return 0;
      len += p - start;
      if (len > 15 || start + len > end) return 0;
      return len;
    }
    const shape = MAP1[b]!;
    let n = 0; // bytes after the opcode
    switch (shape) {
      case S_NONE:
        n = 0;
        break;
      case S_IB:
        n = 1;
        break;
      case S_IW:
        if (pfx & P_66) return 0;
        n = 2;
        break; // RET/RETF imm16: 66 changes them on AMD
      case S_IZ:
        n = pfx & P_66 && !rexW ? 2 : 4;
        break;
      case S_IV:
        n = rexW ? 8 : pfx & P_66 ? 2 : 4;
        break;
      case S_MOFFS:
        n = addr32 ? 4 : 8;
        break;
      case S_ENTER:
        n = 3;
        break;
      case S_REL8:
        if (pfx & P_66) return 0;
        n = 1;
        break;
      case S_REL32:
        if (pfx & P_66) return 0;
        n = 4;
        break;
      case S_CALL:
        if (pfx & P_66) return 0;
        n = 4;
        callKind = 1;
        break;
      case S_M:
      case S_MEM:
      case S_MIB:
      case S_MIZ:
      case S_GROUP: {
        if (p >= end) return 0;
        const modrm = code[p]!;
        const mod = modrm >> 6;
        if (pfx & P_LOCK && !lockable(0, b, modrm)) return 0;
        const m = modrmLength(code, p);
        if (m === 0) return 0;
        n = m;
        if (shape === S_MEM && mod === 3) return 0;
        else if (shape === S_MIB) n += 1;
        else if (shape === S_MIZ) n += pfx & P_66 && !rexW ? 2 : 4;
        else if (shape === S_GROUP) {
          const g = groupImm1(b, modrm, pfx, rexW);
          if (g < 0) return 0;
          n += g;
        }
        break;
      }
      default:
        return 0;
    }
    if (shape < S_M && pfx & P_LOCK) return 0;
    if (pfx & P_66 && (b === 0xc3 || b === 0xcb)) return 0; // RET/RETF: 66 changes them on AMD
    len = p + n - start;
  }
  if (len > 15 || start + len > end) {
    callKind = 0;
    return 0;
  }
  return len;
}

/**
 * One-byte-map groups: the immediate's size for this ModRM.reg (and mod), or -1 when invalid
 * or unknown. Sets callKind for FF /2 and FF /3.
 */
function groupImm1(op: number, modrm: number, pfx: number, rexW: boolean): number {
  const mod = modrm >> 6,
    reg = (modrm >> 3) & 7;
  switch (op) {
    case 0x8c:
      return reg <= 5 ? 0 : -1; // MOV r/m, Sreg
    case 0x8e:
      return reg <= 5 && reg !== 1 ? 0 : -1; // MOV Sreg, r/m (not CS)
    case 0x8f:
      return reg === 0 ? 0 : -1; // POP r/m (others: XOP)
    case 0xc6:
      return reg === 0 ? 1 : -1; // MOV r/m8, imm8 (C6 F8: XABORT)
    case 0xc7:
      return reg === 0 ? (pfx & P_66 && !rexW ? 2 : 4) : -1; // MOV r/m, imm (C7 F8: XBEGIN)
    case 0xf6:
      return reg <= 1 ? 1 : 0; // TEST imm8; NOT NEG MUL IMUL DIV IDIV
    case 0xf7:
      return reg <= 1 ? (pfx & P_66 && !rexW ? 2 : 4) : 0;
    case 0xfe:
      return reg <= 1 ? 0 : -1; // INC DEC r/m8
    case 0xff:
      if (reg === 7) return -1;
      if (reg === 2 || reg === 4) {
        if (pfx & P_66) return -1;
        if (reg === 2) callKind = 2;
        return 0;
      } // CALL/JMP r/m64
      if (reg === 3 || reg === 5) {
        if (mod === 3) return -1;
        if (reg === 3) callKind = 2;
        return 0;
      } // CALL/JMP far m16:xx
      return 0; // INC DEC PUSH
    default: // D8-DF x87: memory forms except the reserved ones; documented register forms
      if (mod === 3) return x87Register(op, modrm) ? 0 : -1;
      if ((op === 0xd9 && reg === 1) || (op === 0xdb && (reg === 4 || reg === 6)) || (op === 0xdd && reg === 5)) return -1;
      return 0;
  }
}

/**
 * x87 register forms (ModRM C0–FF) the SDM documents, without the undocumented aliases
 * (FSTP1, FXCH4, FCOM2, FFREEP, ...) or the 8087/287 leftovers (FENI, FDISI, FSETPM).
 */
function x87Register(op: number, modrm: number): boolean {
  const r = modrm;
  switch (op) {
    case 0xd8:
      return true; // FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR
    case 0xd9:
      return r <= 0xcf || r === 0xd0 || r === 0xe0 || r === 0xe1 || r === 0xe4 || r === 0xe5 || (r >= 0xe8 && r <= 0xee) || r >= 0xf0;
    case 0xda:
      return r <= 0xdf || r === 0xe9; // FCMOVcc, FUCOMPP
    case 0xdb:
      return r <= 0xdf || r === 0xe2 || r === 0xe3 || (r >= 0xe8 && r <= 0xf7); // FCMOVNcc, FNCLEX, FNINIT, FUCOMI, FCOMI
    case 0xdc:
      return r <= 0xcf || r >= 0xe0;
    case 0xdd:
      return r <= 0xc7 || (r >= 0xd0 && r <= 0xef); // FFREE, FST, FSTP, FUCOM, FUCOMP
    case 0xde:
      return r <= 0xcf || r === 0xd9 || r >= 0xe0; // FADDP FMULP, FCOMPP, FSUBRP.. FDIVP
    default:
      return r === 0xe0 || (r >= 0xe8 && r <= 0xf7); // DF: FNSTSW AX, FUCOMIP, FCOMIP
  }
}

/** Length after the 0F byte (at p), or 0. */
function decode0F(code: Uint8Array, p: number, pfx: number): number {
  if (p >= code.length) return 0;
  const op = code[p]!;
  const mp = mandatory(pfx);
  if (op === 0x38 || op === 0x3a) {
    const op2 = code[p + 1];
    if (op2 === undefined) return 0;
    const mask = (op === 0x38 ? MASK0F38 : MASK0F3A)[op2]!;
    if (!(mask & (1 << mp)) || pfx & P_LOCK) return 0;
    const m = modrmLength(code, p + 2);
    if (m === 0) return 0;
    const mod = code[p + 2]! >> 6;
    if (op === 0x38 && op2 === 0x2a && mod === 3) return 0; // MOVNTDQA: memory only
    return 2 + m + (op === 0x3a ? 1 : 0);
  }
  const shape = MAP0F[op]!;
  if (!(MASK0F[op]! & (1 << mp))) return 0;
  if (shape === S_NONE || shape === S_SYSCALL) {
    if (pfx & P_LOCK) return 0;
    if (shape === S_SYSCALL) callKind = 3;
    return 1;
  }
  if (shape === S_REL32) return pfx & (P_66 | P_LOCK) ? 0 : 5;
  if (shape === S_UNKNOWN) return 0;
  const at = p + 1;
  if (at >= code.length) return 0;
  const modrm = code[at]!;
  const mod = modrm >> 6;
  if (pfx & P_LOCK && !lockable(1, op, modrm)) return 0;
  const m = modrmLength(code, at);
  if (m === 0) return 0;
  switch (shape) {
    case S_M:
      return 1 + m;
    case S_MEM:
      return mod === 3 ? 0 : 1 + m;
    case S_REG:
      return mod === 3 ? 1 + m : 0;
    case S_MIB:
      return 1 + m + 1;
    case S_GROUP: {
      const g = groupImm0F(op, modrm, mp, pfx);
      return g < 0 ? 0 : 1 + m + g;
    }
    default:
      return 0;
  }
}

/** 0F-map groups: the immediate's size, or -1 when invalid or unknown. */
function groupImm0F(op: number, modrm: number, mp: number, pfx: number): number {
  const mod = modrm >> 6,
    reg = (modrm >> 3) & 7;
  switch (op) {
    case 0x01: // grp7: SGDT.. INVLPG (memory); XGETBV XSETBV XEND XTEST SWAPGS RDTSCP
      if (pfx & (P_66 | P_F2 | P_F3)) return -1;
      if (mod !== 3) return reg === 5 ? -1 : 0;
      return modrm === 0xd0 || modrm === 0xd1 || modrm === 0xd5 || modrm === 0xd6 || modrm === 0xf8 || modrm === 0xf9 ? 0 : -1;
    case 0x0d:
      return mod !== 3 && reg <= 1 && !(pfx & P_66) ? 0 : -1; // PREFETCH, PREFETCHW
    case 0x12:
    case 0x16:
      return mp === 1 && mod === 3 ? -1 : 0; // MOVLPD/MOVHPD: memory only; MOVHLPS/MOVLHPS, MOVSLDUP/MOVSHDUP, MOVDDUP: both
    case 0x18:
      return mod !== 3 && reg <= 3 && !(pfx & P_66) ? 0 : -1; // PREFETCHNTA/T0/T1/T2
    case 0x1e:
      return modrm === 0xfa || modrm === 0xfb ? 0 : -1; // F3: ENDBR64/ENDBR32
    case 0x71:
    case 0x72: // PSRL/PSRA/PSLL by imm8 (register only)
      return mod === 3 && (reg === 2 || reg === 4 || reg === 6) ? 1 : -1;
    case 0x73:
      return mod === 3 && (reg === 2 || reg === 6 || ((reg === 3 || reg === 7) && mp === 1)) ? 1 : -1;
    case 0xae: // grp15: FXSAVE.. CLFLUSH (memory, no prefix); LFENCE MFENCE SFENCE
      if (pfx & (P_66 | P_F2 | P_F3)) return -1;
      if (mod !== 3) return 0;
      return modrm === 0xe8 || modrm === 0xf0 || modrm === 0xf8 ? 0 : -1;
    case 0xba:
      return reg >= 4 ? 1 : -1; // BT BTS BTR BTC r/m, imm8
    case 0xc5:
      return mod === 3 ? 1 : -1; // PEXTRW r, xmm, imm8
    case 0xc7: // grp9: CMPXCHG8B/16B (memory); RDRAND RDSEED (register)
      if (pfx & (P_66 | P_F2 | P_F3)) return -1;
      if (mod !== 3) return reg === 1 ? 0 : -1;
      return reg === 6 || reg === 7 ? 0 : -1;
    default:
      return -1;
  }
}

/** Length after the C4/C5 byte (at p) of a known VEX instruction, or 0. */
function decodeVex(code: Uint8Array, p: number, three: boolean): number {
  const n = three ? 2 : 1; // payload bytes
  if (p + n >= code.length) return 0;
  let map = 1,
    w = 0,
    vvvv: number,
    l: number,
    pp: number;
  if (three) {
    const b1 = code[p]!,
      b2 = code[p + 1]!;
    map = b1 & 0x1f;
    w = b2 >> 7;
    vvvv = (b2 >> 3) & 15;
    l = (b2 >> 2) & 1;
    pp = b2 & 3;
  } else {
    const b1 = code[p]!;
    vvvv = (b1 >> 3) & 15;
    l = (b1 >> 2) & 1;
    pp = b1 & 3;
  }
  if (map < 1 || map > 3) return 0;
  const op = code[p + n]!;
  const f = VEX.get((map << 10) | (pp << 8) | op);
  if (f === undefined) return 0;
  if ((f & V_L0 && l) || (f & V_L1 && !l) || (f & V_W0 && w) || (f & V_W1 && !w)) return 0;
  if (!(f & V_VVVV) && vvvv !== 15) return 0;
  if (f & V_NOMODRM) return n + 1;
  const at = p + n + 1;
  const m = modrmLength(code, at);
  if (m === 0) return 0;
  const modrm = code[at]!;
  const mod = modrm >> 6;
  if ((f & V_MEM && mod === 3) || (f & V_REG && mod !== 3)) return 0;
  const regs = f >>> 16;
  if (regs && !(regs & (1 << ((modrm >> 3) & 7)))) return 0;
  return n + 1 + m + (f & V_IMM ? 1 : 0);
}

/** Length after the 62 byte (at p) of a known EVEX instruction, or 0. */
function decodeEvex(code: Uint8Array, p: number): number {
  if (p + 3 >= code.length) return 0;
  const p0 = code[p]!,
    p1 = code[p + 1]!,
    p2 = code[p + 2]!;
  const map = p0 & 7;
  if (p0 & 8 || !(p1 & 4) || map < 1 || map > 3) return 0; // reserved bits; maps 0F, 0F38, 0F3A only
  const w = p1 >> 7,
    vvvv = (p1 >> 3) & 15,
    pp = p1 & 3;
  const z = p2 >> 7,
    ll = (p2 >> 5) & 3,
    bcst = (p2 >> 4) & 1,
    vHigh = (p2 >> 3) & 1;
  if (z || bcst || ll === 3) return 0;
  const op = code[p + 3]!;
  const f = EVEX.get((map << 10) | (pp << 8) | op);
  if (f === undefined) return 0;
  if ((f & V_W0 && w) || (f & V_W1 && !w)) return 0;
  if (!(f & V_VVVV) && (vvvv !== 15 || !vHigh)) return 0;
  const at = p + 4;
  const m = modrmLength(code, at);
  if (m === 0) return 0;
  return 4 + m + (f & V_IMM ? 1 : 0);
}

/**
 * Length in bytes of the instruction at code[offset] in 64-bit mode, or 0 when this decoder
 * does not know it for sure (ask a full decoder).
 */
export function instructionLength(code: Uint8Array, offset: number): number {
  return decodeOne(code, offset);
}

/**
 * Every CALL of the code (decoded from code[0], at link-time address `address`, to the end):
 * where it ends and its target — the address for CALL rel32, INDIRECT_TARGET for CALL r/m
 * and far CALL m16:64, NaN for SYSCALL — exactly as iced-x86's FlowControl.Call/IndirectCall
 * would list them. Undefined as soon as any instruction is not known for sure.
 */
export function decodeCalls(code: Uint8Array, address: number): X86Calls | undefined {
  const ends: number[] = [];
  const targets: number[] = [];
  let off = 0;
  while (off < code.length) {
    const len = decodeOne(code, off);
    if (len === 0) return undefined;
    off += len;
    if (callKind === 0) continue;
    const end = address + off;
    ends.push(end);
    if (callKind === 1) {
      const rel = code[off - 4]! | (code[off - 3]! << 8) | (code[off - 2]! << 16) | (code[off - 1]! << 24);
      targets.push(end + rel);
    } else {
      targets.push(callKind === 2 ? INDIRECT_TARGET : NaN);
    }
  }
  return { ends, targets };
}
