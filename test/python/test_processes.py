"""`processes`: the Go processes it lists, checked against `go version -m` and ps; what another
user's listing shows [root, useradd]; and the cap on what it reads of a crafted executable."""

import calendar
import os
import pwd
import shutil
import struct
import subprocess
import sys
import time
import unittest

from perflens_helper import authz, processes
from perflens_helper.args import Args
from perflens_helper.exe import MAX_READ, go_info_for_pid
from perflens_helper.protocol import HelperError
from support import GO_TOOLS, TestUser, go_tool, needs_root, newest_gofmt, start_process, temp_dir, wait_for


def rchar():
    """Bytes this process has read so far (read(2) and friends), as the kernel counts them."""
    with open('/proc/self/io') as f:
        for line in f:
            if line.startswith('rchar:'):
                return int(line.split()[1])


def state(pid):
    with open('/proc/%d/stat' % pid) as f:
        return f.read().rsplit(')', 1)[1].split()[0]


def listed(res):
    return dict((d['pid'], d) for d in res['processes'])


class ProcessesTest(unittest.TestCase):
    def setUp(self):
        self.addCleanup(authz._caller.__setitem__, 0, None)

    def test_lists_go_processes_with_what_go_version_and_ps_say_and_no_other_process_needs_go(self):
        authz._caller[0] = authz.Caller(os.getuid(), 'root' if os.geteuid() == 0 else 'user')
        gofmts = [GO_TOOLS[0], newest_gofmt()]
        procs = [start_process(self, [b, '-l']) for b in gofmts]
        not_go = start_process(self, ['/bin/cat'])
        res = processes.cmd_processes(Args({}))
        got = listed(res)
        self.assertNotIn(not_go.pid, got)
        self.assertNotIn(os.getpid(), got)
        for b, p in zip(gofmts, procs):
            d = got[p.pid]
            ref = subprocess.check_output([go_tool(b), 'version', '-m', b]).decode()
            self.assertEqual(d['goVersion'], ref.split(': ', 1)[1].split('\n', 1)[0].strip())
            build_id = subprocess.check_output([go_tool(b), 'tool', 'buildid', b]).decode().strip()
            self.assertEqual(d['goBuildId'], build_id)
            self.assertEqual((d['exe'], d['cmdline'], d['comm']), (os.path.realpath(b), [b, '-l'], 'gofmt'))
            self.assertEqual((d['uid'], d['user']), (os.getuid(), pwd.getpwuid(os.getuid()).pw_name))
            lstart = subprocess.check_output(['/bin/ps', '-o', 'lstart=', '-p', str(p.pid)], env={'LC_ALL': 'C', 'TZ': 'UTC'})
            started = calendar.timegm(time.strptime(lstart.decode().strip(), '%a %b %d %H:%M:%S %Y'))
            self.assertLessEqual(abs(d['startTime'] - started), 1.5)
            self.assertGreaterEqual(d['uptimeSec'], 0)
            self.assertNotIn('cpuPercent', d)
        self.assertEqual(res['caller']['uid'], os.getuid())

    def test_another_user_sees_only_their_own_processes_needs_root(self):
        needs_root(self)
        alice = TestUser(self)
        hers = start_process(self, [newest_gofmt()], user=alice).pid
        roots = start_process(self, [newest_gofmt()]).pid
        authz._caller[0] = authz.Caller(alice.uid, 'sudo')
        res = processes.cmd_processes(Args({}))
        got = listed(res)
        self.assertEqual(list(got), [hers])
        self.assertEqual(got[hers]['user'], alice.name)
        self.assertNotIn(roots, got)
        self.assertEqual(res['caller'], {'uid': alice.uid, 'user': alice.name, 'via': 'sudo', 'admin': False})

    def test_cpu_percent_is_measured_and_left_out_for_a_process_that_exits(self):
        spinner = start_process(self, [sys.executable, '-I', '-c', 'while True: pass'])
        idle = start_process(self, ['/bin/cat'])
        leaving = start_process(self, ['/bin/cat'])
        saved = processes.sleep_unless_stopped

        def window(seconds):
            # The third process exits during the measurement (its parent, this test, has not
            # reaped it yet: a zombie, as a process whose parent is slow to wait).
            leaving.stdin.close()
            wait_for(lambda: state(leaving.pid) == 'Z', 'cat to exit')
            return saved(seconds)
        self.addCleanup(setattr, processes, 'sleep_unless_stopped', saved)
        processes.sleep_unless_stopped = window
        procs = [{'pid': spinner.pid}, {'pid': idle.pid}, {'pid': leaving.pid}]
        processes.add_cpu_percent(procs, 1000)
        self.assertGreater(procs[0]['cpuPercent'], 0)
        self.assertLessEqual(procs[0]['cpuPercent'], 101)
        self.assertEqual(procs[1]['cpuPercent'], 0.0)
        self.assertNotIn('cpuPercent', procs[2])
        self.assertEqual(state(leaving.pid), 'Z')

    def test_arguments_are_checked(self):
        for bad in ({'cpuSampleMs': 5001}, {'cpuSampleMs': '1; id'}, {'all': True}):
            with self.assertRaises(HelperError) as cm:
                processes.cmd_processes(Args(bad))
            self.assertEqual(cm.exception.code, 'bad-argument', bad)

    def test_a_running_crafted_executable_cannot_make_it_read_more_than_the_cap(self):
        # A working program (a copy of cat) whose section header table -- which the kernel's loader
        # ignores -- claims 10000 note sections of 1 GB each: read as claimed, 640 MB or more.
        d = temp_dir(self)
        exe = os.path.join(d, 'crafted')
        shutil.copyfile('/bin/cat', exe)
        os.chmod(exe, 0o755)
        with open(exe, 'r+b') as f:
            f.seek(0, 2)
            shoff = (f.tell() + 63) & ~63
            f.seek(shoff)
            sh = struct.pack('<IIQQQQIIQQ', 0, 7, 0, 0, 0, 1 << 30, 0, 0, 4, 0)
            f.write(sh * 10000)
            f.seek(0x28)
            f.write(struct.pack('<Q', shoff))
            f.seek(0x3a)
            f.write(struct.pack('<HHH', 64, 10000, 0))
        p = start_process(self, [exe])
        before = rchar()
        info = go_info_for_pid(p.pid)
        read = rchar() - before
        self.assertLessEqual(read, MAX_READ + (4 << 20))
        self.assertIsNone(info['goVersion'])
        self.assertEqual(info['exe'], exe)
        authz._caller[0] = authz.Caller(os.getuid(), 'root' if os.geteuid() == 0 else 'user')
        self.assertNotIn(p.pid, listed(processes.cmd_processes(Args({}))))
