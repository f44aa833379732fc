"""`allocs`: where it accepts its probe and runtime.MemProfileRate (checked against `go tool nm` and
`go tool objdump`), and the rate it reads from the running program's memory (Go's default,
512 KiB) [Go]."""

import unittest

from perflens_helper import allocs
from perflens_helper.ebpf import load_bias
from support import ProbeArgsTest


class AllocsTest(ProbeArgsTest, unittest.TestCase):
    module, command = allocs, 'cmd_allocs'

    def good(self):
        return {'goBuildId': self.build_id, 'mprofMalloc': self.entry_of('runtime.mProf_Malloc'), 'sizeReg': 'cx',
                'rateAddr': self.syms['runtime.MemProfileRate'][0]}

    def test_the_probe_and_the_rate_address_are_checked_against_the_binary_needs_go(self):
        good = self.good()
        self.assertEqual(self.checked(good), 'ok')
        rate, size, kind = self.syms['runtime.MemProfileRate']
        self.assertEqual((size, kind), (8, 'D'))
        for bad, code, text in (({'mprofMalloc': self.syms['runtime.gopark'][0]}, 'bad-probe', 'is in runtime.gopark, not in runtime.mProf_Malloc'),
                                ({'mprofMalloc': self.inside_of('runtime.mProf_Malloc')}, 'bad-probe', 'not where an instruction starts'),
                                ({'rateAddr': self.syms['runtime.mProf_Malloc'][0]}, 'bad-argument', 'not in a writable segment'),
                                ({'rateAddr': 1 << 46}, 'bad-argument', 'not in a writable segment'),
                                ({'sizeReg': 'ax'}, 'bad-argument', '--sizeReg must be one of bx, cx'),
                                ({'maxHitsPerSec': 99}, 'bad-argument', 'between 100 and 10000000'),
                                ({'goBuildId': ('A' if self.build_id[0] != 'A' else 'B') + self.build_id[1:]}, 'binary-changed', 'that was decoded'),
                                ({'stackDepth': 5}, 'bad-argument', 'unknown argument(s): --stackDepth')):
            got = self.checked(dict(good, **bad))
            self.assertEqual(got[0], code, bad)
            self.assertIn(text, got[1], bad)

    def test_the_rate_read_from_the_running_program_is_gos_default_needs_go(self):
        # runtime.MemProfileRate is 512 * 1024 unless the program changes it.
        bias = load_bias(self.proc.pid, '/proc/%d/exe' % self.proc.pid)
        self.assertEqual(bias, 0)  # go build makes a fixed-address executable
        self.assertEqual(allocs._read_rate(self.proc.pid, self.syms['runtime.MemProfileRate'][0] + bias), 512 * 1024)
