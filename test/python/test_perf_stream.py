import struct
import unittest

from perflens_helper.perf_stream import PIPE_HEADER_SIZE, PerfRecordCounter

SAMPLE, LOST, LOST_SAMPLES, COMM = 9, 2, 13, 3


def record(type_, payload):
    return struct.pack('<IHH', type_, 0, 8 + len(payload)) + payload


def pipe_file(records):
    return struct.pack('<8sQ', b'PERFILE2', PIPE_HEADER_SIZE) + b''.join(records)


class PerfRecordCounterTest(unittest.TestCase):
    def build(self):
        recs = []
        for i in range(1000):
            recs.append(record(SAMPLE, struct.pack('<QQ', i, i * 3) + b'\0' * (i % 5) * 8))
            if i % 100 == 0:
                recs.append(record(COMM, b'go\0\0\0\0\0\0'))
        recs.append(record(LOST, struct.pack('<QQ', 7, 40)))
        recs.append(record(LOST, struct.pack('<QQ', 7, 2)))
        recs.append(record(LOST_SAMPLES, struct.pack('<Q', 30)))
        return pipe_file(recs)

    def test_counts_samples_and_lost_fed_whole_or_in_odd_pieces(self):
        data = self.build()
        for step in (len(data), 1, 7, 4093):
            c = PerfRecordCounter()
            for i in range(0, len(data), step):
                c.feed(data[i:i + step])
            self.assertTrue(c.valid)
            self.assertEqual(c.samples(), 1000, step)
            self.assertEqual(c.counts[COMM], 10)
            # LOST records say 42, LOST_SAMPLES 30: the same losses told twice, the larger wins.
            self.assertEqual(c.lost_samples(), 42)

    def test_gives_up_on_what_it_cannot_follow(self):
        c = PerfRecordCounter()
        c.feed(b'PERFILE3' + struct.pack('<Q', 16))
        self.assertFalse(c.valid)
        self.assertIsNone(c.samples())
        c = PerfRecordCounter()
        c.feed(pipe_file([struct.pack('<IHH', SAMPLE, 0, 4)]))  # a record smaller than its header
        self.assertIsNone(c.samples())
        c = PerfRecordCounter()
        c.feed(b'PERF')
        self.assertIsNone(c.samples())  # header not seen yet: unknown, not zero
