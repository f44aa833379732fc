"""`sched`: how long runnable goroutines wait before they run (go_goroutine_latency.c), from
one uprobe on runtime.casgstatus."""

import time

from .ebpf import alive, compile_bpf, duration_arg, fine_buckets, log2_buckets, report_attached, run_until_done, target_exe
from .lifecycle import on_cleanup
from .protocol import fail
from .registry import subcommand
from .resources import resource


@subcommand('sched', capability='ebpf-sched')
def cmd_sched(args):
    """go_goroutine_latency. --pid, --duration, --casgstatus (vaddr, inside runtime.casgstatus),
    --goidOffset, --goBuildId and/or --gnuBuildId, optional --gopcOffset/--startpcOffset (runtime.g
    fields: each worst wait's creation site and start function; with gopcOffset also the creating
    call stack, raw return addresses innermost first, for goroutines created while tracing)."""
    pid = args.pid(require_go=True)
    duration = duration_arg(args)
    exe = target_exe(args, pid)
    addr = args.raw_value('casgstatus')
    addr = int(addr) if isinstance(addr, str) and addr.isdigit() else addr
    exe.check_entry(addr, 'runtime.casgstatus', 'runtime.casgstatus')
    goid_off = args.int('goidOffset', 0, 4096)
    gopc_off = args.int('gopcOffset', 0, 4096, default=0)
    startpc_off = args.int('startpcOffset', 0, 4096, default=0)
    args.done()
    t0 = time.time()
    b = compile_bpf(resource('go_goroutine_latency.c'), ['-DTGID=%d' % pid, '-DGOID_OFFSET=%d' % goid_off,
                                                         '-DGOPC_OFFSET=%d' % gopc_off, '-DSTARTPC_OFFSET=%d' % startpc_off])
    on_cleanup(b.cleanup)
    compiled = time.time()
    try:
        b.attach_uprobe(name=exe.link, addr=addr, fn_name='on_casgstatus', pid=pid)
    except Exception as e:
        if not alive(pid):
            fail('pid-gone', 'PID %d exited while the probe was being attached' % pid)
        fail('unsupported', 'attaching the uprobe failed: %s' % str(e)[:300])
    attach_ms = report_attached(t0, compiled, 1)
    hist, stats, worst, fine, origin, stacks = b['hist'], b['stats'], b['worst'], b['fine'], b['origin'], b['stacks']

    def waiter(goid, ns):
        w = {'goid': goid, 'wait_ns': ns}
        o = origin.get(origin.Key(goid)) if gopc_off else None
        if o is not None and o.gopc:
            w['gopc'] = int(o.gopc)
            if o.startpc:
                w['startpc'] = int(o.startpc)
            if o.stackid >= 0:
                try:
                    w['creation_stack'] = [int(a) for a in stacks.walk(o.stackid)]
                except KeyError:
                    pass  # evicted from the stack map: said as "not recorded" by the client
        return w

    def snapshot(elapsed, final=False):
        h = [v.value for v in hist.values()]
        w = sorted(((int(v.value), int(k.value)) for k, v in worst.items()), reverse=True)[:10]
        return {'count': int(stats[stats.Key(0)].value), 'sum_ns': int(stats[stats.Key(1)].value),
                'buckets': log2_buckets(h), 'fine': fine_buckets([v.value for v in fine.values()]),
                'worst': [waiter(g, ns) for ns, g in w],
                'elapsedSec': round(elapsed, 3)}

    res = run_until_done(b, pid, duration, snapshot)
    res.update({'pid': pid, 'probes': 1, 'attachMs': attach_ms})
    return res


