"""`processes`: the Go processes on the machine, with their build information, and (when asked
with --cpuSampleMs) each one's CPU use measured here, where the processes run: a remote host's
picker cannot read its /proc."""

import os
import pwd
import time

from . import authz
from .args import proc_comm
from .exe import go_info_for_pid
from .lifecycle import proc_starttime
from .protocol import check_abort, sleep_unless_stopped
from .registry import subcommand


def _clk_tck():
    try:
        return os.sysconf('SC_CLK_TCK')
    except (ValueError, OSError):
        return 100


def _boot_time():
    try:
        with open('/proc/stat') as f:
            for line in f:
                if line.startswith('btime '):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _uptime():
    with open('/proc/uptime') as f:
        return float(f.read().split()[0])


def _proc_user(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('Uid:'):
                    uid = int(line.split()[1])
                    try:
                        return uid, pwd.getpwuid(uid).pw_name
                    except KeyError:
                        return uid, str(uid)
    except OSError:
        pass
    return None, None


def cpu_ticks(pid):
    """(start time, utime + stime) of a process in clock ticks, or None when it is gone (a zombie
    has exited: its parent has just not reaped it yet)."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            data = f.read()
        fields = data[data.rindex(b')') + 2:].split()
        if fields[0] in (b'Z', b'X'):
            return None
        return int(fields[19]), int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return None


def add_cpu_percent(procs, sample_ms):
    """Sets cpuPercent (% of one CPU) on each process description, measured over sample_ms; a
    process that exits meanwhile, or whose PID now names another process, gets none."""
    tck = _clk_tck()
    before = [cpu_ticks(d['pid']) for d in procs]
    t0 = time.monotonic()
    if sleep_unless_stopped(sample_ms / 1000.0):
        return
    for d, b in zip(procs, before):
        a = cpu_ticks(d['pid'])
        elapsed = time.monotonic() - t0
        if a is not None and b is not None and a[0] == b[0] and elapsed > 0:
            d['cpuPercent'] = round(100.0 * (a[1] - b[1]) / tck / elapsed, 1)


def describe_process(pid, info=None):
    info = info or go_info_for_pid(pid)
    if info is None:
        return None
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            cmdline = [a.decode('utf-8', 'replace') for a in f.read().split(b'\0')[:-1]]
    except OSError:
        cmdline = []
    _, start = proc_starttime(pid)
    uid, user = _proc_user(pid)
    tck, btime = _clk_tck(), _boot_time()
    d = dict(info)
    d.update({'pid': pid, 'comm': proc_comm(pid), 'cmdline': cmdline, 'uid': uid, 'user': user})
    if start is not None:
        d['uptimeSec'] = round(max(0.0, _uptime() - start / float(tck)), 2)
        d['startTime'] = round(btime + start / float(tck), 2) if btime else None
    return d


@subcommand('processes')
def cmd_processes(args):
    """Optional --cpuSampleMs (0 to 5000, default 0: not measured)."""
    sample_ms = args.int('cpuSampleMs', 0, 5000, default=0)
    args.done()
    me = {os.getpid(), os.getppid()}
    out, unreadable = [], 0
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        pid = int(name)
        if pid in me:
            continue
        check_abort()
        if not authz.may_act_on(pid):
            continue  # another user's: not even its executable is read
        info = go_info_for_pid(pid)
        if info is None:
            if os.path.exists('/proc/%d/exe' % pid) and not os.access('/proc/%d/exe' % pid, os.R_OK):
                unreadable += 1
            continue
        if not info.get('goVersion'):
            continue
        d = describe_process(pid, info)
        if d is not None:
            out.append(d)
    out.sort(key=lambda d: d['pid'])
    if sample_ms:
        add_cpu_percent(out, sample_ms)
    res = {'processes': out}
    if unreadable and os.geteuid() != 0:
        res['unreadable'] = unreadable
    c = authz.caller()
    res['caller'] = c.describe()
    return res

