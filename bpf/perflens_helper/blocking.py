"""`blocking`: where goroutines park and for how long (go_block_heat.c): a uprobe on
runtime.gopark and one on runtime.execute, paired by goroutine inside the BPF program. Each
result entry is one (stack, wait reason, log2 slot of the wait's length): ns and waits in it.

Parking is frequent in busy servers and each probe hit costs a few microseconds of the target's
time, so the recording watches its own probe rate: above --maxHitsPerSec (default 20,000 hits/s
over a second, about 5-10% of one CPU at this machine's ~3 us per hit) it stops early with what it
has and says why."""

import time

from .ebpf import (StackRecording, alive, compile_bpf, duration_arg, load_bias, report_attached, run_until_done,
                   stack_entries, target_exe)
from .lifecycle import on_cleanup
from .protocol import fail
from .registry import subcommand
from .resources import resource

_B_STATS = ('parks', 'executes', 'paired', 'parkedFull', 'hashFull', 'stackErrors', 'stackCollisions')
_B_STACK_ENTRIES = 16384
_B_COUNT_ENTRIES = 131072  # keys are (stack, reason, log2 slot): a few slots per stack
_B_PARKED_ENTRIES = 262144
DEFAULT_MAX_HITS = 20000


@subcommand('blocking', capability='ebpf-blocking')
def cmd_blocking(args):
    """go_block_heat. --pid, --duration, --gopark and --execute (vaddrs after the stack checks,
    inside runtime.gopark and runtime.execute), --maxHitsPerSec, --goBuildId and/or --gnuBuildId."""
    pid = args.pid(require_go=True)
    duration = duration_arg(args)
    exe = target_exe(args, pid)
    gopark = args.int('gopark', 1, (1 << 47) - 1)
    exe.check_entry(gopark, 'runtime.gopark', 'runtime.gopark')
    execute = args.int('execute', 1, (1 << 47) - 1)
    exe.check_entry(execute, 'runtime.execute', 'runtime.execute')
    max_hits = args.int('maxHitsPerSec', 100, 10000000, default=DEFAULT_MAX_HITS, what=' hits/s')
    args.done()
    bias = load_bias(pid, exe.link)
    cflags = ['-DTGID=%d' % pid, '-DSTACK_ENTRIES=%d' % _B_STACK_ENTRIES, '-DCOUNT_ENTRIES=%d' % _B_COUNT_ENTRIES,
              '-DPARKED_ENTRIES=%d' % _B_PARKED_ENTRIES]
    t0 = time.time()
    b = compile_bpf(resource('go_block_heat.c'), cflags)
    on_cleanup(b.cleanup)
    compiled = time.time()
    probes = 0
    try:
        b.attach_uprobe(name=exe.link, addr=gopark, fn_name='on_gopark', pid=pid)
        probes += 1
        b.attach_uprobe(name=exe.link, addr=execute, fn_name='on_execute', pid=pid)
        probes += 1
    except Exception as e:
        if not alive(pid):
            fail('pid-gone', 'PID %d exited while the probes were being attached' % pid)
        fail('unsupported', 'attaching uprobe %d failed: %s' % (probes + 1, str(e)[:300]))
    attach_ms = report_attached(t0, compiled, probes)
    rec = StackRecording(b, _B_STATS, lambda st: st['parks'] + st['executes'], max_hits)
    blocked, stacks, parked = b['blocked'], b['stacks'], b['parked']

    def entry(k, v):
        return {'reason': int(k.reason), 'slot': int(k.slot), 'ns': int(v.ns), 'waits': int(v.waits)}, int(v.waits)

    def snapshot(elapsed, final=False):
        st = rec.tick()
        res = {'parks': st['parks'], 'paired': st['paired'], 'hitsPerSecond': list(rec.rates), 'elapsedSec': round(elapsed, 3)}
        if not final:
            return res
        out, walk_failed = stack_entries(blocked, stacks, entry)
        # Goroutines parked and not yet running again: counted, with how long so far, not folded in.
        now_ns = time.monotonic_ns()
        still, still_ns = 0, 0
        for _g, p in parked.items():
            still += 1
            still_ns += max(0, now_ns - int(p.ts))
        res.update({'stacks': out, 'stats': st, 'stackWalkFailed': walk_failed, 'stillParked': still,
                    'stillParkedNs': still_ns, 'hashCapacity': _B_COUNT_ENTRIES, 'maxHitsPerSec': max_hits})
        return res

    res = run_until_done(b, pid, duration, snapshot, rec.over_budget)
    res.update({'pid': pid, 'probes': probes, 'attachMs': attach_ms, 'loadBias': bias})
    return res
