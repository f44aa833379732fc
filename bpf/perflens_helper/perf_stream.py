"""Streaming perf.data while perf records (`record` with `stream`): perf writes pipe-mode
perf.data (`-o -`) to our pipe; PipeStream drains it into a spool file and forwards it as the
chunks of a file message, and PerfRecordCounter counts its records as they go by."""

import base64
import hashlib
import os
import struct
import threading
import time

from .lifecycle import private_dir
from .protocol import Aborted, aborting, check_abort, emit, fail

PIPE_HEADER_SIZE = 16  # pipe mode's whole file header: magic + its own size
STREAM_CHUNK = 256 * 1024
# How often perf is pinged to write out its ring buffers while streaming. Without it, perf writes
# only when a buffer is half full (256 KiB a CPU by default): at 999 Hz that is seconds apart,
# often not before the end.
STREAM_FLUSH_SEC = 0.25
# Records whose payload follows them beyond header.size; the counter cannot step over them.
_PERF_RECORD_HEADER_TRACING_DATA = 66
_PERF_RECORD_AUXTRACE = 71
_PERF_RECORD_SAMPLE = 9
_PERF_RECORD_LOST = 2  # {header, u64 id, u64 lost, ...}: the ring buffer overflowed
_PERF_RECORD_LOST_SAMPLES = 13  # {header, u64 lost, ...}


class PerfRecordCounter(object):
    """Counts a pipe-mode perf.data's records by type, and the samples its LOST records report, as
    its bytes go by (a 16-byte header, then records of {u32 type, u16 misc, u16 size, ...}). Gives
    up (valid False) on anything it cannot follow; the counts are then unknown."""

    def __init__(self):
        self.valid = True
        self.header_seen = False
        self.counts = {}
        self.lost = {_PERF_RECORD_LOST: 0, _PERF_RECORD_LOST_SAMPLES: 0}
        self._buf = b''

    def feed(self, b):
        if not self.valid:
            return
        data = self._buf + b if self._buf else b
        i = 0
        if not self.header_seen:
            if len(data) < PIPE_HEADER_SIZE:
                self._buf = data
                return
            magic, size = struct.unpack_from('<8sQ', data, 0)
            if magic != b'PERFILE2' or size != PIPE_HEADER_SIZE:
                self.valid = False
                return
            self.header_seen = True
            i = PIPE_HEADER_SIZE
        n = len(data)
        counts = self.counts
        while n - i >= 8:
            type_, _misc, size = struct.unpack_from('<IHH', data, i)
            if size < 8 or type_ in (_PERF_RECORD_HEADER_TRACING_DATA, _PERF_RECORD_AUXTRACE):
                self.valid = False
                self._buf = b''
                return
            if n - i < size:
                break
            counts[type_] = counts.get(type_, 0) + 1
            if type_ == _PERF_RECORD_LOST and size >= 24:
                self.lost[type_] += struct.unpack_from('<Q', data, i + 16)[0]
            elif type_ == _PERF_RECORD_LOST_SAMPLES and size >= 16:
                self.lost[type_] += struct.unpack_from('<Q', data, i + 8)[0]
            i += size
        self._buf = data[i:]

    def samples(self):
        """PERF_RECORD_SAMPLEs seen, or None when unknown."""
        return self.counts.get(_PERF_RECORD_SAMPLE, 0) if self.valid and self.header_seen else None

    def lost_samples(self):
        """Samples lost, None when unknown. The kernel's LOST records (ring buffer overflows) and
        the LOST_SAMPLES records recent perfs add at the end (from the events' own lost counts)
        tell of the same losses: the larger of the two sums, not their total."""
        return max(self.lost.values()) if self.valid and self.header_seen else None


