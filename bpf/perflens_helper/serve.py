"""The installed helper's entry point (`helper.py serve`, the one command its sudoers rule allows).

It starts in `/` with a clean environment (Python runs it isolated: -I), prints the ready line,
then reads ONE line from stdin: a JSON request {"v", "client", "subcommand", "args"} and nothing
else. Program text, modules or files are refused: this helper never runs code it receives. The
client's version must be the helper's own (both come from version.json), else version-mismatch
says how to upgrade. Who called it (SUDO_UID / PKEXEC_UID) decides which processes it may touch
(authz)."""

import json
import os
import stat
import sys

from . import authz
from .protocol import emit, setup_stdout
from .versions import HELPER_VERSION, PROTOCOL_VERSION

READY_LINE = 'go-perf-lens-ready serve'  # the ephemeral bootstrap's is 'go-perf-lens-ready'
MAX_REQUEST = 1 << 20
REQUEST_KEYS = {'v', 'client', 'subcommand', 'args'}
# The environment every child (perf) gets: nothing of the caller's.
CLEAN_ENV = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'LANG': 'C', 'LC_ALL': 'C'}
UPGRADE_HINT = 'install the matching helper: sudo go-perf-lens install-helper (from the go-perf-lens you are using)'


def install_dir():
    """The directory holding helper.py and the package."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_config(d):
    """config.json beside helper.py, written by install-helper ({"group", "adminGroup"}); only
    believed when root owns it and nobody else may write it."""
    p = os.path.join(d, 'config.json')
    try:
        st = os.stat(p)
        if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return {}
        with open(p) as f:
            cfg = json.load(f)
        return cfg if isinstance(cfg, dict) else {}
    except (OSError, ValueError):
        return {}


def isolate():
    """Working directory `/`, a clean environment; returns the environment it was started with."""
    started_with = dict(os.environ)
    os.chdir('/')
    os.environ.clear()
    os.environ.update(CLEAN_ENV)
    os.umask(0o077)
    return started_with


def _refuse(code, message, hint=None):
    emit('error', code=code, message=message, hint=hint)
    return 2


def read_request(stream):
    """(request, None) or (None, (code, message, hint))."""
    line = stream.readline(MAX_REQUEST + 1)
    if len(line) > MAX_REQUEST:
        return None, ('bad-request', 'the request is larger than %d bytes' % MAX_REQUEST, None)
    try:
        req = json.loads(line.decode('utf-8'))
    except (ValueError, UnicodeDecodeError):
        return None, ('bad-request', 'the installed helper takes one JSON request line, never a program: got %r' % line[:60],
                      'this go-perf-lens sends programs only to a helper that runs as root already; ' + UPGRADE_HINT)
    if not isinstance(req, dict):
        return None, ('bad-request', 'the request must be a JSON object', None)
    extra = sorted(set(req) - REQUEST_KEYS)
    if extra:
        return None, ('bad-request', 'the installed helper refuses request fields %s (it never runs code it receives)' % ', '.join(extra), None)
    if req.get('v') != PROTOCOL_VERSION or req.get('client') != HELPER_VERSION:
        return None, ('version-mismatch', 'go-perf-lens %s (protocol %s) cannot use the installed helper %s (protocol %d)' % (
            req.get('client'), req.get('v'), HELPER_VERSION, PROTOCOL_VERSION), UPGRADE_HINT)
    if not isinstance(req.get('subcommand'), str) or not isinstance(req.get('args', {}), dict):
        return None, ('bad-request', 'the request needs a subcommand name and an args object', None)
    return req, None


def serve():
    started_with = isolate()
    cfg = read_config(install_dir())
    authz.identify(started_with, installed=True, admin_group=cfg.get('adminGroup'))
    out = os.fdopen(os.dup(1), 'wb', buffering=0)
    out.write((READY_LINE + '\n').encode('ascii'))
    req, err = read_request(sys.stdin.buffer)
    if err is not None:
        setup_stdout()
        emit('hello', protocol=PROTOCOL_VERSION, helper=HELPER_VERSION, subcommand=None, capabilities=[],
             pid=os.getpid(), root=os.geteuid() == 0, python=sys.executable,
             pythonVersion='%d.%d.%d' % sys.version_info[:3], tempDir='', caller=authz.caller().describe())
        return _refuse(*err)
    from .main import run
    return run(req['subcommand'], req.get('args') or {}, watch_input=True)
