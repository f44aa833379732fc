"""`processes`: the Go processes on the machine, with their build information."""

import os
import pwd

from . import authz
from .args import proc_comm
from .exe import go_info_for_pid
from .lifecycle import proc_starttime
from .protocol import check_abort
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
    res = {'processes': out}
    if unreadable and os.geteuid() != 0:
        res['unreadable'] = unreadable
    c = authz.caller()
    res['caller'] = c.describe()
    return res

