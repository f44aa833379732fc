"""`syscalls`: its arguments, checked before anything is compiled [Go]. (A real recording counting
a Go program's write(2) calls is test/integration/ebpf/goTracing.test.ts's.)"""

import unittest

from perflens_helper import syscalls
from support import ProbeArgsTest


class SyscallsTest(ProbeArgsTest, unittest.TestCase):
    module, command = syscalls, 'cmd_syscalls'

    def test_arguments_are_checked_before_anything_is_compiled_needs_go(self):
        self.assertEqual(self.checked({}), 'ok')
        self.assertEqual(self.checked({'stacks': True, 'topSites': 50}), 'ok')
        for bad, text in (({'topSites': 0}, '--topSites must be between 1 and 50'), ({'stacks': 'maybe'}, '--stacks must be true or false'),
                          ({'duration': 0}, '--duration must be between'), ({'syscall': 'write'}, 'unknown argument(s): --syscall'),
                          ({'pid': 0}, '--pid must be between')):
            got = self.checked(bad)
            self.assertEqual(got[0], 'bad-argument', bad)
            self.assertIn(text, got[1])
