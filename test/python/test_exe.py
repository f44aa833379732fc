"""Executable reading, checked against Go's own tools (go version -m, go tool buildid) and
binutils' readelf [needs Go toolchains, readelf]."""

import glob
import io
import os
import re
import subprocess
import unittest

from perflens_helper.exe import Elf, read_go_buildinfo
from support import temp_dir

GO_BINARIES = sorted(glob.glob('/usr/lib/go-1.*/bin/gofmt'))


class ExeTest(unittest.TestCase):
    def test_go_version_module_and_build_id_match_the_go_tools_needs_go(self):
        self.assertTrue(GO_BINARIES, 'no Go toolchain under /usr/lib/go-1.* (scripts/setup.sh installs them)')
        for b in GO_BINARIES:
            go = os.path.join(os.path.dirname(b), 'go')
            ref = subprocess.check_output([go, 'version', '-m', b]).decode()
            version = ref.split(': ', 1)[1].split('\n', 1)[0].strip()
            module = re.search(r'^\tpath\t(\S+)', ref, re.M).group(1)
            build_id = subprocess.check_output([go, 'tool', 'buildid', b]).decode().strip()
            with open(b, 'rb') as f:
                info = read_go_buildinfo(f)
            self.assertEqual((info['goVersion'], info['modulePath'], info['goBuildId']), (version, module, build_id), b)

    def test_gnu_build_id_matches_readelf_and_a_c_program_has_no_go_version(self):
        ref = re.search(r'Build ID: ([0-9a-f]+)', subprocess.check_output(['readelf', '-n', '/usr/bin/python3']).decode()).group(1)
        with open('/usr/bin/python3', 'rb') as f:
            info = read_go_buildinfo(f)
        self.assertEqual(info['gnuBuildId'], ref)
        self.assertIsNone(info['goVersion'])

    def test_segments_match_readelf(self):
        b = GO_BINARIES[-1]
        out = subprocess.check_output(['readelf', '-lW', b]).decode()
        ref = [(int(m.group(1), 16), int(m.group(2), 16)) for m in re.finditer(r'^\s+LOAD\s+0x[0-9a-f]+ (0x[0-9a-f]+) 0x[0-9a-f]+ (0x[0-9a-f]+)', out, re.M)]
        with open(b, 'rb') as f:
            mine = [(s['vaddr'], s['filesz']) for s in Elf(f).segments if s['type'] == 1]
        self.assertEqual(mine, ref)

    def test_not_elf_and_truncated_files_are_refused_not_crashed(self):
        with self.assertRaises(ValueError):
            read_go_buildinfo(io.BytesIO(b'#!/bin/sh\necho hi\n' * 10))
        d = temp_dir(self)
        with open(GO_BINARIES[-1], 'rb') as f:
            head = f.read(4096)
        p = os.path.join(d, 'cut')
        with open(p, 'wb') as f:
            f.write(head)
        with open(p, 'rb') as f:
            with self.assertRaisesRegex(ValueError, 'truncated'):
                read_go_buildinfo(f)
