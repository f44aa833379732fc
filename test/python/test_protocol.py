import base64
import glob
import json
import os
import re
import subprocess
import unittest

from perflens_helper import protocol, resources
from support import Messages, bpf_dir, temp_dir


class ProtocolTest(unittest.TestCase):
    def test_error_codes_come_from_the_one_json_file(self):
        with open(os.path.join(bpf_dir(), 'perflens_helper', 'error_codes.json')) as f:
            codes = json.load(f)
        self.assertEqual(protocol.ERROR_CODES, tuple(codes))
        self.assertIn('pid-gone', codes)
        for code, meaning in codes.items():
            self.assertRegex(code, r'^[a-z]+(-[a-z]+)*$')
            self.assertTrue(meaning)

    def test_every_code_the_helper_sends_is_in_the_json_file(self):
        # fail() checks its code only when it runs; this finds a misspelt code on a rare path.
        used = set()
        for p in glob.glob(os.path.join(bpf_dir(), 'perflens_helper', '*.py')):
            with open(p) as f:
                used.update(re.findall(r"(?:\bfail\(|\bcode=|None, \()'([a-z]+(?:-[a-z]+)*)'", f.read()))
        self.assertGreaterEqual(len(used), 15)
        self.assertEqual(sorted(used - set(protocol.ERROR_CODES)), [])

    def test_no_other_file_keeps_its_own_copy_of_the_error_codes(self):
        # The client imports error_codes.json (src/capture/helperProtocol.ts); a file naming most
        # of the codes is a second list that will drift from it.
        root = os.path.dirname(bpf_dir())
        with open(os.path.join(root, 'src', 'capture', 'helperProtocol.ts')) as f:
            self.assertIn("import HELPER_ERRORS from '../../bpf/perflens_helper/error_codes.json'", f.read())
        codes = set(protocol.ERROR_CODES)
        copies = []
        for top in ('src', 'bpf', 'scripts', 'docs', 'README.md'):
            for d, dirs, files in os.walk(os.path.join(root, top)) if top != 'README.md' else [(root, [], ['README.md'])]:
                dirs[:] = [x for x in dirs if x not in ('node_modules', '__pycache__')]
                for n in files:
                    if n == 'error_codes.json' or not n.endswith(('.ts', '.py', '.md', '.json', '.mjs', '.js')):
                        continue
                    with open(os.path.join(d, n), encoding='utf-8', errors='replace') as f:
                        named = codes & set(re.findall(r"['\"`]([a-z]+(?:-[a-z]+)*)['\"`]", f.read()))
                    if len(named) > len(codes) // 2:
                        copies.append('%s (%d codes)' % (os.path.relpath(os.path.join(d, n), root), len(named)))
        self.assertEqual(copies, [])

    def test_fail_raises_a_helper_error_with_code_message_hint(self):
        with self.assertRaises(protocol.HelperError) as cm:
            protocol.fail('pid-gone', 'no process with PID 5', 'check the PID')
        self.assertEqual((cm.exception.code, cm.exception.message, cm.exception.hint),
                         ('pid-gone', 'no process with PID 5', 'check the PID'))

    def test_fail_refuses_a_code_that_is_not_in_the_list(self):
        with self.assertRaises(ValueError):
            protocol.fail('made-up-code', 'x')

    def test_emit_writes_one_json_line_per_message(self):
        with Messages() as m:
            protocol.emit('progress', message='a\nb', elapsedSec=1)
            protocol.warn('careful')
        raw = m.buf.getvalue()
        self.assertEqual(raw.count(b'\n'), 2)
        self.assertEqual(m.all(), [{'type': 'progress', 'message': 'a\nb', 'elapsedSec': 1},
                                   {'type': 'warning', 'message': 'careful'}])

    def test_stream_file_chunks_rebuild_the_file_and_the_hash_matches_sha256sum(self):
        d = temp_dir(self)
        p = os.path.join(d, 'blob')
        data = os.urandom(300000)
        with open(p, 'wb') as f:
            f.write(data)
        with Messages() as m:
            size, digest = protocol.stream_file(p, 'blob', chunk_size=65536)
        msgs = m.all()
        self.assertEqual(msgs[0], {'type': 'file', 'name': 'blob', 'size': len(data)})
        chunks = [base64.b64decode(x['data']) for x in msgs if x['type'] == 'chunk']
        self.assertEqual(len(chunks), 5)
        self.assertEqual(b''.join(chunks), data)
        reference = subprocess.check_output(['/usr/bin/sha256sum', p]).split()[0].decode()
        self.assertEqual(msgs[-1], {'type': 'file-end', 'name': 'blob', 'size': len(data), 'sha256': reference})
        self.assertEqual((size, digest), (len(data), reference))

    def test_resources_sent_in_the_envelope_win_over_files_beside_the_package(self):
        self.assertIn('BPF_HASH', resources.read('go_goroutine_latency.c'))
        resources.provide({'only_sent.h': '#define X 1\n'})
        self.assertEqual(resources.read('only_sent.h'), '#define X 1\n')
        with self.assertRaises(LookupError):
            resources.read('../etc/passwd')
        with self.assertRaises(protocol.HelperError) as cm:
            resources.resource('missing.c')
        self.assertEqual(cm.exception.code, 'internal')
