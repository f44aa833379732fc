"""Executable reading, checked against Go's own tools (go version -m, go tool buildid) and
binutils' readelf [needs Go toolchains, readelf]."""

import glob
import io
import os
import re
import subprocess
import unittest

from perflens_helper.exe import MAX_READ, Elf, GoFuncTable, read_go_buildinfo
from support import build_go, go_tool, newest_gofmt, temp_dir

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

    def test_function_table_matches_go_tool_nm_needs_go(self):
        prog = build_go('package main\n\nimport "fmt"\n\n//go:noinline\nfunc work(n int) int { s := 0; for i := 0; i < n; i++ { s += i * i }; return s }\n\n'
                        'func main() { fmt.Println(work(10)) }\n')
        nm = subprocess.check_output([go_tool(newest_gofmt()), 'tool', 'nm', '-size', prog]).decode()
        syms = [l.split() for l in nm.splitlines()]
        funcs = [(int(s[0], 16), int(s[1]), s[3]) for s in syms if len(s) == 4 and s[2] == 'T' and s[3].startswith(('main.', 'runtime.casgstatus'))]
        self.assertGreaterEqual(len(funcs), 3)
        with open(prog, 'rb') as f:
            table = GoFuncTable(Elf(f))
            for addr, size, name in funcs:
                self.assertEqual(table.lookup(addr)[:1] + table.lookup(addr)[2:], (addr, name))
                self.assertEqual(table.lookup(addr + size - 1)[2], name)
            self.assertIsNone(table.lookup(0x10))

    def test_a_crafted_elf_cannot_make_it_read_more_than_the_cap(self):
        import struct
        d = temp_dir(self)
        p = os.path.join(d, 'crafted')
        # 64-bit ELF header: 65535 section headers of 256 bytes each, and 4000 writable PT_LOAD
        # segments each claiming 1 TB (what the buildinfo search walks without a section).
        hdr = bytearray(64)
        hdr[:6] = b'\x7fELF\x02\x01'
        struct.pack_into('<QQ', hdr, 32, 64, 0)  # phoff, shoff (no sections)
        struct.pack_into('<HHHHH', hdr, 54, 56, 4000, 64, 0, 0)
        ph = struct.pack('<IIQQQQQQ', 1, 6, 0, 0x1000, 0, 1 << 40, 1 << 40, 0x1000)
        with open(p, 'wb') as f:
            f.write(bytes(hdr) + ph * 4000)
            f.truncate(64 << 20)  # a sparse 64 MB file
        reads = []

        class Counting(io.FileIO):
            def read(self, n=-1):
                b = io.FileIO.read(self, n)
                reads.append(len(b))
                return b
        with Counting(p, 'rb') as f:
            try:
                info = read_go_buildinfo(f)
                self.assertIsNone(info['goVersion'])
            except ValueError as e:
                self.assertIn('MB to be read', str(e))
        self.assertLessEqual(sum(reads), MAX_READ)
        hdr2 = bytearray(hdr)
        struct.pack_into('<QQ', hdr2, 32, 64, 64)
        struct.pack_into('<HHHHH', hdr2, 54, 56, 0, 4096, 65535, 0)  # absurd section header size
        with self.assertRaisesRegex(ValueError, 'bad ELF header sizes'):
            read_go_buildinfo(io.BytesIO(bytes(hdr2) + b'\0' * 4096))
