"""The lengths of x86-64 instructions, so that a probe address can be checked to be where an
instruction starts: a uprobe's breakpoint written into the middle of an instruction corrupts the
target. Only lengths are decoded (prefixes, opcode maps, ModRM/SIB, displacement, immediate),
as the CPU does in 64-bit mode; what an instruction does is not. Go functions hold no data
between their instructions, so a linear walk from the function's entry finds every start."""


class DecodeError(ValueError):
    pass


_PREFIXES = frozenset((0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65, 0x66, 0x67))
# One-byte opcodes not valid in 64-bit mode.
_INVALID = frozenset((0x06, 0x07, 0x0E, 0x16, 0x17, 0x1E, 0x1F, 0x27, 0x2F, 0x37, 0x3F, 0x60, 0x61, 0x82,
                      0x9A, 0xC4, 0xC5, 0xCE, 0xD4, 0xD5, 0xD6, 0xEA))
# One-byte opcodes with a ModRM byte.
_MODRM1 = frozenset([o for o in range(0x40) if o & 7 < 4] + [0x63, 0x69, 0x6B] + list(range(0x80, 0x90)) +
                    [0xC0, 0xC1, 0xC6, 0xC7, 0xD0, 0xD1, 0xD2, 0xD3] + list(range(0xD8, 0xE0)) + [0xF6, 0xF7, 0xFE, 0xFF])
# One-byte opcodes' immediates: 1 = imm8, 2 = imm16, 'z' = imm32 (imm16 with 0x66), 3 = imm16 + imm8.
_IMM1 = {0x6A: 1, 0x6B: 1, 0x80: 1, 0x83: 1, 0xA8: 1, 0xC0: 1, 0xC1: 1, 0xC6: 1, 0xCD: 1, 0xEB: 1,
         0x68: 'z', 0x69: 'z', 0x81: 'z', 0xA9: 'z', 0xC7: 'z', 0xE8: 'z', 0xE9: 'z',
         0xC2: 2, 0xCA: 2, 0xC8: 3}
for _o in range(0x40):
    if _o & 7 == 4:
        _IMM1[_o] = 1
    elif _o & 7 == 5:
        _IMM1[_o] = 'z'
for _o in list(range(0x70, 0x80)) + list(range(0xB0, 0xB8)) + list(range(0xE0, 0xE8)):
    _IMM1[_o] = 1
# Two-byte (0F xx) opcodes without a ModRM byte; 0F 80-8F (Jcc rel32) are handled apart.
_NO_MODRM_0F = frozenset([0x05, 0x06, 0x07, 0x08, 0x09, 0x0B, 0x0E, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x37, 0x77,
                          0xA0, 0xA1, 0xA2, 0xA8, 0xA9, 0xAA] + list(range(0xC8, 0xD0)))
# Two-byte opcodes (legacy, VEX or EVEX map 1) followed by an imm8.
_IMM8_0F = frozenset((0x70, 0x71, 0x72, 0x73, 0xA4, 0xAC, 0xBA, 0xC2, 0xC4, 0xC5, 0xC6))


def _modrm_len(code, i):
    """Bytes taken by the ModRM byte at code[i] and its SIB and displacement (32-bit addressing,
    prefix 0x67, encodes them as 64-bit addressing does)."""
    if i >= len(code):
        raise DecodeError('truncated ModRM')
    modrm = code[i]
    mod, rm = modrm >> 6, modrm & 7
    n = 1
    if mod == 3:
        return n
    if rm == 4:  # SIB
        if i + 1 >= len(code):
            raise DecodeError('truncated SIB')
        n += 1
        if mod == 0 and code[i + 1] & 7 == 5:
            n += 4
    elif mod == 0 and rm == 5:  # RIP-relative (or disp32 with 0x67)
        n += 4
    if mod == 1:
        n += 1
    elif mod == 2:
        n += 4
    return n


