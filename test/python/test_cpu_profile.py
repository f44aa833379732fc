import ctypes
import struct
import unittest

from perflens_helper import cpu_profile


def _record(records, ulen_frames, base, spword=0, ip=0x401000):
    """Feeds one ring record (struct sample_t: header, then the user frames) to records.on_record."""
    frames = [base + i for i in range(ulen_frames)]
    raw = cpu_profile._P_HEADER.pack(spword, ip, 8 * ulen_frames, -1) + struct.pack('<%dQ' % len(frames), *frames)
    buf = ctypes.create_string_buffer(raw, len(raw))
    records.on_record(None, ctypes.addressof(buf), len(raw))
    return frames


class RecordsTest(unittest.TestCase):
    def test_take_hands_over_each_record_once_in_the_order_first_seen(self):
        r = cpu_profile._Records(8, False)
        a = _record(r, 3, 0x401000)
        b = _record(r, 2, 0x402000, spword=0x403000)
        _record(r, 3, 0x401000)
        first = r.take()
        self.assertEqual(first, [{'count': 2, 'user': a}, {'count': 1, 'user': b, 'spWord': 0x403000}])
        self.assertEqual(r.take(), [])
        _record(r, 3, 0x401000)
        self.assertEqual(r.take(), [{'count': 1, 'user': a}])
        self.assertEqual(r.received, 4)

    def test_take_is_bounded_and_keeps_the_rest_for_the_next_take(self):
        r = cpu_profile._Records(64, False)
        for i in range(100):
            _record(r, 50, 0x400000 + 0x1000 * i)
        # A key of 24 + 400 bytes costs 3 * 424 + 64 bytes: about 6 fit in 8 KB.
        seen = []
        while r.counts:
            batch = r.take(8192)
            self.assertTrue(0 < len(batch) <= 8192 // (3 * 424 + 64))
            self.assertLessEqual(sum(len(str(e)) for e in batch), 8192)
            seen += batch
        self.assertEqual([e['user'][0] for e in seen], [0x400000 + 0x1000 * i for i in range(100)])
        self.assertEqual(sum(e['count'] for e in seen), 100)

    def test_a_record_larger_than_the_bound_still_goes_alone(self):
        r = cpu_profile._Records(64, False)
        _record(r, 60, 0x400000)
        self.assertEqual(len(r.take(100)), 1)
        self.assertEqual(r.counts, {})

    def test_a_failed_user_stack_keeps_the_ip_and_the_error(self):
        r = cpu_profile._Records(8, False)
        raw = cpu_profile._P_HEADER.pack(0, 0x401234, -14, -1)
        buf = ctypes.create_string_buffer(raw, len(raw))
        r.on_record(None, ctypes.addressof(buf), len(raw))
        self.assertEqual(r.take(), [{'count': 1, 'user': [0x401234], 'userStackError': -14}])


if __name__ == '__main__':
    unittest.main()
