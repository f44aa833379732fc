"""`syscalls`: time spent in each system call, optionally with the user call sites
(go_syscall_breakdown.c, two tracepoints)."""

import time

from .ebpf import NSLOTS, compile_bpf, duration_arg, log2_buckets, report_attached, run_until_done
from .lifecycle import on_cleanup
from .registry import subcommand
from .resources import resource


@subcommand('syscalls', capability='ebpf-syscalls')
def cmd_syscalls(args):
    """go_syscall_breakdown. --pid, --duration, --stacks (user call sites), --topSites."""
    pid = args.pid()
    duration = duration_arg(args)
    want_stacks = args.bool('stacks', False)
    top_sites = args.int('topSites', 1, 50, default=5)
    args.done()
    cflags = ['-DTGID=%d' % pid]
    if want_stacks:
        cflags.append('-DWANT_STACKS=1')
    t0 = time.time()
    b = compile_bpf(resource('go_syscall_breakdown.c'), cflags)  # TRACEPOINT_PROBEs attach on load
    on_cleanup(b.cleanup)
    attach_ms = report_attached(t0, time.time(), 2)
    try:
        from bcc.syscall import syscall_name
    except ImportError:
        def syscall_name(nr):
            return b'syscall_%d' % nr
    stats, hist = b['stats'], b['hist']

    def snapshot(elapsed, final=False):
        by_nr = {}
        for k, v in stats.items():
            nr = int(k.value)
            by_nr[nr] = {'nr': nr, 'name': syscall_name(nr).decode('ascii', 'replace'),
                         'count': int(v.count), 'total_ns': int(v.total_ns), 'slots': [0] * NSLOTS}
        for k, v in hist.items():
            e = by_nr.get(int(k.nr))
            if e is not None and k.slot < NSLOTS:
                e['slots'][k.slot] += int(v.value)
        out = []
        for e in sorted(by_nr.values(), key=lambda e: (-e['total_ns'], e['nr'])):
            e['buckets'] = log2_buckets(e.pop('slots'))
            out.append(e)
        if final and want_stacks:
            sites = {}
            st = b['stacks']
            for k, v in b['site_counts'].items():
                if k.stackid < 0:
                    continue
                try:
                    addrs = [int(a) for a in st.walk(k.stackid)]
                except KeyError:
                    continue
                sites.setdefault(int(k.nr), []).append({'addrs': addrs, 'count': int(v.value)})
            for e in out:
                s = sorted(sites.get(e['nr'], []), key=lambda s: -s['count'])[:top_sites]
                if s:
                    e['topSites'] = s
        return {'syscalls': out, 'elapsedSec': round(elapsed, 3)}

    res = run_until_done(b, pid, duration, snapshot)
    res.update({'pid': pid, 'probes': 2, 'attachMs': attach_ms})
    return res

