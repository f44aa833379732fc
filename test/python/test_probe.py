"""`probe`: what the machine offers, each answer checked against an independent look at the
machine (uname, /proc, perf --version, importing bcc, the headers folder) [perf, bcc]."""

import os
import subprocess
import sys
import unittest

from perflens_helper import authz, probe
from perflens_helper.args import Args
from perflens_helper.protocol import HelperError
from support import TestUser, go_tool, needs_root, newest_gofmt, start_process


class ProbeTest(unittest.TestCase):
    def setUp(self):
        authz._caller[0] = authz.Caller(os.getuid(), 'root' if os.geteuid() == 0 else 'user')
        self.addCleanup(authz._caller.__setitem__, 0, None)

    def test_what_the_machine_offers_matches_the_machine_needs_perf_and_bcc(self):
        res = probe.cmd_probe(Args({}))
        self.assertEqual(res['kernel'], subprocess.check_output(['/usr/bin/uname', '-r']).decode().strip())
        self.assertEqual(res['arch'], subprocess.check_output(['/usr/bin/uname', '-m']).decode().strip())
        self.assertEqual(res['root'], os.geteuid() == 0)
        with open('/proc/sys/kernel/perf_event_paranoid') as f:
            self.assertEqual(res['perfEventParanoid'], int(f.read()))
        ref = subprocess.check_output(['/usr/bin/perf', '--version']).decode().strip()
        self.assertEqual(res['perf'], {'present': True, 'path': '/usr/bin/perf', 'version': ref[len('perf version '):]})
        self.assertEqual(res['events']['cpu-clock'], 'supported')
        self.assertEqual(res['recommendedEvent'], 'cycles:u' if res['events']['cycles:u'] == 'supported' else 'cpu-clock')
        self.assertEqual('fallbackReason' in res, res['events']['cycles:u'] != 'supported')
        bcc = subprocess.run(['/usr/bin/python3', '-I', '-c', 'import bcc; print(bcc.__file__)'], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, cwd='/')
        self.assertEqual(res['bcc']['importable'], bcc.returncode == 0)
        if bcc.returncode == 0:
            self.assertEqual(res['bcc']['module'], bcc.stdout.decode().strip())
        headers = '/lib/modules/%s/build' % os.uname().release
        self.assertEqual(res['kernelHeaders']['path'], headers)
        self.assertEqual(res['kernelHeaders']['present'], os.path.isdir(os.path.join(headers, 'include')))
        self.assertEqual(res['btf'], os.path.exists('/sys/kernel/btf/vmlinux'))
        self.assertEqual(res['uprobes'], os.path.isdir('/sys/bus/event_source/devices/uprobe'))
        if res['tracefs']['mounted']:
            self.assertTrue(os.path.isfile(os.path.join(res['tracefs']['path'], 'uprobe_events')))
        self.assertNotIn('pid', res)

    def test_with_a_pid_it_reads_the_build_information_go_version_gives_needs_go(self):
        b = newest_gofmt()
        p = start_process(self, [b])
        res = probe.cmd_probe(Args({'pid': p.pid}))
        ref = subprocess.check_output([go_tool(b), 'version', b]).decode()
        self.assertEqual(res['pid'], p.pid)
        self.assertEqual(res['process']['goVersion'], ref.split(': ', 1)[1].strip())
        self.assertEqual(res['process']['exe'], os.path.realpath(b))

    def test_another_users_pid_and_unknown_arguments_are_refused_needs_root(self):
        needs_root(self)
        roots = start_process(self, [newest_gofmt()]).pid
        authz._caller[0] = authz.Caller(TestUser(self).uid, 'sudo')
        with self.assertRaises(HelperError) as cm:
            probe.cmd_probe(Args({'pid': roots}))
        self.assertEqual(cm.exception.code, 'not-permitted')
        with self.assertRaises(HelperError) as cm:
            probe.cmd_probe(Args({'python': sys.executable}))
        self.assertEqual(cm.exception.code, 'bad-argument')
