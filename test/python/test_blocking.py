"""`blocking`: where it accepts its two probes (runtime.gopark and runtime.execute, after their
stack checks as `go tool objdump` decodes them) and its budget [Go]."""

import unittest

from perflens_helper import blocking
from support import ProbeArgsTest


class BlockingTest(ProbeArgsTest, unittest.TestCase):
    module, command = blocking, 'cmd_blocking'

    def test_the_probes_must_be_instruction_starts_of_gopark_and_execute_needs_go(self):
        good = {'goBuildId': self.build_id, 'gopark': self.entry_of('runtime.gopark'), 'execute': self.entry_of('runtime.execute')}
        self.assertEqual(self.checked(good), 'ok')
        self.assertEqual(self.checked(dict(good, maxHitsPerSec=10000000)), 'ok')
        for bad, code, text in (({'gopark': good['execute']}, 'bad-probe', 'is in runtime.execute, not in runtime.gopark'),
                                ({'execute': good['gopark']}, 'bad-probe', 'is in runtime.gopark, not in runtime.execute'),
                                ({'gopark': self.inside_of('runtime.gopark')}, 'bad-probe', 'not where an instruction starts'),
                                ({'execute': 0}, 'bad-argument', '--execute must be between'),
                                ({'gopark': '0x%x' % good['gopark']}, 'bad-argument', '--gopark must be a whole number'),
                                ({'maxHitsPerSec': 10000001}, 'bad-argument', 'between 100 and 10000000'),
                                ({'duration': 86401}, 'bad-argument', '--duration must be between 1 and 86400')):
            got = self.checked(dict(good, **bad))
            self.assertEqual(got[0], code, bad)
            self.assertIn(text, got[1], bad)
        args = dict(good)
        del args['goBuildId']
        self.assertIn('--goBuildId or --gnuBuildId', self.checked(args)[1])
