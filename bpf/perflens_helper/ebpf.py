"""What the BCC subcommands (tracer, sched, syscalls, cpu_profile, allocs, blocking) share.

The TypeScript side decodes the binary and sends the probe addresses (virtual addresses in
/proc/PID/exe); the tools only load, attach, read and detach. Results: log2 histograms as
[{lo_ns, hi_ns, count}] (BCC's bpf_log2l slot s holds [2^(s-1), 2^s) ns), a `partial` each
second, the final snapshot as the result. A new tool: a module with @subcommand('name') that uses
Args, compile_bpf(resource('x.c'), cflags), check_addr(), on_cleanup(b.cleanup) and
run_until_done(); import it in main.py. A tool that counts stacks keeps its per-CPU `stats` and
its probe rate in a StackRecording and lists its counts map with stack_entries(). BCC is
imported only inside compile_bpf."""

import json
import os
import re
import struct
import sys
import time

from .exe import Elf, GoFuncTable, read_go_buildinfo
from .x86len import insn_starts
from .lifecycle import on_cleanup, proc_starttime
from .protocol import fail, partial, progress, check_abort, sleep_unless_stopped
from .resources import resource

NSLOTS = 64
NFINE = 512

_INCLUDE = re.compile(r'^#include "([A-Za-z0-9_]+\.h)"$', re.M)


def compile_bpf(text, cflags):
    """Compiles a BPF program, with clear errors for a missing BCC or kernel headers. Our own
    headers (#include "x.h") are spliced in from the resources: the target has no copy of bpf/."""
    text = _INCLUDE.sub(lambda m: resource(m.group(1)), text)
    hdr, why = kernel_headers()
    if why is not None:
        # Never let BCC fall back to unpacking /sys/kernel/kheaders.tar.xz into /tmp/kheaders-*:
        # a directory any local user could have prepared there.
        fail('headers-missing', 'the eBPF modes need the kernel headers, and %s' % why,
             'install them: sudo apt-get install linux-headers-$(uname -r) (Debian, Ubuntu), sudo dnf install kernel-devel (Fedora)')
    try:
        from bcc import BPF
    except ImportError:
        fail('bcc-missing', 'BCC\'s Python bindings are not importable by %s' % sys.executable,
             'install them (sudo apt-get install python3-bpfcc bpfcc-tools) and run the helper with the Python that imports bcc')
    before = _lower_priority()
    try:
        return BPF(text=text, cflags=list(cflags) + ['-Wno-macro-redefined'])
    except Exception as e:
        fail('unsupported', 'BCC could not compile or load the BPF program: %s' % str(e)[:300],
             'BCC needs the kernel headers (sudo apt-get install linux-headers-$(uname -r)) and root')
    finally:
        _restore_priority(before)


# BCC's compile takes seconds of a CPU. At the helper's priority it would compete with the program
# being profiled and, on a small machine, with the user's editor (measured: the extension host
# waited up to 86 ms for a CPU during it on a 2-CPU VM); at nice +10 it yields to both.
_COMPILE_NICE = 10


def _lower_priority():
    """Lowers this thread's priority (Linux: nice is per thread) for the compile; returns the one
    to restore, or None when it could not be changed."""
    try:
        before = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, 0, min(19, max(before, _COMPILE_NICE)))
        return before
    except OSError:
        return None


def _restore_priority(before):
    """Back to the priority before the compile, for reading the samples: root may raise it again;
    otherwise the rest runs at the lower one (a ring that fills is counted, never silent)."""
    if before is None:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, 0, before)
    except OSError:
        pass


def kernel_headers():
    """(path, None) when /lib/modules/RELEASE/build holds kernel headers owned by root and
    writable by nobody else; else (path, why not)."""
    path = '/lib/modules/%s/build' % os.uname().release
    real = os.path.realpath(path)
    if not os.path.isdir(os.path.join(real, 'include')):
        return path, '%s is missing' % path
    p = real
    while True:
        try:
            st = os.stat(p)
        except OSError as e:
            return path, 'cannot check %s: %s' % (p, e.strerror)
        if st.st_uid != 0 or st.st_mode & 0o022:
            return path, '%s is not owned by root or is writable by others' % p
        if p == '/':
            return path, None
        p = os.path.dirname(p)


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


BUILD_ID_RE = r'^[A-Za-z0-9_/=+-]{1,400}$'
RET_OPCODES = (0xC3, 0xC2)  # RET, RET imm16
MAX_FUNC_BYTES = 1 << 20  # the largest Go function whose instructions are decoded for a probe


