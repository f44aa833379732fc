"""`profile`: a CPU sampler that keeps the word at the user SP (go_cpu_profile.c).

perf's frame-pointer stacks lose the caller of a function sampled where it has no frame (a
frameless leaf, a prologue, an epilogue). This sampler takes the same user stack (get_stackid
walks the same frame pointers) plus the word at the user SP, which there is the return address
into the missing caller; the TypeScript side decides, from the binary's pcsp table, where to use
it."""

import os
import struct
import time

from .ebpf import alive, check_addr, compile_bpf, duration_arg, report_attached, run_until_done, target_exe
from .exe import Elf
from .lifecycle import on_cleanup
from .perf_tools import NO_PMU_REASON
from .protocol import fail
from .registry import subcommand
from .resources import resource

_P_STATS = ('samples', 'userStackErrors', 'kernelStackErrors', 'hashFull', 'spUnreadable',
            'kernelModeSamples', 'noUserRegs', 'userStackCollisions', 'periodSum')
_P_STACK_ENTRIES = 16384
_P_COUNT_ENTRIES = 65536
_PERF_TYPE_HARDWARE, _PERF_TYPE_SOFTWARE = 0, 1
_PERF_COUNT_HW_CPU_CYCLES, _PERF_COUNT_SW_CPU_CLOCK = 0, 0


def _p_exec_mappings(pid, exe_ino):
    """The executable mappings of the target's own executable: [(start, end, pgoff)]."""
    out = []
    try:
        with open('/proc/%d/maps' % pid, 'r') as f:
            for line in f:
                parts = line.split(None, 5)
                if len(parts) < 5 or 'x' not in parts[1]:
                    continue
                if int(parts[4]) != exe_ino:
                    continue
                lo, hi = parts[0].split('-')
                out.append((int(lo, 16), int(hi, 16), int(parts[2], 16)))
    except (OSError, ValueError):
        fail('pid-gone', 'cannot read the memory map of PID %d (did it exit?)' % pid)
    return out


def _p_load_bias(pid, exe):
    """runtime address - link-time address of the executable's code (0 unless PIE)."""
    try:
        ino = os.stat(exe).st_ino
        with open(exe, 'rb') as f:
            segs = [s for s in Elf(f).segments if s['type'] == 1 and s['flags'] & 1]
    except (OSError, ValueError, struct.error) as e:
        fail('pid-gone', 'cannot read the executable of PID %d: %s' % (pid, e))
    for lo, _hi, pgoff in _p_exec_mappings(pid, ino):
        for s in segs:
            if s['off'] - s['off'] % 4096 <= pgoff < s['off'] + s['filesz']:
                return (lo - pgoff) - (s['vaddr'] - s['off'])
    fail('unsupported', 'PID %d has no executable mapping of its own binary' % pid)


@subcommand('profile', capability='ebpf-profile')
def cmd_profile(args):
    """go_cpu_profile. --pid, --duration, --freq, --event auto|cycles|cpu-clock, --textLo/--textHi
    (link-time text range), --kernel, --goBuildId and/or --gnuBuildId."""
    pid = args.pid(require_go=True)
    duration = duration_arg(args)
    freq = args.int('freq', 1, 20000, default=999, what=' Hz')
    requested = args.choice('event', ('auto', 'cycles', 'cpu-clock'), default='auto')
    want_kernel = args.bool('kernel', False)
    exe = target_exe(args, pid)
    text_lo = check_addr(args.int('textLo', 1, (1 << 47) - 1), exe.segs, 'textLo')
    text_hi = args.int('textHi', 1, 1 << 47)
    if text_hi <= text_lo:
        fail('bad-argument', '--textHi must be above --textLo')
    args.done()
    bias = _p_load_bias(pid, exe.link)
    cflags = ['-DTGID=%d' % pid, '-DTEXT_LO=0x%xULL' % (text_lo + bias), '-DTEXT_HI=0x%xULL' % (text_hi + bias),
              '-DSTACK_ENTRIES=%d' % _P_STACK_ENTRIES, '-DCOUNT_ENTRIES=%d' % _P_COUNT_ENTRIES]
    if want_kernel:
        cflags.append('-DWANT_KERNEL=1')
    t0 = time.time()
    b = compile_bpf(resource('go_cpu_profile.c'), cflags)
    on_cleanup(b.cleanup)
    compiled = time.time()
    event, fallback = 'cpu-clock', None
    if requested in ('auto', 'cycles'):
        try:
            b.attach_perf_event(ev_type=_PERF_TYPE_HARDWARE, ev_config=_PERF_COUNT_HW_CPU_CYCLES,
                                fn_name='on_sample', sample_freq=freq)
            event = 'cycles'
        except Exception as e:
            if requested == 'cycles':
                fail('event-unsupported', 'cycles cannot be opened here (no PMU, or it is busy): %s — use --event cpu-clock' % str(e)[:200],
                     'record with --event cpu-clock (or --event auto, which falls back by itself)')
            import ctypes
            err = ctypes.get_errno()  # libbcc is loaded with use_errno: perf_event_open's errno
            fallback = NO_PMU_REASON if err in (2, 95) else 'cycles cannot be opened here (%s)' % (os.strerror(err) if err else str(e)[:200])
    if event == 'cpu-clock':
        try:
            b.attach_perf_event(ev_type=_PERF_TYPE_SOFTWARE, ev_config=_PERF_COUNT_SW_CPU_CLOCK,
                                fn_name='on_sample', sample_freq=freq)
        except Exception as e:
            if not alive(pid):
                fail('pid-gone', 'PID %d exited while the sampler was being attached' % pid)
            fail('unsupported', 'attaching the cpu-clock perf event failed: %s' % str(e)[:300])
    ncpu = len(list(b.open_perf_events.values())[0]) if b.open_perf_events else 0
    attach_ms = report_attached(t0, compiled, ncpu)
    stats, counts, stacks = b['stats'], b['counts'], b['stacks']
    last = [0]
    per_sec = []

    def stat_values():
        return dict((name, int(sum(stats[stats.Key(i)]))) for i, name in enumerate(_P_STATS))

    def snapshot(elapsed, final=False):
        st = stat_values()
        per_sec.append(st['samples'] - last[0])
        last[0] = st['samples']
        res = {'samples': st['samples'], 'samplesPerSecond': list(per_sec), 'elapsedSec': round(elapsed, 3)}
        if not final:
            return res
        out, walk_failed = [], 0
        for k, v in counts.items():
            e = {'count': int(v.value)}
            if k.ustack >= 0:
                try:
                    e['user'] = [int(a) for a in stacks.walk(k.ustack)]
                except KeyError:
                    walk_failed += int(v.value)
                    e['user'] = []
            else:
                e['user'] = [int(k.ip)] if k.ip else []
                e['userStackError'] = int(k.ustack)
            if k.spword:
                e['spWord'] = int(k.spword)
            if k.kstack >= 0:
                try:
                    e['kernel'] = ['0x%x' % a for a in stacks.walk(k.kstack)]
                except KeyError:
                    pass
            out.append(e)
        res.update({'stacks': out, 'stats': st, 'stackWalkFailed': walk_failed,
                    'distinctKeys': len(out), 'hashCapacity': _P_COUNT_ENTRIES})
        return res

    res = run_until_done(b, pid, duration, snapshot)
    res.update({'pid': pid, 'event': event, 'fallbackReason': fallback, 'freqHz': freq, 'cpus': ncpu,
                'loadBias': bias, 'textLo': text_lo, 'textHi': text_hi, 'attachMs': attach_ms,
                'kernelStacks': want_kernel})
    return res

