"""`binary`: a process's executable (its build ids and sha256, and optionally its bytes), and the
process's start time (field 22 of /proc/PID/stat), which with the build id tells this process
from a later one that reuses its PID."""

import hashlib
import os
import struct

from .exe import read_go_buildinfo
from .lifecycle import proc_starttime
from .protocol import check_abort, fail, stream_file
from .registry import subcommand


@subcommand('binary')
def cmd_binary(args):
    pid = args.pid()
    info_only = args.bool('infoOnly', False)  # build ids + sha256 only: lets the client use its cache
    args.done()
    _, started = proc_starttime(pid)
    link = '/proc/%d/exe' % pid
    try:
        f = open(link, 'rb')  # one open: the bytes, build ids and hash all come from this file
    except PermissionError:
        if os.geteuid() != 0:
            fail('not-root', 'cannot read the executable of PID %d (permission denied)' % pid, 'run the helper as root')
        # Root was refused: the kernel protects that process from tracing (it is not dumpable,
        # lives in another user namespace, or a security module guards it); root does not help.
        fail('not-permitted', 'the kernel refuses even root access to the executable of PID %d: the process is '
             'protected from tracing (not dumpable, another user namespace, or a security module)' % pid,
             'it cannot be profiled; pick another process (PID 1 is the system\'s init)')
    except OSError as e:
        fail('pid-gone', 'cannot open the executable of PID %d: %s' % (pid, e.strerror))
    with f:
        try:
            exe = os.readlink(link)
        except OSError:
            exe = None
        try:
            info = read_go_buildinfo(f)
        except (ValueError, struct.error, IndexError):
            info = {}
        f.seek(0)
        if info_only:
            h, size = hashlib.sha256(), 0
            for block in iter(lambda: f.read(1 << 20), b''):
                check_abort()
                h.update(block)
                size += len(block)
            digest = h.hexdigest()
        else:
            size, digest = stream_file(f, 'exe')
    if proc_starttime(pid)[1] != started:
        fail('pid-gone', 'PID %d exited while its executable was read' % pid, 'check the PID (it may have exited)')
    res = {'pid': pid, 'startTicks': started, 'exe': exe, 'size': size, 'sha256': digest, 'infoOnly': info_only}
    res.update({k: info.get(k) for k in ('goVersion', 'modulePath', 'goBuildId', 'gnuBuildId')})
    return res

