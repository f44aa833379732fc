"""`trace`: which probe addresses it accepts (every RET and instruction start as `go tool objdump`
decodes them; nothing in the middle of an instruction, even a byte that reads 0xC3), and, run for
real, that its probes are in the target while it traces, count each call, and are gone after
[root, bcc, kernel headers, Go]."""

import os
import subprocess
import json
import threading
import unittest

from perflens_helper import authz, lifecycle, protocol, tracer
from perflens_helper.args import Args
from perflens_helper.protocol import HelperError
from support import LINE_WORKER, Messages, build_go, go_nm, go_objdump, go_objdump_all, go_tool, newest_gofmt, needs_root, wait_for, wait_running


class _Compiled(Exception):
    """Raised instead of compiling: the arguments passed every check."""


def read_mem(pid, addr, n):
    with open('/proc/%d/mem' % pid, 'rb') as f:
        f.seek(addr)
        return f.read(n)


class TracerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.binary = build_go(LINE_WORKER)
        cls.nm = go_nm(cls.binary)
        cls.insns = go_objdump(cls.binary, 'main.work')
        cls.build_id = subprocess.check_output([go_tool(newest_gofmt()), 'tool', 'buildid', cls.binary]).decode().strip()

    def setUp(self):
        authz._caller[0] = authz.Caller(os.getuid(), 'root' if os.geteuid() == 0 else 'user')
        self.addCleanup(authz._caller.__setitem__, 0, None)
        self.addCleanup(lifecycle.run_cleanups)
        self.proc = subprocess.Popen([self.binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd='/')
        self.addCleanup(self.proc.wait)
        self.addCleanup(self.proc.kill)
        wait_running(self.proc.pid, self.binary)

    def trace_args(self, functions, **extra):
        return dict({'pid': self.proc.pid, 'duration': 60, 'goBuildId': self.build_id, 'functions': functions}, **extra)

    def checked(self, functions, **extra):
        """'ok' when every check passed (compile_bpf was reached), else the refusal's code and message."""
        def compiled(*a, **kw):
            raise _Compiled()
        saved = tracer.compile_bpf
        tracer.compile_bpf = compiled
        try:
            tracer.cmd_trace(Args(self.trace_args(functions, **extra)))
        except _Compiled:
            return 'ok'
        except HelperError as e:
            return e.code, e.message
        finally:
            tracer.compile_bpf = saved
        raise AssertionError('neither refused nor compiled')

    def work(self):
        entry = self.insns[0][0]
        rets = [a for a, b, t in self.insns if t.startswith('RET')]
        self.assertTrue(rets)
        return {'name': 'main.work', 'entry': entry, 'rets': rets}

    def test_every_ret_objdump_finds_is_accepted_and_every_other_address_refused_needs_go(self):
        good = self.work()
        self.assertEqual(self.checked([good]), 'ok')
        self.assertEqual(self.checked(json.dumps([good])), 'ok')  # as the command line passes it
        starts = set(a for a, _, _ in self.insns)
        rets = set(good['rets'])
        lo, size = self.nm['main.work']
        for a in range(lo, lo + size):
            got = self.checked([dict(good, rets=[a])])
            if a in rets:
                self.assertEqual(got, 'ok', hex(a))
            else:
                self.assertEqual(got[0], 'bad-probe', hex(a))
                self.assertRegex(got[1], 'is not a RET instruction' if a in starts else 'is not where an instruction starts')
            got = self.checked([dict(good, entry=a)])
            self.assertEqual(got if a in starts else got[0], 'ok' if a in starts else 'bad-probe', hex(a))

    def test_a_byte_that_reads_as_ret_inside_another_instruction_is_refused_needs_go(self):
        # The place the old check (the byte is 0xC3 or 0xC2) let through: inside an instruction.
        for name, insns in sorted(go_objdump_all(self.binary, '^runtime\\.').items()):
            rets = [a for a, _, t in insns if t.startswith('RET')]
            inside = [a + i for a, b, _ in insns for i in range(1, len(b)) if b[i] in (0xC3, 0xC2)]
            if rets and inside:
                break
        else:
            self.fail('no runtime function with a 0xC3/0xC2 byte inside an instruction')
        got = self.checked([{'name': name, 'entry': insns[0][0], 'rets': rets + [inside[0]]}])
        self.assertEqual(got[0], 'bad-probe')
        self.assertIn('0x%x is not where an instruction starts' % inside[0], got[1])

    def test_malformed_lists_and_another_binary_are_refused_needs_go(self):
        good = self.work()
        for functions, code, text in (([], 'bad-argument', '1 to 32 functions'), ([good] * 33, 'bad-argument', '1 to 32 functions'),
                                      ('[{"name": ', 'bad-argument', 'must be a JSON list'),
                                      ([dict(good, rets=good['rets'] * 129)], 'bad-argument', '1 to 256 RET addresses'),
                                      ([dict(good, name='x' * 2049)], 'bad-argument', 'needs a name'),
                                      ([dict(good, name='main.main')], 'bad-probe', 'is in main.work, not in main.main'),
                                      ([dict(good, entry=0x10)], 'bad-argument', 'not in an executable segment')):
            got = self.checked(functions)
            self.assertEqual(got[0], code, text)
            self.assertIn(text, got[1])
        got = self.checked([good], goBuildId=self.build_id[:-1] + ('A' if self.build_id[-1] != 'A' else 'B'))
        self.assertEqual(got[0], 'binary-changed')
        args = self.trace_args([good])
        del args['goBuildId']
        with self.assertRaises(HelperError) as cm:
            tracer.cmd_trace(Args(args))
        self.assertIn('--goBuildId or --gnuBuildId', cm.exception.message)

    def test_probes_are_in_the_target_while_tracing_count_each_call_and_are_gone_after_needs_root_bcc_and_headers(self):
        needs_root(self)
        good = self.work()
        points = [good['entry']] + good['rets']
        original = [read_mem(self.proc.pid, a, 1) for a in points]
        self.assertNotIn(b'\xcc', original)
        self.addCleanup(protocol.STOP.clear)
        self.addCleanup(protocol._stop_reason.__setitem__, 0, None)
        out = {}

        def run():
            try:
                out['res'] = tracer.cmd_trace(Args(self.trace_args([good])))
            except BaseException as e:  # reported below
                out['err'] = e
        with Messages() as m:
            t = threading.Thread(target=run)
            t.start()
            wait_for(lambda: b'"phase":"attached"' in m.buf.getvalue() or not t.is_alive(), 'the probes to be attached', 120)
            self.assertNotIn('err', out)
            self.assertEqual([read_mem(self.proc.pid, a, 1) for a in points], [b'\xcc'] * len(points))
            calls = 25
            for i in range(calls):
                self.proc.stdin.write(b'x\n')
            self.proc.stdin.flush()
            for i in range(calls):
                self.assertEqual(self.proc.stdout.readline(), b'did %d\n' % (i + 1))
            protocol.request_stop('stop')
            t.join(60)
        self.assertFalse(t.is_alive())
        self.assertNotIn('err', out, out.get('err'))
        f = out['res']['functions'][0]
        self.assertEqual((f['name'], f['calls'], f['matched'], f['unmatched']), ('main.work', calls, calls, 0))
        self.assertEqual(out['res']['endedBy'], 'stop')
        self.assertEqual(out['res']['probes'], len(points))
        lifecycle.run_cleanups()
        self.assertEqual([read_mem(self.proc.pid, a, 1) for a in points], original)
        self.assertIsNone(self.proc.poll(), 'the traced program must go on running')
