"""x86-64 instruction lengths (where probes may go), against binutils' objdump over every
function of real Go binaries [objdump, Go toolchains]."""

import bisect
import re
import subprocess
import unittest

from perflens_helper import x86len
from perflens_helper.exe import Elf, GoFuncTable
from support import GO_TOOLS


def objdump_starts(binary):
    out = subprocess.check_output(['/usr/bin/objdump', '-d', '-w', '--no-show-raw-insn', binary]).decode()
    return sorted(int(m.group(1), 16) for m in re.finditer(r'^ *([0-9a-f]+):\t', out, re.M))


class X86LenTest(unittest.TestCase):
    def test_every_instruction_start_of_every_function_is_where_objdump_finds_it_needs_go_and_objdump(self):
        self.assertTrue(GO_TOOLS, 'no Go toolchain under /usr/lib/go-1.* (scripts/setup.sh installs them)')
        for b in sorted(set([GO_TOOLS[0], GO_TOOLS[-1]])):
            ref = objdump_starts(b)
            with open(b, 'rb') as f:
                elf = Elf(f, max_read=1 << 40)
                table = GoFuncTable(elf)
                wrong = []
                for i in range(table.nfunc):
                    lo, hi = table.entries[i], table.entries[i + 1]
                    want = ref[bisect.bisect_left(ref, lo):bisect.bisect_left(ref, hi)]
                    try:
                        got = [lo + o for o in x86len.insn_starts(elf.read_vaddr(lo, hi - lo))]
                    except x86len.DecodeError as e:
                        got = str(e)
                    if got != want:
                        wrong.append(table.name(i))
                self.assertGreater(table.nfunc, 1000)
                self.assertEqual(wrong, [], b)

    def test_lengths_of_the_encodings_go_uses(self):
        for hexcode, n in (('c3', 1), ('c20800', 3), ('4883ec18', 4), ('48895c2408', 5), ('e800000000', 5),
                           ('66c7400c0100', 6), ('48b88877665544332211', 10), ('0f1f440000', 5),
                           ('c5f877', 3), ('c5fe6f06', 4), ('c4e27d5a00', 5), ('62f17c486f06', 6),
                           ('0f8410000000', 6), ('f30f1efa', 4), ('66440f6f1d00000000', 9), ('660f3a0fc108', 6),
                           ('f6c201', 3), ('f7c301000000', 6), ('4c8d6424f0', 5), ('8b0c25f8ffffff', 7)):
            code = bytes.fromhex(hexcode)
            self.assertEqual(x86len.insn_len(code, 0), n, hexcode)

    def test_truncated_and_invalid_code_is_refused(self):
        for hexcode in ('48', 'e8000000', '0f', '0f84', 'c4e2', '62f17c48', '06', 'd6', '0f0b0f0b0f04',
                        '66' * 15 + '90', '488b04'):
            with self.assertRaises(x86len.DecodeError, msg=hexcode):
                x86len.insn_starts(bytes.fromhex(hexcode))
