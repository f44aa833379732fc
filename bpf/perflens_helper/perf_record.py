"""`record`: perf record on one process, its clock started when perf really samples (through
perf's control FIFO where perf has one), perf.data sent at the end or while it is recorded."""

import os
import re
import signal
import subprocess
import time

from .exe import go_info_for_pid
from .lifecycle import private_dir, proc_starttime, on_cleanup, run_quiet, spawn, stop_process
from .perf_stream import PIPE_HEADER_SIZE, STREAM_FLUSH_SEC, PipeStream
from .perf_tools import NO_PMU_REASON, find_perf, last_lines, perf_event_status
from .protocol import aborting, check_abort, emit, fail, progress, sleep_unless_stopped, stop_requested, stream_file
from .registry import subcommand

_CAPTURED_RE = re.compile(r'Captured and wrote ([0-9.]+) MB .*?(?:\((\d+) samples\))?\s*\]')
_LOST_RE = re.compile(r'(?:Processed \d+ events and lost (\d+) chunks|lost (\d+) samples|(\d+) lost samples)', re.I)

# How long perf may take to attach before the recording fails (a loaded machine can need seconds:
# perf reads the target's maps and threads before it samples).
PERF_START_TIMEOUT = 60.0


_record_help = {}


def perf_record_help(perf):
    """`perf record -h` (its option list), asked once per perf."""
    if perf not in _record_help:
        _rc, out, err = run_quiet([perf, 'record', '-h'])
        _record_help[perf] = out + err
    return _record_help[perf]


def perf_has_control(perf):
    """True when this perf can start with its events disabled (-D -1) and enable them on a
    `--control fifo:CTL,ACK` command with an ack (recent perfs: 6.1 has both)."""
    text = perf_record_help(perf)
    return 'fifo:ctl-fifo' in text and re.search(r'-D, --delay.*-1', text) is not None


def _perf_events_open(perf_pid):
    """Whether perf holds perf_event file descriptors (it has opened the events on the target)."""
    try:
        fds = os.listdir('/proc/%d/fd' % perf_pid)
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink('/proc/%d/fd/%s' % (perf_pid, fd)) == 'anon_inode:[perf_event]':
                return True
        except OSError:
            pass
    return False


