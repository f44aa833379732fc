"""Finding perf and probing which events it can open."""

import os

from .lifecycle import run_quiet
from .protocol import fail

PERF_PATHS = ('/usr/bin/perf', '/usr/sbin/perf', '/usr/local/bin/perf')
PERF_HINT = ('install perf: sudo apt-get install linux-perf (Debian), '
             'sudo apt-get install linux-tools-$(uname -r) (Ubuntu), sudo dnf install perf (Fedora)')


def find_perf():
    """(path, version) of a working perf, or raises perf-missing."""
    path = None
    for p in PERF_PATHS:  # fixed places, never PATH: this runs as root
        if os.access(p, os.X_OK):
            path = p
            break
    if path is None:
        fail('perf-missing', 'perf is not installed on this machine', PERF_HINT)
    rc, out, err = run_quiet([path, '--version'])
    if rc != 0 or not out.startswith('perf version'):
        # Ubuntu's wrapper script exits non-zero when the kernel-specific perf is missing.
        fail('perf-missing', 'perf does not run here: %s' % (err.strip() or out.strip())[:300], PERF_HINT)
    return path, out.strip()[len('perf version '):]


def perf_event_status(perf, event, pid=None):
    """'supported', 'unsupported' or 'error: ...' for opening `event` (system-wide test with
    `true`, or attached to PID for 100 ms)."""
    argv = [perf, 'stat', '-x', ',', '-e', event]
    argv += ['-p', str(pid), '--timeout', '100'] if pid else ['true']
    rc, _out, err = run_quiet(argv)
    for line in err.splitlines():
        cols = line.split(',')
        if len(cols) >= 3 and cols[2] == event:
            if cols[0].startswith('<not supported>'):
                return 'unsupported'
            return 'supported'  # a number or <not counted> (opened, did not run)
    if rc is None:
        return 'error: ' + err.strip()[:200]
    low = err.lower()
    # 'event syntax error': this perf has no event of that name (it then prints its usage).
    if 'not supported' in low or 'unknown' in low or 'invalid' in low or 'event syntax error' in low:
        return 'unsupported'
    return 'error: ' + (err.strip().splitlines() or ['perf stat exited with %s' % rc])[-1][:200]


NO_PMU_REASON = 'cycles is not supported on this machine (no hardware PMU; virtual machine?)'


def read_paranoid():
    try:
        with open('/proc/sys/kernel/perf_event_paranoid') as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def last_lines(text, n=3):
    """The last n non-empty lines of a tool's output, for an error message."""
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    return ' / '.join(lines[-n:])[:500] or '(no output)'
