"""`trace`: the latency of Go functions (go_func_cycles.c): a uprobe on each function's entry
and on each of its RET instructions (never uretprobes, which crash Go programs), paired by
goroutine inside the BPF program."""

import json
import time

from .ebpf import NFINE, NSLOTS, alive, compile_bpf, duration_arg, fine_buckets, log2_buckets, report_attached, run_until_done, target_exe
from .lifecycle import on_cleanup
from .protocol import fail
from .registry import subcommand
from .resources import resource

MAX_FUNCS = 32
MAX_RETS = 256


@subcommand('trace', capability='ebpf-trace')
def cmd_trace(args):
    """go_func_cycles. --pid, --duration, --functions [{name, entry, rets[]}], --goBuildId and/or
    --gnuBuildId. Each entry must lie in the function of that name (the binary's own table), each
    RET must be a RET instruction of it."""
    pid = args.pid(require_go=True)
    duration = duration_arg(args)
    funcs = args.raw_value('functions')
    if isinstance(funcs, str):  # run directly: --functions '[{"name":...}]'
        try:
            funcs = json.loads(funcs)
        except ValueError:
            fail('bad-argument', '--functions must be a JSON list')
    exe = target_exe(args, pid)
    args.done()
    if not isinstance(funcs, list) or not 1 <= len(funcs) <= MAX_FUNCS:
        fail('bad-argument', '--functions must list 1 to %d functions' % MAX_FUNCS)
    for i, f in enumerate(funcs):
        if not isinstance(f, dict) or not isinstance(f.get('name'), str) or len(f['name']) > 2048:
            fail('bad-argument', 'function %d needs a name' % i)
        func = exe.check_entry(f.get('entry'), f['name'], 'entry of %s' % f['name'])
        rets = f.get('rets')
        if not isinstance(rets, list) or not 1 <= len(rets) <= MAX_RETS:
            fail('bad-argument', '%s needs 1 to %d RET addresses' % (f['name'], MAX_RETS))
        for r in rets:
            exe.check_ret(r, func, 'RET of %s' % f['name'])
    src = [resource('go_func_cycles.c')]
    for i in range(len(funcs)):
        src.append('int entry_%d(struct pt_regs *ctx) { return on_entry(ctx, %d); }' % (i, i))
        src.append('int ret_%d(struct pt_regs *ctx) { return on_ret(ctx, %d); }' % (i, i))
    t0 = time.time()
    b = compile_bpf('\n'.join(src), ['-DTGID=%d' % pid, '-DNFUNC=%d' % len(funcs)])
    on_cleanup(b.cleanup)
    compiled = time.time()
    probes = 0
    try:
        # RETs before the entry: a call that starts once its entry is probed has its RETs probed
        # already (the program pairs by call, so the order is not needed for right pairs, only
        # for fewer unmatched calls).
        for i, f in enumerate(funcs):
            for r in f['rets']:
                b.attach_uprobe(name=exe.link, addr=r, fn_name='ret_%d' % i, pid=pid)
                probes += 1
            b.attach_uprobe(name=exe.link, addr=f['entry'], fn_name='entry_%d' % i, pid=pid)
            probes += 1
    except Exception as e:
        if not alive(pid):
            fail('pid-gone', 'PID %d exited while the probes were being attached' % pid)
        fail('unsupported', 'attaching uprobe %d failed: %s' % (probes + 1, str(e)[:300]))
    attach_ms = report_attached(t0, compiled, probes)
    calls, matched, sum_ns, hist, orphans, fine = b['calls'], b['matched'], b['sum_ns'], b['hist'], b['orphans'], b['fine']
    n = len(funcs)
    last = [0] * n
    per_sec = [[] for _ in range(n)]

    def snapshot(elapsed, final=False):
        h = [v.value for v in hist.values()]
        fh = [v.value for v in fine.values()]
        out = []
        for i, f in enumerate(funcs):
            c = calls[calls.Key(i)].value
            per_sec[i].append(int(c - last[i]))
            last[i] = c
            m = matched[matched.Key(i)].value
            o = orphans[orphans.Key(i)].value
            out.append({'name': f['name'], 'calls': int(c), 'matched': int(m), 'returnsWithoutEntry': int(o),
                        'unmatched': int(max(0, c - m)), 'sum_ns': int(sum_ns[sum_ns.Key(i)].value),
                        'buckets': log2_buckets(h[i * NSLOTS:(i + 1) * NSLOTS]),
                        'fine': fine_buckets(fh[i * NFINE:(i + 1) * NFINE]),
                        'callsPerSecond': list(per_sec[i])})
        return {'functions': out, 'elapsedSec': round(elapsed, 3), 'cycles': 'ns only'}

    res = run_until_done(b, pid, duration, snapshot)
    res.update({'pid': pid, 'probes': probes, 'attachMs': attach_ms})
    return res


