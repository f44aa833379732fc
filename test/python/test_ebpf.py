import os
import unittest

from perflens_helper import ebpf
from perflens_helper.protocol import HelperError


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
