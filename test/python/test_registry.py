"""The subcommand table (registry) and the versions (versions): every module that declares a
subcommand is loaded by main, and client and helper take their versions from one file."""

import glob
import json
import os
import re
import unittest

from perflens_helper import main, registry, versions
from support import bpf_dir

DECLARED = re.compile(r"^@subcommand\('([a-z-]+)'(?:, capability='([a-z-]+)')?\)$", re.M)


class RegistryTest(unittest.TestCase):
    def test_every_subcommand_a_module_declares_is_registered_once_main_is_loaded(self):
        declared = {}
        for p in glob.glob(os.path.join(bpf_dir(), 'perflens_helper', '*.py')):
            with open(p) as f:
                for m in DECLARED.finditer(f.read()):
                    self.assertNotIn(m.group(1), declared, 'two modules declare %s' % m.group(1))
                    declared[m.group(1)] = (os.path.basename(p)[:-3], m.group(2) or m.group(1))
        self.assertGreaterEqual(len(declared), 10)
        self.assertEqual(sorted(registry.SUBCOMMANDS), sorted(declared))
        for name, (module, capability) in declared.items():
            entry = registry.SUBCOMMANDS[name]
            self.assertEqual(entry['fn'].__module__, 'perflens_helper.' + module, name)
            self.assertEqual(entry['capability'], capability)
        self.assertEqual(main.capabilities(), sorted(set(c for _, c in declared.values())))
        self.assertEqual(sorted(m.__name__.split('.')[-1] for m in main.SUBCOMMAND_MODULES),
                         sorted(set(m for m, _ in declared.values())))


class VersionsTest(unittest.TestCase):
    def test_the_versions_are_version_json_which_the_client_imports_too(self):
        with open(os.path.join(bpf_dir(), 'perflens_helper', 'version.json')) as f:
            v = json.load(f)
        self.assertEqual((versions.PROTOCOL_VERSION, versions.HELPER_VERSION), (v['protocol'], v['helper']))
        self.assertIsInstance(v['protocol'], int)
        self.assertRegex(v['helper'], r'^\d+\.\d+\.\d+$')
        ts = os.path.join(os.path.dirname(bpf_dir()), 'src', 'capture', 'helperProtocol.ts')
        with open(ts) as f:
            text = f.read()
        self.assertIn("from '../../bpf/perflens_helper/version.json'", text)
        self.assertNotRegex(text, r"HELPER_VERSION[^=\n]*=\s*'", 'the client keeps its own copy of the helper version')
