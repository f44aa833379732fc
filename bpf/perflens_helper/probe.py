"""`probe`: what the machine offers (perf and its events, BCC, kernel headers, tracefs, uprobes),
and optionally a process's Go build information."""

import os
import sys

from .ebpf import kernel_headers
from .exe import go_info_for_pid
from .lifecycle import run_quiet
from .perf_tools import NO_PMU_REASON, find_perf, perf_event_status, read_paranoid
from .protocol import HelperError, check_abort
from .registry import subcommand


def _bcc_status():
    """Which Python can import bcc: this one, else /usr/bin/python3 (Debian's python3-bpfcc)."""
    tried = []
    cands = [sys.executable, '/usr/bin/python3']
    for py in cands:
        if not py or py in tried or not os.access(py, os.X_OK):
            continue
        tried.append(py)
        rc, out, _err = run_quiet([py, '-I', '-c', 'import bcc,sys;sys.stdout.write(bcc.__file__)'], 30)
        if rc == 0:
            return {'importable': True, 'python': py, 'module': out.strip(), 'tried': tried}
    return {'importable': False, 'python': None, 'tried': tried}


@subcommand('probe')
def cmd_probe(args):
    pid = args.pid() if args.has('pid') else None
    args.done()
    un = os.uname()
    res = {
        'root': os.geteuid() == 0,
        'kernel': un.release,
        'arch': un.machine,
        'perfEventParanoid': read_paranoid(),
        'python': sys.executable,
        'pythonVersion': '%d.%d.%d' % sys.version_info[:3],
    }
    try:
        perf, version = find_perf()
        res['perf'] = {'present': True, 'path': perf, 'version': version}
        events = {}
        for ev in ('cycles:u', 'cycles', 'instructions:u', 'cpu-clock', 'task-clock'):
            check_abort()
            events[ev] = perf_event_status(perf, ev, pid)
        res['events'] = events
        res['recommendedEvent'] = 'cycles:u' if events['cycles:u'] == 'supported' else 'cpu-clock'
        if events['cycles:u'] != 'supported':
            res['fallbackReason'] = NO_PMU_REASON
    except HelperError as e:
        res['perf'] = {'present': False, 'error': e.message, 'hint': e.hint}
        res['events'] = {}
        res['recommendedEvent'] = None
    res['bcc'] = _bcc_status()
    hdr, why = kernel_headers()
    res['kernelHeaders'] = {'path': hdr, 'present': why is None, 'problem': why}
    res['btf'] = os.path.exists('/sys/kernel/btf/vmlinux')
    tracefs = None
    for p in ('/sys/kernel/tracing', '/sys/kernel/debug/tracing'):
        if os.path.isdir(os.path.join(p, 'events')):
            tracefs = p
            break
    res['tracefs'] = {'mounted': tracefs is not None, 'path': tracefs}
    res['uprobes'] = os.path.isdir('/sys/bus/event_source/devices/uprobe')
    res['kprobes'] = os.path.isdir('/sys/bus/event_source/devices/kprobe')
    if pid is not None:
        res['pid'] = pid
        res['process'] = go_info_for_pid(pid)
    return res

