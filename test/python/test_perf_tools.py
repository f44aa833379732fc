"""Finding perf (fixed paths only, never PATH) and probing its events, against perf itself
[perf]."""

import os
import subprocess
import unittest

from perflens_helper import perf_tools
from perflens_helper.protocol import HelperError
from support import start_process, temp_dir


class PerfToolsTest(unittest.TestCase):
    def patch_paths(self, paths):
        self.addCleanup(setattr, perf_tools, 'PERF_PATHS', perf_tools.PERF_PATHS)
        perf_tools.PERF_PATHS = paths

    def test_find_perf_gives_the_version_perf_itself_reports_needs_perf(self):
        path, version = perf_tools.find_perf()
        self.assertEqual(path, '/usr/bin/perf')
        ref = subprocess.check_output(['/usr/bin/perf', '--version']).decode().strip()
        self.assertEqual('perf version ' + version, ref)

    def test_perf_on_path_is_never_used_and_a_perf_that_does_not_run_is_refused(self):
        d = temp_dir(self)
        # A perf on PATH (where a user could put one) is not looked at.
        fake = os.path.join(d, 'perf')
        with open(fake, 'w') as f:
            f.write('#!/bin/sh\necho "perf version 9.9"\n')
        os.chmod(fake, 0o755)
        self.patch_paths((os.path.join(d, 'missing', 'perf'),))
        saved = os.environ.get('PATH')
        os.environ['PATH'] = d
        try:
            with self.assertRaises(HelperError) as cm:
                perf_tools.find_perf()
        finally:
            os.environ['PATH'] = saved
        self.assertEqual(cm.exception.code, 'perf-missing')
        self.assertIn('apt-get install linux-perf', cm.exception.hint)
        # Ubuntu's wrapper when the kernel's perf is missing: exits 2 with a message.
        wrapper = os.path.join(d, 'wrapper')
        with open(wrapper, 'w') as f:
            f.write('#!/bin/sh\necho "WARNING: perf not found for kernel 6.1.0-99" >&2\nexit 2\n')
        os.chmod(wrapper, 0o755)
        self.patch_paths((wrapper,))
        with self.assertRaises(HelperError) as cm:
            perf_tools.find_perf()
        self.assertEqual(cm.exception.code, 'perf-missing')
        self.assertEqual(cm.exception.message, 'perf does not run here: WARNING: perf not found for kernel 6.1.0-99')

    def test_event_status_agrees_with_perf_stat_needs_perf(self):
        self.assertEqual(perf_tools.perf_event_status('/usr/bin/perf', 'cpu-clock'), 'supported')
        self.assertEqual(perf_tools.perf_event_status('/usr/bin/perf', 'no-such-event-x'), 'unsupported')
        cat = start_process(self, ['/bin/cat'])
        self.assertEqual(perf_tools.perf_event_status('/usr/bin/perf', 'task-clock', cat.pid), 'supported')
        # cycles: what perf stat itself says (no PMU in most virtual machines).
        r = subprocess.run(['/usr/bin/perf', 'stat', '-x', ',', '-e', 'cycles:u', '/bin/true'], stderr=subprocess.PIPE)
        line = [l for l in r.stderr.decode().splitlines() if ',cycles:u,' in l or l.endswith(',cycles:u')]
        want = 'unsupported' if line and line[0].startswith('<not supported>') else 'supported'
        self.assertEqual(perf_tools.perf_event_status('/usr/bin/perf', 'cycles:u'), want)

    def test_paranoid_and_last_lines(self):
        with open('/proc/sys/kernel/perf_event_paranoid') as f:
            self.assertEqual(perf_tools.read_paranoid(), int(f.read()))
        self.assertEqual(perf_tools.last_lines('a\n\n  b \nc\nd\n\n'), 'b / c / d')
        self.assertEqual(perf_tools.last_lines(''), '(no output)')
        self.assertEqual(len(perf_tools.last_lines('x' * 2000)), 500)