class _PerfControl(object):
    """perf's --control FIFOs, both opened read-write here so that neither open waits for perf; a
    command waits in the FIFO until perf reads it (from its main loop, after attaching)."""

    def __init__(self, d):
        self.ctl_path, self.ack_path = os.path.join(d, 'perf.ctl'), os.path.join(d, 'perf.ack')
        os.mkfifo(self.ctl_path, 0o600)
        os.mkfifo(self.ack_path, 0o600)
        self.ctl = os.open(self.ctl_path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        on_cleanup(lambda: os.close(self.ctl))
        self.ack = os.open(self.ack_path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        on_cleanup(lambda: os.close(self.ack))
        self.buf = b''
        self.pending = 0  # commands sent and not yet acked (perf acks each one, in order)

    def argv(self):
        return ['-D', '-1', '--control', 'fifo:%s,%s' % (self.ctl_path, self.ack_path)]

    def send(self, cmd):
        os.write(self.ctl, cmd.encode('ascii') + b'\n')
        self.pending += 1

    def acked(self):
        """True once perf has acked every command sent so far (it writes "ack\\n\\0" for each)."""
        while True:
            try:
                got = os.read(self.ack, 4096)
            except BlockingIOError:
                break
            if not got:
                break
            self.buf += got
        while b'ack' in self.buf:
            self.buf = self.buf.split(b'ack', 1)[1].lstrip(b'\n\0')
            self.pending -= 1
        return self.pending <= 0

    def ping(self):
        """Makes perf wake up: every command makes its main loop read all of its ring buffers and
        write out what they hold, which is what streaming needs. At most one ping is in flight, so
        the FIFOs never fill even if perf stops reading them."""
        if self.acked():
            self.send('ping')


def _wait_perf_ready(proc, ready, timeout, pid, err_path):
    """Polls ready() until it holds: 'ready'; or 'stop' (a stop was requested) or 'perf-exited'.
    After `timeout` seconds: perf-failed (cleanup then stops perf)."""
    deadline = time.time() + timeout
    while True:
        if ready():
            return 'ready'
        if stop_requested():
            return 'stop'
        if proc.poll() is not None:
            return 'perf-exited'
        if time.time() >= deadline:
            with open(err_path, 'rb') as f:
                perf_err = f.read().decode('utf-8', 'replace')
            fail('perf-failed', 'perf did not start recording PID %d within %d s: %s'
                 % (pid, timeout, last_lines(perf_err)),
                 'the machine may be overloaded: try again, or try `perf record -p %d` by hand' % pid)
        sleep_unless_stopped(0.05)


@subcommand('record')
def cmd_record(args):
    pid = args.pid(require_go=not args.bool('allowNonGo', False))
    duration = args.int('duration', 1, 3600, what=' seconds')
    freq = args.int('freq', 1, 20000, default=999, what=' Hz')
    requested = args.choice('event', ('auto', 'cycles', 'cpu-clock'), default='auto')
    # How the duration's clock finds perf ready: 'auto' uses perf's control FIFO where perf has
    # it; 'events-open' forces the fallback for perfs without it (the tests exercise it so).
    sync = args.choice('sync', ('auto', 'events-open'), default='auto')
    # stream: perf writes pipe-mode perf.data to a pipe (`-o -`), forwarded as it comes (see
    # PipeStream), so the controller can decode it during the recording.
    stream = args.bool('stream', False)
    args.done()

    perf, perf_version = find_perf()
    fallback = None
    if requested == 'cpu-clock':
        event = 'cpu-clock'
    else:
        st = perf_event_status(perf, 'cycles:u')
        if st == 'supported':
            event = 'cycles:u'
        elif requested == 'cycles':
            fail('event-unsupported', NO_PMU_REASON + ' — use --event cpu-clock' if st == 'unsupported'
                 else 'cycles cannot be opened here (%s) — use --event cpu-clock' % st[7:],
                 'record with --event cpu-clock (or --event auto, which falls back by itself)')
        else:
            event = 'cpu-clock'
            fallback = NO_PMU_REASON if st == 'unsupported' else 'cycles cannot be opened here (%s)' % st[7:]
    proc_info = go_info_for_pid(pid) or {}
    control = sync == 'auto' and perf_has_control(perf)

    d = private_dir()
    data_path = os.path.join(d, 'perf.data')
    err_path = os.path.join(d, 'perf.stderr')
    argv = [perf, 'record', '-g', '--call-graph', 'fp', '-F', str(freq), '-e', event,
            '-p', str(pid), '-o', '-' if stream else data_path, '--no-buildid-cache']
    if '--no-bpf-event' in perf_record_help(perf):
        # Its side-band thread (BPF program loads, for kernel symbols we never use) polls a second
        # at a time: with it, perf took ~0.9 s to exit after SIGINT, all of it after the recording.
        argv.append('--no-bpf-event')
    ctl = None
    if control:
        # The clock starts when perf really samples: perf starts with the events off and turns
        # them on for `enable` from its main loop (after attaching to every thread), then acks.
        ctl = _PerfControl(d)
        argv[2:2] = ctl.argv()
        ctl.send('enable')
        clock = 'perf-ack'
    else:
        clock = 'events-open'
    with open(err_path, 'wb') as errf:
        proc = spawn(argv, stdout=subprocess.PIPE if stream else subprocess.DEVNULL, stderr=errf, cwd=d)
    streamer = None
    try:
        if stream:
            # data_path is then the spool of what perf wrote, as it was sent.
            streamer = PipeStream(proc.stdout, data_path, 'perf.data')
        return _record_run(proc, streamer, ctl, err_path, data_path, pid, duration, {
            'pid': pid, 'event': event, 'requestedEvent': requested, 'fallbackReason': fallback,
            'freqHz': freq, 'durationSec': duration, 'clock': clock, 'perfVersion': perf_version,
            'exe': proc_info.get('exe'), 'exeSize': proc_info.get('exeSize'),
            'goVersion': proc_info.get('goVersion'), 'goBuildId': proc_info.get('goBuildId'),
            'gnuBuildId': proc_info.get('gnuBuildId'),
        })
    except BaseException:
        if streamer is not None:
            streamer.abandon()  # the error must be the last message: no chunk after it
        raise


def _record_run(proc, streamer, ctl, err_path, data_path, pid, duration, res):
    """cmd_record once perf runs: the clock, stopping perf, judging and sending its output.
    res: the result's fields known up front; returns the whole result."""
    event, freq, clock = res['event'], res['freqHz'], res['clock']
    warnings = []
    ready = ctl.acked if ctl else (lambda: _perf_events_open(proc.pid))
    progress('starting perf on PID %d' % pid, event=event, elapsedSec=0, durationSec=duration)
    spawned = time.time()
    state = _wait_perf_ready(proc, ready, PERF_START_TIMEOUT, pid, err_path)
    start = time.time()
    startup = start - spawned
    ended_by = {'ready': 'duration', 'stop': 'stop', 'perf-exited': 'perf-exited'}[state]
    if state == 'ready':
        progress('recording PID %d with %s at %d Hz for %d s' % (pid, event, freq, duration),
                 event=event, elapsedSec=0, durationSec=duration, perfPid=proc.pid, clock=clock,
                 startupSec=round(startup, 3))
        # Streaming with the control FIFO: wake perf every STREAM_FLUSH_SEC (progress stays once
        # a second). Without the FIFO, perf writes when its ring buffers fill, and at the end.
        pinging = streamer is not None and ctl is not None
        tick = STREAM_FLUSH_SEC if pinging else 1.0
        next_report = 1.0
        while True:
            left = duration - (time.time() - start)
            if left <= 0:
                break
            if sleep_unless_stopped(min(tick, left)):
                ended_by = 'stop'
                break
            if proc.poll() is not None:
                ended_by = 'perf-exited'
                break
            if pinging:
                ctl.ping()
            so_far = time.time() - start
            if so_far + 1e-3 >= next_report:
                progress('recording', elapsedSec=round(so_far, 1), durationSec=duration)
                next_report = int(so_far + 1e-3) + 1.0
        if ctl and ended_by != 'perf-exited':
            # Turn sampling off first, so the recording ends when the clock does (perf can take a
            # while to act on SIGINT on a busy machine); bounded, SIGINT follows in any case.
            ctl.send('disable')
            deadline = time.time() + 10.0
            while not ctl.acked() and proc.poll() is None and time.time() < deadline and not aborting():
                time.sleep(0.02)
    elapsed = time.time() - start
    rc = stop_process(proc, signal.SIGINT, 15.0)
    check_abort()
    if streamer is not None:
        # Everything perf wrote has been read (EOF) and sent as chunks; file-end comes below.
        size, digest = streamer.finish()
    with open(err_path, 'rb') as f:
        perf_err = f.read().decode('utf-8', 'replace')
    target_alive = proc_starttime(pid)[0] not in (None, 'Z', 'X')
    if ended_by == 'stop':
        if state == 'ready':
            warnings.append('stopped early after %.1f s of %d s' % (elapsed, duration))
        else:
            warnings.append('stopped early, before perf had started recording')
    elif ended_by == 'perf-exited':
        if not target_alive:
            warnings.append('PID %d exited after %.1f s of the %d s recording' % (pid, elapsed, duration))
        else:
            warnings.append('perf stopped after %.1f s of %d s' % (elapsed, duration))
    elif not target_alive:
        warnings.append('PID %d exited during the recording' % pid)

    m = _CAPTURED_RE.search(perf_err)
    lost = None
    for lm in _LOST_RE.finditer(perf_err):
        lost = (lost or 0) + int(next(g for g in lm.groups() if g))
    if streamer is None:
        samples = int(m.group(2)) if m and m.group(2) else (0 if m else None)
        no_samples = samples == 0
        ok = os.path.exists(data_path) and os.path.getsize(data_path) > 0 and m is not None
    else:
        # In pipe mode perf says "Captured and wrote 0.000 MB -", without a count: judge by the
        # bytes (more than the pipe header) and by the SAMPLE records that went by.
        samples = int(m.group(2)) if m and m.group(2) else None
        no_samples = streamer.counter.samples() == 0
        ok = size > PIPE_HEADER_SIZE
        # Nor does it report losses (file mode's come from its build-id pass): count them.
        counted_lost = streamer.counter.lost_samples()
        if lost is None and counted_lost:
            lost = counted_lost
    if not ok:
        if ended_by == 'stop':
            # We interrupted perf (perhaps before it could write anything): that is the stop, not
            # a perf failure.
            fail('cancelled', 'stopped before perf had written any data (exit %s)' % rc)
        if not target_alive:
            fail('pid-gone', 'PID %d exited before anything was recorded' % pid)
        low = perf_err.lower()
        if 'permission' in low or 'paranoid' in low or 'access to performance monitoring' in low:
            fail('not-root', 'perf may not record PID %d: %s' % (pid, last_lines(perf_err)),
                 'run the helper as root (or lower /proc/sys/kernel/perf_event_paranoid)')
        fail('perf-failed', 'perf record failed (exit %s): %s' % (rc, last_lines(perf_err)))
    if no_samples:
        if not target_alive:
            fail('pid-gone', 'PID %d exited before any sample was taken' % pid)
        if state == 'ready':
            warnings.append('no samples: PID %d used no CPU while it was recorded' % pid)
    for line in perf_err.splitlines():
        if line.startswith('Warning') or 'WARNING' in line:
            warnings.append('perf: ' + line.strip())
    if streamer is None:
        progress('sending perf.data (%d bytes)' % os.path.getsize(data_path))
        size, digest = stream_file(data_path, 'perf.data')
    else:
        if not streamer.announced:
            emit('file', name='perf.data', size=None)  # not reached: ok means chunks went out
        emit('file-end', name='perf.data', size=size, sha256=digest)
    res.update({
        'elapsedSec': round(elapsed, 3), 'endedBy': ended_by, 'startupSec': round(startup, 3),
        'samples': samples, 'lost': lost, 'warnings': warnings,
        'perfData': {'name': 'perf.data', 'size': size, 'sha256': digest},
    })
    if streamer is not None:
        res['streamed'] = True
    return res
