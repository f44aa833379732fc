"""`allocs`: the allocations the Go runtime samples for its memory profile, with their stacks
(go_alloc_heat.c, one uprobe on runtime.mProf_Malloc after its stack check), and the process's
runtime.MemProfileRate, read from its memory at the start and the end, which the TypeScript
side needs to unsample the counts the way pprof does."""

import struct
import time

from .cpu_profile import _p_load_bias
from .ebpf import alive, compile_bpf, duration_arg, report_attached, run_until_done, target_exe
from .lifecycle import on_cleanup
from .protocol import fail
from .registry import subcommand
from .resources import resource

_A_STATS = ('samples', 'stackErrors', 'stackCollisions', 'hashFull')
_A_STACK_ENTRIES = 16384
_A_COUNT_ENTRIES = 65536


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
    writable data), --goBuildId and/or --gnuBuildId."""
    pid = args.pid(require_go=True)
    duration = duration_arg(args)
    exe = target_exe(args, pid)
    probe = args.int('mprofMalloc', 1, (1 << 47) - 1)
    exe.check_entry(probe, 'runtime.mProf_Malloc', 'runtime.mProf_Malloc')
    size_reg = args.choice('sizeReg', ('bx', 'cx'))
    rate_addr = args.int('rateAddr', 1, (1 << 47) - 1)
    args.done()
    data = [(s['vaddr'], s['vaddr'] + s['memsz']) for s in exe.elf.segments if s['type'] == 1 and s['flags'] & 2]
    if not any(lo <= rate_addr and rate_addr + 8 <= hi for lo, hi in data):
        fail('bad-argument', 'runtime.MemProfileRate 0x%x is not in a writable segment of the target' % rate_addr)
    bias = _p_load_bias(pid, exe.link)
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
    stats, counts, stacks = b['stats'], b['counts'], b['stacks']
    last = [0]
    per_sec = []

    def stat_values():
        return dict((name, int(sum(stats[stats.Key(i)]))) for i, name in enumerate(_A_STATS))

    def snapshot(elapsed, final=False):
        st = stat_values()
        per_sec.append(st['samples'] - last[0])
        last[0] = st['samples']
        res = {'samples': st['samples'], 'samplesPerSecond': list(per_sec), 'elapsedSec': round(elapsed, 3)}
        if not final:
            return res
        out, walk_failed = [], 0
        for k, v in counts.items():
            e = {'size': int(k.size), 'count': int(v.value), 'user': []}
            if k.ustack >= 0:
                try:
                    e['user'] = [int(a) for a in stacks.walk(k.ustack)]
                except KeyError:
                    walk_failed += int(v.value)
            else:
                e['userStackError'] = int(k.ustack)
            out.append(e)
        res.update({'stacks': out, 'stats': st, 'stackWalkFailed': walk_failed, 'hashCapacity': _A_COUNT_ENTRIES})
        return res

    res = run_until_done(b, pid, duration, snapshot)
    res['memProfileRateEnd'] = _read_rate(pid, rate_addr + bias) if alive(pid) else rate_start
    res.update({'pid': pid, 'memProfileRate': rate_start, 'loadBias': bias, 'probes': 1, 'attachMs': attach_ms})
    return res
