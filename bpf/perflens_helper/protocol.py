"""The protocol on stdout: one JSON object per line (hello, progress, partial, warning, file /
chunk / file-end, result, error {code, message, hint}); nothing else is ever written to stdout.
Also the stop state shared by every module: a graceful stop ({"cmd":"stop"} on stdin) or an
abort (EOF on stdin, a signal).

`file` carries the size when it is known up front, or null for a file sent while it is being
made; `file-end` always has the size and the sha256. Other messages may come between chunks."""

import base64
import hashlib
import json
import os
import sys
import threading


def _load_error_codes():
    from . import resources
    return tuple(json.loads(resources.read('error_codes.json')))


# The stable error codes. error_codes.json is their one source: src/capture/helperProtocol.ts
# imports the same file.
ERROR_CODES = _load_error_codes()


class HelperError(Exception):
    """An error for the controller: a stable code, a human message and an optional hint."""

    def __init__(self, code, message, hint=None):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.hint = hint


class Aborted(Exception):
    """The controller went away or a signal arrived: stop quietly, clean up."""


_out_lock = threading.Lock()
_out = None  # binary stdout, set in setup_stdout()


def setup_stdout():
    global _out
    # Keep our own handle on fd 1 and point sys.stdout at stderr, so a stray print() (ours or a
    # library's) can never corrupt the protocol stream.
    _out = os.fdopen(os.dup(1), 'wb', buffering=0)
    sys.stdout = sys.stderr


def emit(type_, **fields):
    """Writes one protocol message. A closed stdout means the controller is gone."""
    fields['type'] = type_
    line = (json.dumps(fields, separators=(',', ':'), ensure_ascii=False) + '\n').encode('utf-8')
    with _out_lock:
        try:
            _out.write(line)
        except (BrokenPipeError, OSError):
            request_stop('eof')
            raise Aborted()


def fail(code, message, hint=None):
    if code not in ERROR_CODES:
        raise ValueError("error code %r is not in error_codes.json" % code)
    raise HelperError(code, message, hint)


def warn(message):
    emit('warning', message=message)


def progress(message, **fields):
    emit('progress', message=message, **fields)


def partial(data):
    """Per-interval results (E's tracers use it once a second)."""
    emit('partial', data=data)


STOP = threading.Event()
_stop_reason = [None]


def request_stop(reason):
    """reason: 'stop' (graceful: finish and report), 'eof' or 'signal' (abort: clean up, exit)."""
    if _stop_reason[0] is None or reason != 'stop':
        _stop_reason[0] = reason
    STOP.set()


def stop_requested():
    return STOP.is_set()


def aborting():
    return STOP.is_set() and _stop_reason[0] in ('eof', 'signal')


def check_abort():
    if aborting():
        raise Aborted()


def sleep_unless_stopped(seconds):
    """Sleeps; returns True early when a stop was requested."""
    return STOP.wait(seconds)



def stop_reason():
    """None, or the reason of the last stop request ('stop', 'eof', 'signal')."""
    return _stop_reason[0]


def stream_file(path, name, chunk_size=256 * 1024):
    """Streams a file as file / chunk... / file-end (base64), never holding it whole in memory.
    Returns (size, sha256 hex). Accepts a path or an open binary file object."""
    f = open(path, 'rb') if isinstance(path, str) else path
    try:
        size = os.fstat(f.fileno()).st_size
        emit('file', name=name, size=size)
        h = hashlib.sha256()
        sent = 0
        while True:
            check_abort()
            block = f.read(chunk_size)
            if not block:
                break
            h.update(block)
            sent += len(block)
            emit('chunk', name=name, data=base64.b64encode(block).decode('ascii'))
        digest = h.hexdigest()
        emit('file-end', name=name, size=sent, sha256=digest)
        return sent, digest
    finally:
        if isinstance(path, str):
            f.close()
