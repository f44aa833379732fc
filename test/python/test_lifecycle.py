import os
import stat
import unittest

from perflens_helper import lifecycle


class LifecycleTest(unittest.TestCase):
    def test_spawned_children_are_stopped_and_the_private_dir_removed_at_cleanup(self):
        lifecycle._tmpdir[0] = None
        d = lifecycle.private_dir()
        self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o700)
        self.assertIs(lifecycle.private_dir(), d)
        child = lifecycle.spawn(['/bin/sleep', '60'])
        self.assertIsNone(child.poll())
        lifecycle.run_cleanups()
        self.assertIsNotNone(child.poll())
        self.assertFalse(os.path.exists(d))
        lifecycle._tmpdir[0] = None

    def test_spawn_takes_argv_lists_only(self):
        with self.assertRaises(TypeError):
            lifecycle.spawn('/bin/echo hi')
        with self.assertRaises(TypeError):
            lifecycle.spawn(['/bin/echo', 3])

    def test_cleanups_run_last_first_and_go_on_after_one_fails(self):
        order = []
        lifecycle.on_cleanup(lambda: order.append(1))
        lifecycle.on_cleanup(lambda: 1 / 0)
        lifecycle.on_cleanup(lambda: order.append(3))
        lifecycle.run_cleanups()
        self.assertEqual(order, [3, 1])

    def test_run_quiet(self):
        self.assertEqual(lifecycle.run_quiet(['/bin/echo', 'a b'])[:2], (0, 'a b\n'))
        rc, _, err = lifecycle.run_quiet(['/nonexistent/tool'])
        self.assertIsNone(rc)
        self.assertIn('not found', err)
        rc, _, err = lifecycle.run_quiet(['/bin/sleep', '5'], timeout=0.2)
        self.assertIsNone(rc)
        self.assertIn('timed out', err)

    def test_proc_starttime(self):
        state, start = lifecycle.proc_starttime(os.getpid())
        self.assertIn(state, ('R', 'S'))
        with open('/proc/self/stat') as f:
            self.assertEqual(start, int(f.read().rsplit(')', 1)[1].split()[19]))
        self.assertEqual(lifecycle.proc_starttime(4194304), (None, None))