class TargetExe(object):
    """The target's executable as the probes will see it (/proc/PID/exe): its executable segments,
    its function table and its code, so that every probe address is checked before it is attached:
    inside the function it names, where an instruction starts (decoded from the function's entry:
    a uprobe in the middle of an instruction would corrupt the target), a RET for a RET probe."""

    def __init__(self, link, f, elf):
        self.link, self.f, self.elf = link, f, elf
        self.segs = [(s['vaddr'], s['vaddr'] + s['filesz']) for s in elf.segments if s['type'] == 1 and s['flags'] & 1]
        self._funcs = None
        self._starts = {}

    def funcs(self):
        if self._funcs is None:
            try:
                self._funcs = GoFuncTable(self.elf)
            except (ValueError, struct.error) as e:
                fail('bad-probe', 'cannot read the function table of %s: %s' % (self.link, e))
        return self._funcs

    def check_entry(self, v, name, what):
        """An address inside the function called `name` (by the binary's own table); returns the
        function's (entry, end)."""
        check_addr(v, self.segs, what)
        hit = self.funcs().lookup(v)
        if hit is None:
            fail('bad-probe', '%s 0x%x is in no function of the binary\'s function table' % (what, v))
        if name is not None and hit[2] != name:
            fail('bad-probe', '%s 0x%x is in %s, not in %s' % (what, v, hit[2], name))
        self._check_insn_start(v, (hit[0], hit[1]), what)
        return hit[0], hit[1]

    def insn_starts(self, func):
        """The addresses where the instructions of func = (entry, end) start, decoded from its
        entry (a Go function holds no data between its instructions)."""
        if func not in self._starts:
            entry, end = func
            if end - entry > MAX_FUNC_BYTES:
                fail('bad-probe', 'the function at 0x%x is %d bytes long: too long to check its instructions' % (entry, end - entry))
            try:
                code = self.elf.read_vaddr(entry, end - entry)
                self._starts[func] = frozenset(entry + o for o in insn_starts(code))
            except ValueError as e:  # DecodeError, or the read budget spent
                fail('bad-probe', 'cannot decode the instructions of the function at 0x%x: %s' % (entry, e),
                     'the binary does not match what was decoded, or holds code this helper cannot read')
        return self._starts[func]

    def _check_insn_start(self, v, func, what):
        if v not in self.insn_starts(func):
            fail('bad-probe', '%s 0x%x is not where an instruction starts' % (what, v),
                 'the binary does not match what was decoded: try again, and report it if it persists')

    def check_ret(self, v, func, what):
        """A RET instruction (0xC3 or 0xC2) inside func = (entry, end)."""
        check_addr(v, self.segs, what)
        if not func[0] <= v < func[1]:
            fail('bad-probe', '%s 0x%x is outside its function [0x%x, 0x%x)' % (what, v, func[0], func[1]))
        self._check_insn_start(v, func, what)
        b = self.elf.read_vaddr(v, 1)
        if len(b) != 1 or b[0] not in RET_OPCODES:
            fail('bad-probe', '%s 0x%x is not a RET instruction (byte %s)' % (what, v, b.hex() or 'unreadable'),
                 'the binary does not match what was decoded: try again, and report it if it persists')

    def close(self):
        self.f.close()


def target_exe(args, pid):
    """The target's executable, matched by build id against the one the controller decoded (the
    goBuildId and/or gnuBuildId arguments: at least one; a same-size rebuild has another id)."""
    want_go = args.str('goBuildId', BUILD_ID_RE, default='') if args.has('goBuildId') else None
    want_gnu = args.str('gnuBuildId', r'^[0-9a-f]{2,128}$', default='') if args.has('gnuBuildId') else None
    if not want_go and not want_gnu:
        fail('bad-argument', '--goBuildId or --gnuBuildId (the build id of the binary that was decoded) is required')
    link = '/proc/%d/exe' % pid
    try:
        f = open(link, 'rb')
    except OSError as e:
        fail('pid-gone', 'cannot read the executable of PID %d: %s' % (pid, e.strerror))
    try:
        info = read_go_buildinfo(f)
        exe = TargetExe(link, f, Elf(f))
    except (OSError, ValueError, struct.error) as e:
        f.close()
        fail('pid-gone', 'cannot read the executable of PID %d: %s' % (pid, e))
    on_cleanup(exe.close)
    for what, want, have in (('Go', want_go, info.get('goBuildId')), ('GNU', want_gnu, info.get('gnuBuildId'))):
        if want and want != have:
            fail('binary-changed', 'the executable of PID %d has %s build id %s, not the %s that was decoded' % (pid, what, have, want),
                 'the binary changed (rebuilt, or the PID is another process now): try again')
    return exe


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


