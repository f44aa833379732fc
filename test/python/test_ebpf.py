import os
import sys
import types
import unittest

from perflens_helper import ebpf
from perflens_helper.protocol import HelperError
from support import needs_root


def fine_slot(v):
    """fine_histogram.h's fine_slot, in Python (bpf_log2l(v) - 1 is the index of the top bit)."""
    if v < 8:
        return v
    e = v.bit_length() - 1
    m = (v >> (e - 3)) & 7
    return min(8 + 8 * (e - 3) + m, ebpf.NFINE - 1)


class EbpfSharedTest(unittest.TestCase):
    def test_log2_buckets(self):
        counts = [0] * ebpf.NSLOTS
        counts[0], counts[1], counts[11] = 2, 3, 5
        self.assertEqual(ebpf.log2_buckets(counts), [
            {'lo_ns': 0, 'hi_ns': 1, 'count': 2}, {'lo_ns': 1, 'hi_ns': 2, 'count': 3},
            {'lo_ns': 1024, 'hi_ns': 2048, 'count': 5}])

    def test_fine_buckets_hold_the_values_the_bpf_side_put_in_them(self):
        values = [0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 12345, 10 ** 6, 987654321, 2 ** 40 + 5]
        counts = [0] * ebpf.NFINE
        for v in values:
            counts[fine_slot(v)] += 1
        ranges = ebpf.fine_buckets(counts)
        self.assertEqual(sum(c for _, _, c in ranges), len(values))
        for v in values:
            self.assertTrue(any(lo <= v < hi for lo, hi, _ in ranges), v)
        for (lo, hi, _), (lo2, _, _) in zip(ranges, ranges[1:]):
            self.assertLess(lo, hi)
            self.assertLessEqual(hi, lo2)

    def test_check_addr(self):
        segs = [(0x401000, 0x480000)]
        self.assertEqual(ebpf.check_addr(0x401234, segs, 'entry'), 0x401234)
        for bad in (0, -1, True, '0x401234', 0x480000, 0x10):
            with self.assertRaises(HelperError) as cm:
                ebpf.check_addr(bad, segs, 'entry')
            self.assertEqual(cm.exception.code, 'bad-argument')

    def test_alive(self):
        self.assertTrue(ebpf.alive(os.getpid()))
        self.assertFalse(ebpf.alive(4194304))


class _FakeStats(object):
    """A BCC per-CPU array as StackRecording reads it: table[table.Key(i)] is one value per CPU."""

    class Key(object):
        def __init__(self, i):
            self.value = i

    def __init__(self, n):
        self.cpus = [[0] * n, [0] * n]

    def __getitem__(self, key):
        return [cpu[key.value] for cpu in self.cpus]


class _Key(object):
    def __init__(self, ustack):
        self.ustack = ustack


class _Val(object):
    def __init__(self, value):
        self.value = value


class _FakeStacks(object):
    def __init__(self, stacks):
        self.stacks = stacks

    def walk(self, stack_id):
        return iter(self.stacks[stack_id])  # KeyError when evicted, as BCC's walk


class StackRecordingTest(unittest.TestCase):
    def test_stats_are_summed_over_cpus_and_the_rate_is_held_to_the_budget(self):
        table = _FakeStats(2)
        rec = ebpf.StackRecording({'stats': table}, ('samples', 'errors'), lambda st: st['samples'], 1000)
        table.cpus[0][0], table.cpus[1][0], table.cpus[1][1] = 30, 20, 4
        self.assertEqual(rec.tick(), {'samples': 50, 'errors': 4})
        self.assertEqual(rec.counts, [50])
        self.assertGreater(rec.rates[-1], 0)
        rec.rates[-1] = 999  # ticks come a second apart; the rate is per second of wall time
        self.assertIsNone(rec.over_budget())
        rec.rates[-1] = 1001
        self.assertEqual(rec.over_budget(), 'the probes fired 1001 times in the last second, above the budget of 1000/s: '
                         'stopped early so as not to slow the program')
        table.cpus[0][0] += 7
        rec.tick()
        self.assertEqual(rec.counts, [50, 7])
        self.assertIsNone(ebpf.StackRecording({'stats': table}, ('samples',), lambda st: 10 ** 9).over_budget())

    def test_stack_entries_walk_user_stacks_and_count_what_was_evicted(self):
        counts = {_Key(1): _Val(5), _Key(2): _Val(3), _Key(-14): _Val(2)}

        class Items(dict):
            def items(self):
                return list(dict.items(self))

        out, walk_failed = ebpf.stack_entries(Items(counts), _FakeStacks({1: [0x401000, 0x402000]}),
                                              lambda k, v: ({'count': v.value}, v.value))
        self.assertEqual(out, [{'count': 5, 'user': [0x401000, 0x402000]}, {'count': 3, 'user': []},
                               {'count': 2, 'user': [], 'userStackError': -14}])
        self.assertEqual(walk_failed, 3)


class CompilePriorityTest(unittest.TestCase):
    """BCC's compile (seconds of a CPU) runs at nice +10, so that the program being profiled and the
    user's editor come first; the priority is restored for reading the samples, after a failed
    compile too. A stand-in for bcc.BPF records the priority it was constructed at."""

    def setUp(self):
        needs_root(self)  # raising the priority back needs CAP_SYS_NICE
        self.seen = []
        outer = self

        class FakeBPF(object):
            def __init__(self, text, cflags):
                outer.seen.append(os.getpriority(os.PRIO_PROCESS, 0))
                if 'broken' in text:
                    raise Exception('error: expected expression')

        saved_bcc, saved_headers = sys.modules.get('bcc'), ebpf.kernel_headers
        sys.modules['bcc'] = types.SimpleNamespace(BPF=FakeBPF)
        ebpf.kernel_headers = lambda: ('/lib/modules/x/build', None)
        self.before = os.getpriority(os.PRIO_PROCESS, 0)

        def restore():
            ebpf.kernel_headers = saved_headers
            if saved_bcc is None:
                sys.modules.pop('bcc', None)
            else:
                sys.modules['bcc'] = saved_bcc
            os.setpriority(os.PRIO_PROCESS, 0, self.before)
        self.addCleanup(restore)

    def test_the_compile_runs_at_nice_10_and_the_priority_is_restored_root(self):
        ebpf.compile_bpf('int x;', [])
        self.assertEqual(self.seen, [max(self.before, 10)])
        self.assertEqual(os.getpriority(os.PRIO_PROCESS, 0), self.before)

    def test_a_failed_compile_restores_the_priority_too_root(self):
        with self.assertRaises(HelperError) as cm:
            ebpf.compile_bpf('broken', [])
        self.assertEqual(cm.exception.code, 'unsupported')
        self.assertEqual(self.seen, [max(self.before, 10)])
        self.assertEqual(os.getpriority(os.PRIO_PROCESS, 0), self.before)
