"""Shared by the helper's Python tests: capturing protocol messages, temp dirs."""

import io
import json
import os
import shutil
import tempfile

from perflens_helper import protocol


class Messages(object):
    """Captures what protocol.emit writes, as parsed messages."""

    def __enter__(self):
        self.buf = io.BytesIO()
        self.saved = protocol._out
        protocol._out = self.buf
        return self

    def __exit__(self, *exc):
        protocol._out = self.saved

    def all(self):
        return [json.loads(l) for l in self.buf.getvalue().decode('utf-8').splitlines()]


def temp_dir(test):
    d = tempfile.mkdtemp(prefix='gpl-pytest-')
    test.addCleanup(shutil.rmtree, d, True)
    return d


def bpf_dir():
    import perflens_helper
    return os.path.dirname(os.path.dirname(os.path.realpath(perflens_helper.__file__)))