def insn_len(code, i):
    """The length of the instruction at code[i]; DecodeError if it is not one this decodes."""
    start = i
    opsize16 = addr32 = rex_w = False
    while i < len(code) and code[i] in _PREFIXES:
        opsize16 |= code[i] == 0x66
        addr32 |= code[i] == 0x67
        i += 1
    if i < len(code) and 0x40 <= code[i] <= 0x4F:
        rex_w = bool(code[i] & 8)
        i += 1
    if i >= len(code):
        raise DecodeError('truncated instruction')
    op = code[i]
    i += 1
    if op in (0xC4, 0xC5, 0x62):  # VEX (3- and 2-byte) and EVEX: in 64-bit mode always these
        if op == 0xC5:
            opmap, i = 1, i + 1
        elif op == 0xC4:
            if i >= len(code):
                raise DecodeError('truncated VEX')
            opmap, i = code[i] & 0x1F, i + 2
        else:
            if i >= len(code):
                raise DecodeError('truncated EVEX')
            opmap, i = code[i] & 0x07, i + 3
        if opmap not in (1, 2, 3) or i >= len(code):
            raise DecodeError('unknown VEX/EVEX map, or truncated')
        vop = code[i]
        i += 1
        if opmap == 1 and vop == 0x77 and op != 0x62:  # VZEROUPPER / VZEROALL: no ModRM
            return _checked(code, start, i)
        i += _modrm_len(code, i)
        if opmap == 3 or (opmap == 1 and vop in _IMM8_0F):
            i += 1
        return _checked(code, start, i)
    if op == 0x0F:
        if i >= len(code):
            raise DecodeError('truncated 0F opcode')
        op2 = code[i]
        i += 1
        if op2 == 0x38 or op2 == 0x3A:
            if i >= len(code):
                raise DecodeError('truncated 0F 38/3A opcode')
            i += 1
            i += _modrm_len(code, i)
            if op2 == 0x3A:
                i += 1
            return _checked(code, start, i)
        if 0x80 <= op2 <= 0x8F:  # Jcc rel32
            return _checked(code, start, i + 4)
        if op2 in _NO_MODRM_0F:
            return _checked(code, start, i)
        if op2 in (0x04, 0x0A, 0x0C, 0x24, 0x25, 0x26, 0x27, 0x36, 0x39, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x7A, 0x7B, 0xFF):
            raise DecodeError('invalid opcode 0F %02X' % op2)
        i += _modrm_len(code, i)
        if op2 in _IMM8_0F or op2 == 0x0F:  # 0F 0F: 3DNow!, its opcode is a trailing byte
            i += 1
        return _checked(code, start, i)
    if op in _INVALID:
        raise DecodeError('invalid opcode %02X' % op)
    if op in _MODRM1:
        if i >= len(code):
            raise DecodeError('truncated ModRM')
        reg = (code[i] >> 3) & 7
        i += _modrm_len(code, i)
        if op == 0xF6 and reg in (0, 1):
            i += 1
        elif op == 0xF7 and reg in (0, 1):
            i += 2 if opsize16 else 4
    if 0xB8 <= op <= 0xBF:
        i += 8 if rex_w else (2 if opsize16 else 4)
    elif 0xA0 <= op <= 0xA3:  # MOV with a 64-bit absolute address (32-bit with 0x67)
        i += 4 if addr32 else 8
    else:
        imm = _IMM1.get(op, 0)
        if imm == 'z':
            i += 2 if opsize16 and op not in (0xE8, 0xE9) else 4
        else:
            i += imm
    return _checked(code, start, i)


def _checked(code, start, end):
    if end > len(code):
        raise DecodeError('truncated instruction at offset %d' % start)
    if end - start > 15:
        raise DecodeError('instruction longer than 15 bytes at offset %d' % start)
    return end - start


def insn_starts(code):
    """The offsets of the instructions of code (a function's bytes, from its entry)."""
    out, i = [], 0
    while i < len(code):
        out.append(i)
        i += insn_len(code, i)
    return out
