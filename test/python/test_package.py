"""The helper package as a whole: every global name its functions use is defined (a name that is
not fails only when its line runs, as root, on a rare path)."""

import builtins
import glob
import importlib
import os
import symtable
import unittest

from support import bpf_dir


def global_names(table):
    """The names a module's code looks up as globals, in every nested scope."""
    out = set()
    for sym in table.get_symbols():
        if table.get_type() != 'module' and (sym.is_global() or sym.is_declared_global()) and sym.is_referenced():
            out.add(sym.get_name())
    for child in table.get_children():
        out |= global_names(child)
    return out


class PackageTest(unittest.TestCase):
    def test_every_global_name_the_helpers_functions_use_is_defined(self):
        files = sorted(glob.glob(os.path.join(bpf_dir(), 'perflens_helper', '*.py')))
        self.assertGreater(len(files), 15)
        undefined = []
        for p in files:
            name = os.path.basename(p)[:-3]
            module = importlib.import_module('perflens_helper' if name == '__init__' else 'perflens_helper.' + name)
            with open(p) as f:
                table = symtable.symtable(f.read(), p, 'exec')
            for n in sorted(global_names(table)):
                if not hasattr(module, n) and not hasattr(builtins, n):
                    undefined.append('%s: %s' % (name, n))
        self.assertEqual(undefined, [])
