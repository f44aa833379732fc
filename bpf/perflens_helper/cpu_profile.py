"""`profile`: a CPU sampler that sends each sample whole through a ring buffer (go_cpu_profile.c).

perf's frame-pointer stacks lose the caller of a function sampled where it has no frame (a
frameless leaf, a prologue, an epilogue). This sampler takes the same user stack (bpf_get_stack
walks the same frame pointers) plus the word at the user SP, which there is the return address
into the missing caller; the TypeScript side decides, from the binary's pcsp table, where to use
it. Every sample travels as its own record, so no stack is lost to a stack map's collisions;
records that find the ring full are counted (ringFull), and equal records are counted here.

The stacks go out as they come: each second's partial carries the stacks received since the last
one (live heat; the client takes them in as they arrive), and the result only what is left, so the
stacks of all messages together are the recording. No message carries more than about
_P_MESSAGE_MAX_BYTES of stacks: what does not fit waits for the next one (and at the end goes
ahead of the result in partials of its own)."""

import ctypes
import os
import struct
import time

from .ebpf import (StackRecording, alive, check_addr, compile_bpf, duration_arg, load_bias, report_attached,
                   run_until_done, target_exe)
from .lifecycle import on_cleanup
from .perf_tools import NO_PMU_REASON
from .protocol import fail, partial
from .registry import subcommand
from .resources import resource

_P_STATS = ('samples', 'userStackErrors', 'kernelStackErrors', 'ringFull', 'spUnreadable',
            'kernelModeSamples', 'noUserRegs', 'periodSum')
_P_MAX_DEPTH = 127  # frames per stack: the kernel's default perf_event_max_stack
_P_HEADER = struct.Struct('<QQii')  # struct sample_t: spword, ip, ulen, klen, then the frames
_P_RING_MIN_PAGES, _P_RING_MAX_PAGES = 256, 8192  # 1 MB .. 32 MB
# Stacks per message, as JSON, at most about this (an address is at most 16 characters and a key's
# 8 bytes per frame, so 3 bytes of JSON per byte of key, plus the entry's own fields, bounds it).
_P_MESSAGE_MAX_BYTES = 4 << 20
_PERF_TYPE_HARDWARE, _PERF_TYPE_SOFTWARE = 0, 1
_PERF_COUNT_HW_CPU_CYCLES, _PERF_COUNT_SW_CPU_CLOCK = 0, 0


def _p_depth():
    """Frames bpf_get_stack may return: ours, capped by the kernel's perf_event_max_stack."""
    try:
        with open('/proc/sys/kernel/perf_event_max_stack') as f:
            return max(1, min(_P_MAX_DEPTH, int(f.read().strip())))
    except (OSError, ValueError):
        return _P_MAX_DEPTH


def _p_ring_pages(freq, ncpu, record_bytes):
    """A ring that holds half a second of samples from every CPU (the reader drains it every
    50 ms), as a power of two of pages."""
    want = freq * ncpu * (record_bytes + 8) // 2 // 4096
    pages = _P_RING_MIN_PAGES
    while pages < want and pages < _P_RING_MAX_PAGES:
        pages *= 2
    return pages


class _Records(object):
    """Counts the ring's records by their bytes (header + the frames actually written), until they
    are taken (take()): `counts` holds the records not sent yet, in the order first seen."""

    def __init__(self, depth, want_kernel):
        self.counts = {}
        self.received = 0
        self.kernel_off = _P_HEADER.size + 8 * depth
        self.want_kernel = want_kernel

    def on_record(self, _ctx, data, _size):
        _sp, _ip, ulen, klen = _P_HEADER.unpack(ctypes.string_at(data, _P_HEADER.size))
        key = ctypes.string_at(data, _P_HEADER.size + (ulen if ulen > 0 else 0))
        if self.want_kernel and klen > 0:
            key += ctypes.string_at(data + self.kernel_off, klen)
        self.counts[key] = self.counts.get(key, 0) + 1
        self.received += 1
        return 0

    def take(self, max_bytes=_P_MESSAGE_MAX_BYTES):
        """The records not sent yet as stack entries, oldest first, about max_bytes of JSON at
        most (at least one entry); the rest stay for the next take."""
        out, size, taken = [], 0, []
        for key, count in self.counts.items():
            size += 3 * len(key) + 64
            if out and size > max_bytes:
                break
            out.append(_entry(key, count))
            taken.append(key)
        if len(taken) == len(self.counts):
            self.counts = {}
        else:
            for key in taken:
                del self.counts[key]
        return out


def _entry(key, count):
    """One record's bytes (struct sample_t's header, its user frames, its kernel frames) as the
    wire's stack entry."""
    h = _P_HEADER.size
    spword, ip, ulen, klen = _P_HEADER.unpack_from(key)
    e = {'count': count}
    n = ulen if ulen > 0 else 0
    if ulen >= 0:
        e['user'] = list(struct.unpack_from('<%dQ' % (n // 8), key, h))
    else:
        e['user'] = [ip] if ip else []
        e['userStackError'] = ulen
    if spword:
        e['spWord'] = spword
    if klen > 0:
        e['kernel'] = ['0x%x' % a for a in struct.unpack_from('<%dQ' % (klen // 8), key, h + n)]
    return e


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
    depth = _p_depth()
    kernel_depth = _P_MAX_DEPTH if want_kernel else 1
    ncpu_possible = os.cpu_count() or 1
    ring_pages = _p_ring_pages(freq, ncpu_possible, _P_HEADER.size + 8 * (depth + kernel_depth))
    cflags = ['-DTGID=%d' % pid, '-DTEXT_LO=0x%xULL' % (text_lo + bias), '-DTEXT_HI=0x%xULL' % (text_hi + bias),
              '-DUSER_DEPTH=%d' % depth, '-DKERNEL_DEPTH=%d' % kernel_depth, '-DRING_PAGES=%d' % ring_pages]
    if want_kernel:
        cflags.append('-DWANT_KERNEL=1')
    t0 = time.time()
    b = compile_bpf(resource('go_cpu_profile.c'), cflags)
    on_cleanup(b.cleanup)
    records = _Records(depth, want_kernel)
    try:
        b['samples'].open_ring_buffer(records.on_record)
    except Exception as e:
        fail('unsupported', 'the BPF ring buffer cannot be opened here: %s' % str(e)[:200],
             'the eBPF sampler needs Linux 5.8 or later; record with perf instead (--sampler perf)')
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

    def snapshot(elapsed, final=False):
        st = rec.tick()
        res = {'samples': st['samples'], 'samplesPerSecond': list(rec.counts), 'elapsedSec': round(elapsed, 3),
               'stats': st, 'received': records.received, 'loadBias': bias, 'userDepth': depth,
               'pid': pid, 'event': event, 'fallbackReason': fallback, 'freqHz': freq, 'ringBytes': ring_pages * 4096}
        stacks = records.take()
        if final:
            # What one message cannot hold goes ahead of the result, in partials of its own.
            while records.counts:
                partial(dict(res, stacks=stacks, backlog=True))
                stacks = records.take()
            # Every sample is a record received, or counted as ringFull; any other gap is said too.
            res['unreceived'] = max(0, st['samples'] - st['ringFull'] - records.received)
        res['stacks'] = stacks
        return res

    res = run_until_done(b, pid, duration, snapshot, drain=b.ring_buffer_consume)
    res.update({'cpus': ncpu, 'textLo': text_lo, 'textHi': text_hi, 'attachMs': attach_ms, 'kernelStacks': want_kernel})
    return res
