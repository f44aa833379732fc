"""Runs the helper package's unit tests (test/python/test_*.py, standard library unittest) and
prints one JSON line per test: {"name", "status": "pass"|"fail"|"error"|"skip", "detail"}.
test/unit/helper/pythonHelper.test.ts runs it with /usr/bin/python3 -I, so npm test counts them.
Usage: python3 -I test/python/run_tests.py BPF_DIR"""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.realpath(sys.argv[1]))
sys.path.insert(0, HERE)


class JsonResult(unittest.TestResult):
    def __init__(self, out):
        unittest.TestResult.__init__(self)
        self.out = out

    def _line(self, test, status, detail=''):
        self.out.write(json.dumps({'name': test.id(), 'status': status, 'detail': detail[-4000:]}) + '\n')
        self.out.flush()

    def addSuccess(self, test):
        self._line(test, 'pass')

    def addFailure(self, test, err):
        self._line(test, 'fail', self._exc_info_to_string(err, test))

    def addError(self, test, err):
        self._line(test, 'error', self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        self._line(test, 'skip', reason)


def main():
    out = os.fdopen(os.dup(1), 'w')
    sys.stdout = sys.stderr  # a test's stray print() must not break the JSON lines
    suite = unittest.defaultTestLoader.discover(HERE, pattern='test_*.py', top_level_dir=HERE)
    suite.run(JsonResult(out))


main()
