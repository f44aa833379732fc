"""`sched`: where it accepts its probe (runtime.casgstatus, as `go tool objdump` decodes it) and
the runtime.g offsets [Go]."""

import unittest

from perflens_helper import sched
from support import ProbeArgsTest


class SchedTest(ProbeArgsTest, unittest.TestCase):
    module, command = sched, 'cmd_sched'

    def test_the_probe_must_be_an_instruction_start_of_casgstatus_needs_go(self):
        good = {'goBuildId': self.build_id, 'casgstatus': self.entry_of('runtime.casgstatus'), 'goidOffset': 152}
        self.assertEqual(self.checked(good), 'ok')
        self.assertEqual(self.checked(dict(good, casgstatus=str(good['casgstatus']), gopcOffset=280, startpcOffset=296)), 'ok')
        for bad, code, text in (({'casgstatus': self.syms['runtime.gopark'][0]}, 'bad-probe', 'not in runtime.casgstatus'),
                                ({'casgstatus': self.inside_of('runtime.casgstatus')}, 'bad-probe', 'not where an instruction starts'),
                                ({'casgstatus': 'x'}, 'bad-argument', 'must be a positive address'),
                                ({'casgstatus': True}, 'bad-argument', 'must be a positive address'),
                                ({'goidOffset': 4097}, 'bad-argument', '--goidOffset must be between 0 and 4096'),
                                ({'gopcOffset': -8}, 'bad-argument', '--gopcOffset must be between 0 and 4096')):
            got = self.checked(dict(good, **bad))
            self.assertEqual(got[0], code, bad)
            self.assertIn(text, got[1], bad)
