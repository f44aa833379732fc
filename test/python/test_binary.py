"""`binary`: the executable of a process as it runs (bytes, sha256, size, build ids, checked
against the file, sha256sum and the Go tools), also when the file was deleted or replaced since,
and who may read it [root, useradd, Go]."""

import base64
import os
import shutil
import subprocess
import sys
import unittest

from perflens_helper import authz, binary
from perflens_helper.args import Args
from perflens_helper.protocol import HelperError
from support import Messages, TestUser, go_tool, needs_root, newest_gofmt, run_as_user, start_process, temp_dir


class BinaryTest(unittest.TestCase):
    def setUp(self):
        authz._caller[0] = authz.Caller(os.getuid(), 'root' if os.geteuid() == 0 else 'user')
        self.addCleanup(authz._caller.__setitem__, 0, None)

    def fetch(self, args):
        with Messages() as m:
            res = binary.cmd_binary(Args(args))
        msgs = m.all()
        return res, msgs, b''.join(base64.b64decode(x['data']) for x in msgs if x['type'] == 'chunk')

    def test_the_bytes_and_ids_are_the_running_programs_even_after_its_file_was_replaced_needs_go(self):
        d = temp_dir(self)
        exe = os.path.join(d, 'gofmt')
        shutil.copyfile(newest_gofmt(), exe)
        os.chmod(exe, 0o755)
        with open(exe, 'rb') as f:
            original = f.read()
        sha = subprocess.check_output(['/usr/bin/sha256sum', exe]).split()[0].decode()
        build_id = subprocess.check_output([go_tool(newest_gofmt()), 'tool', 'buildid', exe]).decode().strip()
        version = subprocess.check_output([go_tool(newest_gofmt()), 'version', exe]).decode().split(': ', 1)[1].strip()
        p = start_process(self, [exe])
        # The file is replaced (a rebuild) after the program started: the program's own bytes count.
        os.rename(exe, exe + '.old')
        with open(exe, 'wb') as f:
            f.write(b'#!/bin/sh\n')
        os.unlink(exe + '.old')
        res, msgs, data = self.fetch({'pid': p.pid})
        self.assertEqual(data, original)
        self.assertEqual((res['size'], res['sha256'], res['goBuildId'], res['goVersion']), (len(original), sha, build_id, version))
        self.assertEqual(res['exe'], exe + '.old (deleted)')
        self.assertEqual(msgs[-1], {'type': 'file-end', 'name': 'exe', 'size': len(original), 'sha256': sha})
        info, msgs, _ = self.fetch({'pid': p.pid, 'infoOnly': True})
        self.assertEqual(msgs, [])
        self.assertEqual((info['size'], info['sha256'], info['goBuildId'], info['startTicks']),
                         (len(original), sha, build_id, res['startTicks']))

    def test_a_non_go_program_has_its_gnu_build_id_and_no_go_version(self):
        p = start_process(self, ['/bin/cat'])
        res, _, data = self.fetch({'pid': p.pid, 'infoOnly': 'true'})
        with open('/bin/cat', 'rb') as f:
            self.assertEqual(res['size'], len(f.read()))
        ref = subprocess.check_output(['/usr/bin/readelf', '-n', os.path.realpath('/bin/cat')]).decode()
        self.assertIn('Build ID: %s' % res['gnuBuildId'], ref)
        self.assertIsNone(res['goVersion'])

    def test_another_users_program_is_refused_before_anything_is_read_needs_root(self):
        needs_root(self)
        alice = TestUser(self)
        roots = start_process(self, [newest_gofmt()]).pid
        authz._caller[0] = authz.Caller(alice.uid, 'sudo')
        with Messages() as m:
            with self.assertRaises(HelperError) as cm:
                binary.cmd_binary(Args({'pid': roots}))
        self.assertEqual(cm.exception.code, 'not-permitted')
        self.assertEqual(m.all(), [])

    def test_without_root_a_program_the_kernel_keeps_from_its_user_is_not_root_needs_root(self):
        needs_root(self)  # to create the account the check runs as
        alice = TestUser(self)
        # Alice's own process that made itself not dumpable (as programs holding secrets do): the
        # kernel refuses her its executable.
        hidden = subprocess.Popen([sys.executable, '-I', '-c', 'import ctypes, sys; ctypes.CDLL(None).prctl(4, 0, 0, 0, 0); '
                                   'print("ready", flush=True); sys.stdin.read()'],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd='/', user=alice.uid, group=alice.gid, extra_groups=[])
        self.addCleanup(hidden.wait)
        self.addCleanup(hidden.kill)
        self.assertEqual(hidden.stdout.readline(), b'ready\n')
        out = run_as_user(self, alice, (
            'import json\n'
            'from perflens_helper import binary\n'
            'from perflens_helper.args import Args\n'
            'from perflens_helper.protocol import HelperError\n'
            'try:\n    binary.cmd_binary(Args({"pid": %d, "infoOnly": True}))\n    print(json.dumps("read"))\n'
            'except HelperError as e:\n    print(json.dumps([e.code, e.message, e.hint]))\n') % hidden.pid)
        self.assertEqual(out, ['not-root', 'cannot read the executable of PID %d (permission denied)' % hidden.pid, 'run the helper as root'])
