"""`record`: the perf command line it builds (as perf itself wrote it into perf.data's header),
its private temporary directory, the sample count it reports (against `perf script`), and the
arguments it refuses before perf is started [root, perf]."""

import base64
import os
import stat
import subprocess
import sys
import unittest

from perflens_helper import authz, lifecycle, perf_record
from perflens_helper.args import Args
from perflens_helper.protocol import HelperError
from support import Messages, needs_root, start_process, temp_dir


def perf_header_cmdline(path):
    out = subprocess.check_output(['/usr/bin/perf', 'report', '--header-only', '-i', path], stderr=subprocess.STDOUT).decode()
    for line in out.splitlines():
        if line.startswith('# cmdline : '):
            return line[len('# cmdline : '):].split()
    raise AssertionError('no cmdline in the header of %s:\n%s' % (path, out[-2000:]))


class PerfRecordTest(unittest.TestCase):
    def setUp(self):
        authz._caller[0] = authz.Caller(os.getuid(), 'root' if os.geteuid() == 0 else 'user')
        self.addCleanup(authz._caller.__setitem__, 0, None)
        self.addCleanup(lifecycle._tmpdir.__setitem__, 0, None)
        self.addCleanup(lifecycle.run_cleanups)

    def record(self, args):
        with Messages() as m:
            res = perf_record.cmd_record(Args(args))
        msgs = m.all()
        data = b''.join(base64.b64decode(x['data']) for x in msgs if x['type'] == 'chunk')
        p = os.path.join(temp_dir(self), 'perf.data')
        with open(p, 'wb') as f:
            f.write(data)
        return res, msgs, p

    def test_perf_runs_with_the_asked_options_writing_into_the_private_dir_which_goes_at_cleanup_needs_root_and_perf(self):
        needs_root(self)
        spinner = start_process(self, [sys.executable, '-I', '-c', 'while True: pass'])
        lifecycle._tmpdir[0] = None
        d = lifecycle.private_dir()
        st = os.stat(d)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid), (0o700, 0))
        res, msgs, data = self.record({'pid': spinner.pid, 'duration': 1, 'freq': 299, 'event': 'cpu-clock', 'allowNonGo': True})
        argv = perf_header_cmdline(data)
        self.assertEqual(argv[argv.index('-F') + 1], '299')
        self.assertEqual(argv[argv.index('-e') + 1], 'cpu-clock')
        self.assertEqual(argv[argv.index('-p') + 1], str(spinner.pid))
        self.assertEqual(argv[argv.index('--call-graph') + 1], 'fp')
        self.assertEqual(argv[argv.index('-o') + 1], os.path.join(d, 'perf.data'))
        if perf_record.perf_has_control('/usr/bin/perf'):
            self.assertEqual(res['clock'], 'perf-ack')
            self.assertEqual(argv[argv.index('--control') + 1], 'fifo:%s,%s' % (os.path.join(d, 'perf.ctl'), os.path.join(d, 'perf.ack')))
        self.assertEqual((res['event'], res['freqHz'], res['pid'], res['endedBy']), ('cpu-clock', 299, spinner.pid, 'duration'))
        # The sample count it reports is the one in the file, as perf script counts them.
        script = subprocess.check_output(['/usr/bin/perf', 'script', '-F', 'pid', '-i', data], stderr=subprocess.DEVNULL).split()
        self.assertGreater(len(script), 0)
        self.assertEqual(res['samples'], len(script))
        self.assertEqual(set(script), {str(spinner.pid).encode()})
        self.assertEqual(res['perfData']['size'], os.path.getsize(data))
        self.assertEqual([x['type'] for x in msgs if x['type'].startswith('file')], ['file', 'file-end'])
        lifecycle.run_cleanups()
        self.assertFalse(os.path.exists(d))

    def test_bad_arguments_are_refused_before_perf_starts_needs_root(self):
        needs_root(self)
        cat = start_process(self, ['/bin/cat'])
        lifecycle._tmpdir[0] = None

        def must_not_run(*a, **kw):
            raise AssertionError('perf was looked for or started for a refused request')
        for name in ('find_perf', 'spawn', 'run_quiet'):
            self.addCleanup(setattr, perf_record, name, getattr(perf_record, name))
            setattr(perf_record, name, must_not_run)
        for bad in ({'duration': 0}, {'duration': 3601}, {'freq': 0}, {'freq': 20001}, {'event': 'cycles;id'},
                    {'event': 'instructions'}, {'sync': 'never'}, {'stream': 'maybe'}, {'output': '/etc/passwd'}):
            args = dict({'pid': cat.pid, 'duration': 1, 'allowNonGo': True}, **bad)
            with self.assertRaises(HelperError) as cm:
                perf_record.cmd_record(Args(args))
            self.assertEqual(cm.exception.code, 'bad-argument', bad)
        # Not a Go program: refused unless allowNonGo.
        with self.assertRaises(HelperError) as cm:
            perf_record.cmd_record(Args({'pid': cat.pid, 'duration': 1}))
        self.assertEqual(cm.exception.code, 'not-go')
        self.assertIsNone(lifecycle._tmpdir[0], 'a private dir was made for a refused request')