def _sleep_draining(seconds, drain):
    """sleep_unless_stopped, calling drain() every 50 ms meanwhile (when given)."""
    if drain is None:
        return sleep_unless_stopped(seconds)
    end = time.time() + seconds
    while True:
        drain()
        left = end - time.time()
        if left <= 0:
            return False
        if sleep_unless_stopped(min(0.05, left)):
            return True


def run_until_done(b, pid, duration, snapshot, over_budget=None, drain=None):
    """Streams a partial each second until the duration ends, a stop arrives or the target
    exits (or over_budget(), asked each second, names a reason to stop: endedBy 'budget'); then
    detaches and returns the final snapshot with how the run ended. drain(), when given, is
    called every 50 ms and once more after the detach (a ring buffer's reader)."""
    start = time.time()
    ended_by = 'duration'
    budget_reason = None
    while True:
        left = duration - (time.time() - start)
        if left <= 0:
            break
        if _sleep_draining(min(1.0, left), drain):
            check_abort()
            ended_by = 'stop'
            break
        if not alive(pid):
            ended_by = 'target-exited'
            break
        partial(snapshot(time.time() - start))
        budget_reason = over_budget() if over_budget else None
        if budget_reason:
            ended_by = 'budget'
            break
    elapsed = time.time() - start
    detach_all(b)
    if drain is not None:
        drain()
    res = snapshot(elapsed, True)
    res['endedBy'] = ended_by
    if budget_reason:
        res['budgetReason'] = budget_reason
    return res


def report_attached(t0, compiled, probes):
    now = time.time()
    progress('attached %d probe(s)' % probes, phase='attached', probes=probes,
             compileMs=round((compiled - t0) * 1000), attachMs=round((now - t0) * 1000))
    return round((now - t0) * 1000)




def _exec_mappings(pid, exe_ino):
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


def load_bias(pid, exe):
    """runtime address - link-time address of the executable's code (0 unless PIE)."""
    try:
        ino = os.stat(exe).st_ino
        with open(exe, 'rb') as f:
            segs = [s for s in Elf(f).segments if s['type'] == 1 and s['flags'] & 1]
    except (OSError, ValueError, struct.error) as e:
        fail('pid-gone', 'cannot read the executable of PID %d: %s' % (pid, e))
    for lo, _hi, pgoff in _exec_mappings(pid, ino):
        for s in segs:
            if s['off'] - s['off'] % 4096 <= pgoff < s['off'] + s['filesz']:
                return (lo - pgoff) - (s['vaddr'] - s['off'])
    fail('unsupported', 'PID %d has no executable mapping of its own binary' % pid)


class StackRecording(object):
    """The running state of a tool that counts stacks (cpu_profile, allocs, blocking): its per-CPU
    `stats` array summed by name, and, once a second (tick), how many times its probes fired —
    per interval (`counts`) and per second of wall time (`rates`) — against an optional budget
    of hits per second. `hits(stats)` says which stats are probe hits."""

    def __init__(self, b, names, hits, max_hits_per_sec=None):
        self._table, self._names, self._hits = b['stats'], names, hits
        self.max_hits_per_sec = max_hits_per_sec
        self.counts, self.rates = [], []
        self._last, self._t = 0, time.time()

    def stats(self):
        return dict((name, int(sum(self._table[self._table.Key(i)]))) for i, name in enumerate(self._names))

    def tick(self):
        """Reads the stats and notes the hits since the last tick; returns the stats."""
        st = self.stats()
        hits, now = self._hits(st), time.time()
        self.counts.append(hits - self._last)
        self.rates.append(int((hits - self._last) / max(now - self._t, 1e-3)))
        self._last, self._t = hits, now
        return st

    def over_budget(self):
        """For run_until_done: why to stop (the last second's rate above the budget), or None."""
        rate = self.rates[-1] if self.rates else 0
        if self.max_hits_per_sec is not None and rate > self.max_hits_per_sec:
            return ('the probes fired %d times in the last second, above the budget of %d/s: stopped early so as not to slow the program'
                    % (rate, self.max_hits_per_sec))
        return None


def stack_entries(counts, stacks, entry):
    """The counts map of a stack-counting tool as a list: entry(key, value) gives (dict, weight)
    for each key; the key's user stack (key.ustack) is walked into its 'user' addresses, or its
    get_stackid error kept as 'userStackError' ('user' stays as entry left it, else []). Returns
    (entries, total weight of keys whose stack was evicted from the stack map meanwhile)."""
    out, walk_failed = [], 0
    for k, v in counts.items():
        e, weight = entry(k, v)
        if k.ustack >= 0:
            try:
                e['user'] = [int(a) for a in stacks.walk(k.ustack)]
            except KeyError:
                walk_failed += weight
                e['user'] = []
        else:
            e.setdefault('user', [])
            e['userStackError'] = int(k.ustack)
        out.append(e)
    return out, walk_failed
