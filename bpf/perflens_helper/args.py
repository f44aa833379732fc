"""Validation of every subcommand argument: typed accessors that fail with `bad-argument`, and
done(), which rejects any argument the subcommand did not ask for."""

import json
import re

from . import authz
from .exe import go_info_for_pid
from .lifecycle import proc_starttime
from .protocol import fail

_INT_RE = re.compile(r'^[0-9]{1,10}$')
PID_MAX = 4194304
START_TICKS_MAX = (1 << 53) - 1  # what the client's numbers hold exactly


class Args(object):
    """Typed access to a subcommand's arguments; done() rejects any argument nobody asked for."""

    def __init__(self, raw):
        if not isinstance(raw, dict):
            fail('bad-argument', 'arguments must be an object')
        self.raw = raw
        self.used = set()

    def _get(self, key, default):
        self.used.add(key)
        return self.raw.get(key, default)

    def has(self, key):
        return key in self.raw

    def int(self, key, lo, hi, default=None, what=None):
        v = self._get(key, default)
        if v is None:
            fail('bad-argument', '--%s is required' % key)
        if isinstance(v, bool) or not (isinstance(v, int) or (isinstance(v, str) and _INT_RE.match(v))):
            fail('bad-argument', '--%s must be a whole number, got %s' % (key, json.dumps(v)[:60]))
        n = int(v)
        if n < lo or n > hi:
            fail('bad-argument', '--%s must be between %d and %d%s, got %d' % (key, lo, hi, what or '', n))
        return n

    def choice(self, key, allowed, default=None):
        v = self._get(key, default)
        if v not in allowed:
            fail('bad-argument', '--%s must be one of %s, got %s' % (key, ', '.join(allowed), json.dumps(v)[:60]))
        return v

    def bool(self, key, default=False):
        v = self._get(key, default)
        if v in (True, 'true', '1', 'yes'):
            return True
        if v in (False, 'false', '0', 'no'):
            return False
        fail('bad-argument', '--%s must be true or false' % key)

    def str(self, key, pattern, max_len=512, default=None):
        v = self._get(key, default)
        if not isinstance(v, str) or len(v) > max_len or not re.match(pattern, v):
            fail('bad-argument', '--%s is not valid: %s' % (key, json.dumps(v)[:80]))
        return v

    def pid(self, key='pid', require_go=False):
        """The validated PID; with the optional --startTicks (the start time the caller saw, field 22
        of /proc/PID/stat), also that the PID still names that process (not a new one that reuses it)."""
        self.used.add(key)
        ticks = self.int('startTicks', 0, START_TICKS_MAX) if self.has('startTicks') else None
        return validate_pid(self.raw.get(key), require_go, ticks)

    def raw_value(self, key, default=None):
        """An unvalidated value (lists/objects): the caller validates it."""
        return self._get(key, default)

    def done(self):
        extra = sorted(set(self.raw) - self.used)
        if extra:
            fail('bad-argument', 'unknown argument(s): %s' % ', '.join('--' + str(k) for k in extra))


def validate_pid(value, require_go=False, start_ticks=None):
    """A positive integer naming a live process (not a zombie) the caller may act on (see authz);
    with start_ticks, the process that started then; with require_go, a Go program."""
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and _INT_RE.match(value))):
        fail('bad-argument', '--pid must be a positive whole number, got %s' % json.dumps(value)[:60])
    pid = int(value)
    if pid < 1 or pid > PID_MAX:
        fail('bad-argument', '--pid must be between 1 and %d, got %d' % (PID_MAX, pid))
    state, started = proc_starttime(pid)
    if state is None or state in ('Z', 'X'):
        fail('pid-gone', 'no process with PID %d' % pid, 'check the PID (it may have exited)')
    authz.check_may_act_on(pid)  # before anything of the process is read
    if start_ticks is not None and started != start_ticks:
        fail('pid-reused', 'PID %d is now another process: it started at clock tick %d after boot, the process '
             'expected started at tick %d' % (pid, started, start_ticks),
             'the process that was chosen has exited and its PID was reused: pick the process again')
    if require_go:
        info = go_info_for_pid(pid)
        if info is None or not info.get('goVersion'):
            fail('not-go', 'PID %d (%s) is not a Go program: no Go build information in %s' % (
                pid, proc_comm(pid), info.get('exe') if info else '/proc/%d/exe' % pid),
                'pick a Go process (go-perf-lens lists them)')
    return pid


def proc_comm(pid):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read().strip()
    except OSError:
        return '?'

