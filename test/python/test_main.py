"""The helper as a whole process: its command line, and the envelope loader importing the package
from memory (the ephemeral mode)."""

import glob
import json
import os
import subprocess
import sys
import unittest

from support import bpf_dir, temp_dir


def lines(out):
    return [json.loads(l) for l in out.decode().splitlines()]


class MainTest(unittest.TestCase):
    def test_unknown_subcommand_hello_then_error_exit_2(self):
        p = subprocess.run([sys.executable, '-I', os.path.join(bpf_dir(), 'helper.py'), 'nope'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd='/', timeout=30)
        msgs = lines(p.stdout)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(msgs[0]['type'], 'hello')
        self.assertEqual(msgs[0]['protocol'], 1)
        self.assertEqual(msgs[-1]['type'], 'error')
        self.assertEqual(msgs[-1]['code'], 'unknown-subcommand')
        self.assertEqual(len(msgs), 2)

    def test_envelope_loader_imports_the_package_from_memory_not_from_the_working_directory(self):
        cwd = temp_dir(self)
        marker = os.path.join(cwd, 'imported')
        decoy = 'open(%r, "w").write("x")\n' % marker
        os.mkdir(os.path.join(cwd, 'perflens_helper'))
        for name in ('perflens_helper/__init__.py', 'perflens_helper/main.py', 'json.py', 'subprocess.py'):
            with open(os.path.join(cwd, name), 'w') as f:
                f.write(decoy)
        pkg = os.path.join(bpf_dir(), 'perflens_helper')
        modules = {}
        for p in sorted(glob.glob(os.path.join(pkg, '*.py'))):
            name = os.path.basename(p)[:-3]
            with open(p) as f:
                modules['perflens_helper' if name == '__init__' else 'perflens_helper.' + name] = f.read()
        files = {}
        for p in glob.glob(os.path.join(pkg, '*.json')):
            with open(p) as f:
                files[os.path.basename(p)] = f.read()
        with open(os.path.join(bpf_dir(), 'envelope_loader.py')) as f:
            program = f.read()
        env = {'v': 1, 'subcommand': 'nope', 'args': {}, 'files': files, 'modules': modules, 'program': program}
        loader = ("import json,sys;E=json.loads(sys.stdin.buffer.readline());"
                  "exec(compile(E.pop('program'),'envelope_loader.py','exec'),{'__name__':'__go_perf_lens__','ENVELOPE':E})")
        p = subprocess.run([sys.executable, '-I', '-c', loader], input=(json.dumps(env) + '\n').encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, timeout=30)
        msgs = lines(p.stdout)
        self.assertEqual([m['type'] for m in msgs], ['hello', 'error'], p.stderr)
        self.assertEqual(msgs[1]['code'], 'unknown-subcommand')
        self.assertFalse(os.path.exists(marker), 'a file from the working directory was imported')