class PipeStream(object):
    """Forwards a child's stdout while the child runs, as the chunks of file `name`.

    A reader thread drains the pipe as fast as the child writes, into a spool file in the private
    dir (so the child never waits on the controller's link: perf blocked on a full pipe would stop
    draining its ring buffers and lose samples). A sender thread emits what the spool has gained
    as `chunk` messages (up to STREAM_CHUNK bytes each, whatever has arrived: never holding data
    back), after announcing the file with `file` (size null) on the first bytes. finish() waits
    for the pipe's EOF and for everything to be sent; abandon() stops sending (error paths)."""

    def __init__(self, pipe, spool_path, name):
        self.name = name
        self.cond = threading.Condition()
        self.received = 0
        self.sent = 0
        self.eof = False
        self.announced = False
        self.abandoned = False
        self.first_chunk_at = None
        self.hash = hashlib.sha256()
        self.counter = PerfRecordCounter()
        self.read_error = None
        self.send_error = None
        self._pipe = pipe
        self._spool_w = open(spool_path, 'wb', buffering=0)
        self._spool_r = open(spool_path, 'rb', buffering=0)
        self._reader = threading.Thread(target=self._read, name='stream-read', daemon=True)
        self._sender = threading.Thread(target=self._send, name='stream-send', daemon=True)
        self._reader.start()
        self._sender.start()

    def _read(self):
        fd = self._pipe.fileno()
        try:
            while True:
                try:
                    b = os.read(fd, STREAM_CHUNK)
                except InterruptedError:
                    continue
                except OSError as e:
                    self.read_error = self.read_error or e
                    return
                if not b:
                    return
                if self.read_error is None:
                    try:
                        view = memoryview(b)
                        while view:
                            view = view[self._spool_w.write(view):]
                    except Exception as e:  # disk full...: keep draining, report at the end
                        self.read_error = e
                        continue
                self.counter.feed(b)
                with self.cond:
                    self.received += len(b)
                    self.cond.notify_all()
        finally:
            try:
                self._spool_w.close()
            except Exception:
                pass
            with self.cond:
                self.eof = True
                self.cond.notify_all()

    def _send(self):
        try:
            while True:
                with self.cond:
                    while (self.received == self.sent and not self.eof and not self.abandoned
                           and not aborting()):
                        self.cond.wait(0.5)
                    avail = self.received - self.sent
                    if self.abandoned or aborting() or (avail == 0 and self.eof):
                        return
                if self.read_error is not None:
                    return  # the spool is incomplete: finish() reports it
                block = self._spool_r.read(min(avail, STREAM_CHUNK))
                if not block:
                    raise IOError('the spool file ended early')
                if not self.announced:
                    emit('file', name=self.name, size=None)
                    self.announced = True
                self.hash.update(block)
                self.sent += len(block)
                emit('chunk', name=self.name, data=base64.b64encode(block).decode('ascii'))
                if self.first_chunk_at is None:
                    self.first_chunk_at = time.time()
        except Aborted:
            pass
        except Exception as e:
            self.send_error = e
        finally:
            try:
                self._spool_r.close()
            except Exception:
                pass

    def finish(self, eof_timeout=15.0):
        """After the child exited: waits for the pipe's EOF and for the sender to send everything
        read. Returns (size, sha256 hex); the caller emits file-end (after judging the data)."""
        self._reader.join(eof_timeout)
        if self._reader.is_alive():
            # Something else holds the pipe's write end (perf's children?): the file would never end.
            self.abandon()
            fail('perf-failed', 'perf exited but its output did not end within %d s' % eof_timeout)
        self._sender.join()
        check_abort()
        if self.read_error is not None:
            fail('io-error', 'cannot keep perf\'s output in %s: %s' % (private_dir(), self.read_error))
        if self.send_error is not None:
            raise self.send_error
        return self.sent, self.hash.hexdigest()

    def abandon(self):
        """Sends nothing more (the subcommand failed: its error must be the last message)."""
        with self.cond:
            self.abandoned = True
            self.cond.notify_all()
        self._sender.join(5.0)
