"""`allocs`: the allocations the Go runtime samples for its memory profile, with their stacks
(go_alloc_heat.c, one uprobe on runtime.mProf_Malloc after its stack check), and the process's
runtime.MemProfileRate, read from its memory at the start and the end, which the TypeScript
side needs to unsample the counts the way pprof does.

The probe fires once per sampled allocation: about one per 512 KiB allocated at the default rate,
but once per allocation in a program that set runtime.MemProfileRate = 1, and each hit costs the
program a few microseconds (the stack walk). So the recording watches its own probe rate: above
--maxHitsPerSec (default 20,000 hits/s over a second, about 5-10% of one CPU here; 10 GB/s
allocated at the default rate) it stops early with what it has and says why."""

import struct
import time

from .ebpf import (StackRecording, alive, compile_bpf, duration_arg, load_bias, report_attached, run_until_done,
                   stack_entries, target_exe)
from .lifecycle import on_cleanup
from .protocol import fail
from .registry import subcommand
from .resources import resource

_A_STATS = ('samples', 'stackErrors', 'stackCollisions', 'hashFull')
_A_STACK_ENTRIES = 16384
_A_COUNT_ENTRIES = 65536
DEFAULT_MAX_HITS = 20000


def _read_rate(pid, addr):
    """runtime.MemProfileRate (a Go int) at link-time address addr + the load bias."""
    try:
        with open('/proc/%d/mem' % pid, 'rb') as f:
            f.seek(addr)
            raw = f.read(8)
    except OSError as e:
        if not alive(pid):
            fail('pid-gone', 'PID %d exited' % pid)
        fail('unsupported', 'cannot read runtime.MemProfileRate of PID %d: %s' % (pid, e))
    if len(raw) != 8:
        fail('unsupported', 'cannot read runtime.MemProfileRate of PID %d (short read)' % pid)
    return struct.unpack('<q', raw)[0]


@subcommand('allocs', capability='ebpf-allocs')
def cmd_allocs(args):
    """go_alloc_heat. --pid, --duration, --mprofMalloc (vaddr after the stack check, inside
    runtime.mProf_Malloc), --sizeReg bx|cx, --rateAddr (vaddr of runtime.MemProfileRate, in
    writable data), --maxHitsPerSec, --goBuildId and/or --gnuBuildId."""
    pid = args.pid(require_go=True)
    duration = duration_arg(args)
    exe = target_exe(args, pid)
    probe = args.int('mprofMalloc', 1, (1 << 47) - 1)
    exe.check_entry(probe, 'runtime.mProf_Malloc', 'runtime.mProf_Malloc')
    size_reg = args.choice('sizeReg', ('bx', 'cx'))
    rate_addr = args.int('rateAddr', 1, (1 << 47) - 1)
    max_hits = args.int('maxHitsPerSec', 100, 10000000, default=DEFAULT_MAX_HITS, what=' hits/s')
    args.done()
    data = [(s['vaddr'], s['vaddr'] + s['memsz']) for s in exe.elf.segments if s['type'] == 1 and s['flags'] & 2]
    if not any(lo <= rate_addr and rate_addr + 8 <= hi for lo, hi in data):
        fail('bad-argument', 'runtime.MemProfileRate 0x%x is not in a writable segment of the target' % rate_addr)
    bias = load_bias(pid, exe.link)
    rate_start = _read_rate(pid, rate_addr + bias)
    if rate_start <= 0:
        # mallocgc samples nothing then: say so instead of recording an empty profile.
        return {'pid': pid, 'memProfileRate': rate_start, 'memProfileRateEnd': rate_start, 'stacks': [],
                'stats': dict((k, 0) for k in _A_STATS), 'elapsedSec': 0, 'endedBy': 'profiling-off',
                'loadBias': bias, 'probes': 0, 'attachMs': 0}
    cflags = ['-DTGID=%d' % pid, '-DSIZE_REG=%s' % size_reg,
              '-DSTACK_ENTRIES=%d' % _A_STACK_ENTRIES, '-DCOUNT_ENTRIES=%d' % _A_COUNT_ENTRIES]
    t0 = time.time()
    b = compile_bpf(resource('go_alloc_heat.c'), cflags)
    on_cleanup(b.cleanup)
    compiled = time.time()
    try:
        b.attach_uprobe(name=exe.link, addr=probe, fn_name='on_mprof_malloc', pid=pid)
    except Exception as e:
        if not alive(pid):
            fail('pid-gone', 'PID %d exited while the probe was being attached' % pid)
        fail('unsupported', 'attaching the uprobe failed: %s' % str(e)[:300])
    attach_ms = report_attached(t0, compiled, 1)
    rec = StackRecording(b, _A_STATS, lambda st: st['samples'], max_hits)
    counts, stacks = b['counts'], b['stacks']

    def snapshot(elapsed, final=False):
        st = rec.tick()
        res = {'samples': st['samples'], 'samplesPerSecond': list(rec.counts), 'elapsedSec': round(elapsed, 3)}
        if not final:
            return res
        out, walk_failed = stack_entries(counts, stacks, lambda k, v: ({'size': int(k.size), 'count': int(v.value)}, int(v.value)))
        res.update({'stacks': out, 'stats': st, 'stackWalkFailed': walk_failed, 'hashCapacity': _A_COUNT_ENTRIES,
                    'maxHitsPerSec': max_hits})
        return res

    res = run_until_done(b, pid, duration, snapshot, rec.over_budget)
    res['memProfileRateEnd'] = _read_rate(pid, rate_addr + bias) if alive(pid) else rate_start
    res.update({'pid': pid, 'memProfileRate': rate_start, 'loadBias': bias, 'probes': 1, 'attachMs': attach_ms})
    return res
