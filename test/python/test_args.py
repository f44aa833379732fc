import os
import subprocess
import time
import unittest

from perflens_helper.args import Args, validate_pid
from perflens_helper.protocol import HelperError


def code_of(fn):
    try:
        fn()
    except HelperError as e:
        return e.code, e.message
    raise AssertionError('accepted')


class ArgsTest(unittest.TestCase):
    def test_typed_accessors(self):
        a = Args({'duration': '5', 'freq': 99, 'event': 'cpu-clock', 'stream': 'true', 'name': 'main.f'})
        self.assertEqual(a.int('duration', 1, 10), 5)
        self.assertEqual(a.int('freq', 1, 20000), 99)
        self.assertEqual(a.choice('event', ('auto', 'cpu-clock')), 'cpu-clock')
        self.assertIs(a.bool('stream'), True)
        self.assertEqual(a.str('name', r'^[a-z.]+$'), 'main.f')
        a.done()

    def test_refusals_are_bad_argument_and_say_what(self):
        self.assertEqual(code_of(lambda: Args([1])), ('bad-argument', 'arguments must be an object'))
        code, msg = code_of(lambda: Args({'duration': 0}).int('duration', 1, 10))
        self.assertEqual(code, 'bad-argument')
        self.assertIn('between 1 and 10', msg)
        self.assertEqual(code_of(lambda: Args({'duration': True}).int('duration', 1, 10))[0], 'bad-argument')
        self.assertEqual(code_of(lambda: Args({'duration': '1e3'}).int('duration', 1, 10))[0], 'bad-argument')
        self.assertEqual(code_of(lambda: Args({}).int('duration', 1, 10))[1], '--duration is required')
        self.assertEqual(code_of(lambda: Args({'event': 'cycles;rm'}).choice('event', ('auto',)))[0], 'bad-argument')
        self.assertEqual(code_of(lambda: Args({'stream': 'maybe'}).bool('stream'))[0], 'bad-argument')
        self.assertEqual(code_of(lambda: Args({'name': 'x' * 600}).str('name', '.*'))[0], 'bad-argument')

    def test_done_rejects_arguments_nobody_asked_for(self):
        a = Args({'pid': 1, 'program': 'import os'})
        a.int('pid', 1, 10)
        code, msg = code_of(a.done)
        self.assertEqual(code, 'bad-argument')
        self.assertIn('--program', msg)

    def test_validate_pid(self):
        self.assertEqual(validate_pid(os.getpid()), os.getpid())
        self.assertEqual(validate_pid(str(os.getpid())), os.getpid())
        self.assertEqual(code_of(lambda: validate_pid(0))[0], 'bad-argument')
        self.assertEqual(code_of(lambda: validate_pid(-3))[0], 'bad-argument')
        self.assertEqual(code_of(lambda: validate_pid('12 ; id'))[0], 'bad-argument')
        # A PID that exited, and a zombie, are gone.
        p = subprocess.Popen(['/bin/true'])
        time.sleep(0.3)  # exited, not reaped yet: a zombie
        self.assertEqual(code_of(lambda: validate_pid(p.pid))[0], 'pid-gone')
        p.wait()
        self.assertEqual(code_of(lambda: validate_pid(p.pid))[0], 'pid-gone')

    def test_validate_pid_require_go_refuses_a_non_go_process(self):
        code, msg = code_of(lambda: validate_pid(os.getpid(), require_go=True))
        self.assertEqual(code, 'not-go')
        self.assertIn('is not a Go program', msg)

    def test_start_ticks_tell_a_reused_pid_apart(self):
        # The reference: field 22 of /proc/PID/stat as cut reads it (this process's name has no spaces).
        ticks = int(subprocess.check_output(['cut', '-d', ' ', '-f22', '/proc/%d/stat' % os.getpid()]).decode().strip())
        self.assertEqual(validate_pid(os.getpid(), start_ticks=ticks), os.getpid())
        code, msg = code_of(lambda: validate_pid(os.getpid(), start_ticks=ticks + 1))
        self.assertEqual(code, 'pid-reused')
        self.assertIn('started at clock tick %d' % ticks, msg)
        self.assertIn('expected started at tick %d' % (ticks + 1), msg)
        # Through the arguments of any subcommand that takes a PID: validated, and used.
        a = Args({'pid': os.getpid(), 'startTicks': str(ticks)})
        self.assertEqual(a.pid(), os.getpid())
        a.done()
        self.assertEqual(code_of(lambda: Args({'pid': os.getpid(), 'startTicks': ticks - 1}).pid())[0], 'pid-reused')
        self.assertEqual(code_of(lambda: Args({'pid': os.getpid(), 'startTicks': '1 ; id'}).pid())[0], 'bad-argument')
        self.assertEqual(code_of(lambda: Args({'pid': os.getpid(), 'startTicks': -1}).pid())[0], 'bad-argument')

    def test_binary_reports_the_start_time_and_build_ids(self):
        from perflens_helper.binary import cmd_binary
        ticks = int(subprocess.check_output(['cut', '-d', ' ', '-f22', '/proc/%d/stat' % os.getpid()]).decode().strip())
        r = cmd_binary(Args({'pid': os.getpid(), 'infoOnly': True, 'startTicks': ticks}))
        self.assertEqual(r['startTicks'], ticks)
        self.assertEqual(r['exe'], os.path.realpath('/proc/self/exe'))
        self.assertEqual(code_of(lambda: cmd_binary(Args({'pid': os.getpid(), 'infoOnly': True, 'startTicks': ticks + 7})))[0],
                         'pid-reused')
