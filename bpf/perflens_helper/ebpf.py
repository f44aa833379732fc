"""What the BCC subcommands (tracer, sched, syscalls, cpu_profile) share.

The TypeScript side decodes the binary and sends the probe addresses (virtual addresses in
/proc/PID/exe); the tools only load, attach, read and detach. Results: log2 histograms as
[{lo_ns, hi_ns, count}] (BCC's bpf_log2l slot s holds [2^(s-1), 2^s) ns), a `partial` each
second, the final snapshot as the result. A new tool: a module with @subcommand('name') that uses
Args, compile_bpf(resource('x.c'), cflags), check_addr(), on_cleanup(b.cleanup) and
run_until_done(); import it in main.py. BCC is imported only inside compile_bpf."""

import json
import os
import re
import struct
import sys
import time

from .exe import Elf
from .lifecycle import proc_starttime
from .protocol import fail, partial, progress, check_abort, sleep_unless_stopped
from .resources import resource

NSLOTS = 64
NFINE = 512



_INCLUDE = re.compile(r'^#include "([A-Za-z0-9_]+\.h)"$', re.M)


def compile_bpf(text, cflags):
    """Compiles a BPF program, with clear errors for a missing BCC or kernel headers. Our own
    headers (#include "x.h") are spliced in from the resources: the target has no copy of bpf/."""
    text = _INCLUDE.sub(lambda m: resource(m.group(1)), text)
    try:
        from bcc import BPF
    except ImportError:
        fail('bcc-missing', 'BCC\'s Python bindings are not importable by %s' % sys.executable,
             'install them (sudo apt-get install python3-bpfcc bpfcc-tools) and run the helper with the Python that imports bcc')
    try:
        return BPF(text=text, cflags=list(cflags) + ['-Wno-macro-redefined'])
    except Exception as e:
        fail('unsupported', 'BCC could not compile or load the BPF program: %s' % str(e)[:300],
             'BCC needs the kernel headers (sudo apt-get install linux-headers-$(uname -r)) and root')


def log2_buckets(counts):
    out = []
    for s, c in enumerate(counts):
        if c:
            out.append({'lo_ns': 0 if s == 0 else 1 << (s - 1), 'hi_ns': 1 << s, 'count': int(c)})
    return out


def fine_buckets(counts):
    """The fine histogram (8 sub-buckets per power of two, see fine_slot in fine_histogram.h) as
    sparse [[lo_ns, hi_ns, count], ...] for percentiles."""
    out = []
    for s, c in enumerate(counts):
        if not c:
            continue
        if s < 8:
            out.append([s, s + 1, int(c)])
        else:
            e, m = 3 + (s - 8) // 8, (s - 8) % 8
            out.append([(8 + m) << (e - 3), (9 + m) << (e - 3), int(c)])
    return out


def target_exe(args, pid):
    """The target's executable, checked against what the controller decoded (its size), and its
    executable load segments, so every probe address can be checked before it is attached: a
    uprobe in the middle of an instruction would corrupt the target."""
    link = '/proc/%d/exe' % pid
    try:
        st = os.stat(link)
        with open(link, 'rb') as f:
            segs = [(s['vaddr'], s['vaddr'] + s['filesz']) for s in Elf(f).segments if s['type'] == 1 and s['flags'] & 1]
    except (OSError, ValueError, struct.error) as e:
        fail('pid-gone', 'cannot read the executable of PID %d: %s' % (pid, e))
    size = args.int('exeSize', 0, 1 << 40, default=0)
    if size and size != st.st_size:
        fail('bad-argument', 'the executable of PID %d is %d bytes, not the %d bytes that were decoded' % (pid, st.st_size, size),
             'the binary changed (rebuilt or another process): try again')
    return link, segs


def check_addr(v, segs, what):
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        fail('bad-argument', '%s must be a positive address, got %s' % (what, json.dumps(v)[:40]))
    if not any(lo <= v < hi for lo, hi in segs):
        fail('bad-argument', '%s 0x%x is not in an executable segment of the target' % (what, v))
    return v


def duration_arg(args):
    return args.int('duration', 1, 86400, what=' seconds')


def alive(pid):
    state, _ = proc_starttime(pid)
    return state not in (None, 'Z', 'X')


def detach_all(b):
    """Detaches every probe but keeps the maps, so the final snapshot is one consistent state
    (counts, sums and histograms read while probes fire can disagree by a few events)."""
    for ev in list(b.uprobe_fds.keys()):
        try:
            b.detach_uprobe_event(ev)
        except Exception:
            pass
    for tp in list(b.tracepoint_fds.keys()):
        try:
            b.detach_tracepoint(tp)
        except Exception:
            pass
    for ev in list(getattr(b, 'open_perf_events', {}).keys()):  # the `profile` sampler's events
        try:
            b.detach_perf_event(*ev)
        except Exception:
            pass
    time.sleep(0.01)  # let programs already running on other CPUs finish


def run_until_done(b, pid, duration, snapshot):
    """Streams a partial each second until the duration ends, a stop arrives or the target
    exits; then detaches and returns the final snapshot with how the run ended."""
    start = time.time()
    ended_by = 'duration'
    while True:
        left = duration - (time.time() - start)
        if left <= 0:
            break
        if sleep_unless_stopped(min(1.0, left)):
            check_abort()
            ended_by = 'stop'
            break
        if not alive(pid):
            ended_by = 'target-exited'
            break
        partial(snapshot(time.time() - start))
    elapsed = time.time() - start
    detach_all(b)
    res = snapshot(elapsed, True)
    res['endedBy'] = ended_by
    return res


def report_attached(t0, compiled, probes):
    now = time.time()
    progress('attached %d probe(s)' % probes, phase='attached', probes=probes,
             compileMs=round((compiled - t0) * 1000), attachMs=round((now - t0) * 1000))
    return round((now - t0) * 1000)


