"""`profile`: a CPU sampler that keeps the word at the user SP (go_cpu_profile.c).

perf's frame-pointer stacks lose the caller of a function sampled where it has no frame (a
frameless leaf, a prologue, an epilogue). This sampler takes the same user stack (get_stackid
walks the same frame pointers) plus the word at the user SP, which there is the return address
into the missing caller; the TypeScript side decides, from the binary's pcsp table, where to use
it."""

import os
import time

from .ebpf import (StackRecording, alive, check_addr, compile_bpf, duration_arg, load_bias, report_attached,
                   run_until_done, stack_entries, target_exe)
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
    bias = load_bias(pid, exe.link)
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
    rec = StackRecording(b, _P_STATS, lambda st: st['samples'])
    counts, stacks = b['counts'], b['stacks']

    def entry(k, v):
        e = {'count': int(v.value)}
        if k.ustack < 0:
            e['user'] = [int(k.ip)] if k.ip else []
        if k.spword:
            e['spWord'] = int(k.spword)
        if k.kstack >= 0:
            try:
                e['kernel'] = ['0x%x' % a for a in stacks.walk(k.kstack)]
            except KeyError:
                pass
        return e, int(v.value)

    def snapshot(elapsed, final=False):
        st = rec.tick()
        res = {'samples': st['samples'], 'samplesPerSecond': list(rec.counts), 'elapsedSec': round(elapsed, 3)}
        if not final:
            return res
        out, walk_failed = stack_entries(counts, stacks, entry)
        res.update({'stacks': out, 'stats': st, 'stackWalkFailed': walk_failed,
                    'distinctKeys': len(out), 'hashCapacity': _P_COUNT_ENTRIES})
        return res

    res = run_until_done(b, pid, duration, snapshot)
    res.update({'pid': pid, 'event': event, 'fallbackReason': fallback, 'freqHz': freq, 'cpus': ncpu,
                'loadBias': bias, 'textLo': text_lo, 'textHi': text_hi, 'attachMs': attach_ms,
                'kernelStacks': want_kernel})
    return res

