"""Resource files (BPF sources, error_codes.json, version.json): by base name only, from the
envelope first, else from beside the package."""

import os
import unittest

from perflens_helper import resources
from perflens_helper.protocol import HelperError
from support import bpf_dir


class ResourcesTest(unittest.TestCase):
    def setUp(self):
        self.addCleanup(resources._sent.clear)
        self.addCleanup(resources._sent.update, dict(resources._sent))

    def test_files_beside_the_package_and_in_the_bpf_folder_are_read_as_they_are(self):
        for name, d in (('version.json', os.path.join(bpf_dir(), 'perflens_helper')), ('go_func_cycles.c', bpf_dir()),
                        ('fine_histogram.h', bpf_dir())):
            with open(os.path.join(d, name), encoding='utf-8') as f:
                self.assertEqual(resources.read(name), f.read())

    def test_only_base_names_are_read(self):
        for name in ('../bpf/go_func_cycles.c', 'perflens_helper/version.json', '/etc/passwd', '..', '.', '',
                     'perflens_helper', '../../../../etc/hostname'):
            with self.assertRaises(LookupError, msg=name):
                resources.read(name)

    def test_sent_files_win_and_a_missing_one_is_an_internal_error(self):
        resources.provide({'go_func_cycles.c': '// sent\n'})
        self.assertEqual(resources.read('go_func_cycles.c'), '// sent\n')
        with self.assertRaises(HelperError) as cm:
            resources.resource('no_such_tool.c')
        self.assertEqual(cm.exception.code, 'internal')
        self.assertIn("'no_such_tool.c'", cm.exception.message)
