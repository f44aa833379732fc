"""Process lifecycle: cleanups (run however the helper exits), signal handlers, the stdin watcher,
the reaper, the private temporary directory and child processes.

Children run from argv lists only (never a shell); files are written only into one private
mkdtemp directory; SIGTERM/SIGINT/SIGHUP and the loss of stdin stop the children and remove the
directory. A forked "reaper" in its own session does the same if this process is killed with
SIGKILL: it learns the directory and the child pids through a pipe, and acts when the pipe closes
without a "done" line."""

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from .protocol import request_stop

_cleanups = []
_cleanup_lock = threading.Lock()


def on_cleanup(fn):
    """Registers fn to run (LIFO) when the helper exits, however it exits (except SIGKILL, where
    the reaper removes the temp dir and stops the children)."""
    with _cleanup_lock:
        _cleanups.append(fn)
    return fn


def run_cleanups():
    while True:
        with _cleanup_lock:
            if not _cleanups:
                return
            fn = _cleanups.pop()
        try:
            fn()
        except Exception:  # cleanup must go on
            pass


def _on_signal(signum, _frame):
    request_stop('signal')


def install_signal_handlers():
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, _on_signal)
    atexit.register(run_cleanups)


def watch_stdin():
    """stdin after the envelope: {"cmd":"stop"} lines; EOF = the controller is gone."""
    stdin = sys.stdin.buffer
    while True:
        try:
            line = stdin.readline()
        except Exception:
            line = b''
        if not line:
            request_stop('eof')
            return
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if isinstance(msg, dict) and msg.get('cmd') == 'stop':
            request_stop('stop')


# The reaper: a forked process in its own session, so group kills do not reach it.
_reaper_fd = [None]


def proc_starttime(pid):
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            data = f.read()
        fields = data[data.rindex(b')') + 2:].split()
        return fields[0].decode(), int(fields[19])  # state, starttime
    except (OSError, ValueError, IndexError):
        return None, None


def _reaper_main(rfd):
    dirs, kids, done = [], {}, False
    buf = b''
    while True:
        try:
            d = os.read(rfd, 4096)
        except InterruptedError:
            continue
        except OSError:
            break
        if not d:
            break
        buf += d
        while b'\n' in buf:
            line, buf = buf.split(b'\n', 1)
            parts = line.decode('utf-8', 'replace').split(' ', 1)
            if parts[0] == 'done':
                done = True
            elif parts[0] == 'dir' and len(parts) == 2:
                dirs.append(parts[1])
            elif parts[0] == 'pid' and len(parts) == 2:
                p, st = parts[1].split(' ')
                kids[int(p)] = int(st)
            elif parts[0] == 'unpid' and len(parts) == 2:
                kids.pop(int(parts[1]), None)
    if done:
        return

    def alive(p, st):
        state, start = proc_starttime(p)
        return start == st and state not in ('Z', 'X')

    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
        live = [p for p, st in kids.items() if alive(p, st)]
        for p in live:
            try:
                os.kill(p, sig)
            except OSError:
                pass
        deadline = time.time() + wait
        while live and time.time() < deadline:
            time.sleep(0.05)
            live = [p for p in live if alive(p, kids[p])]
        if not live:
            break
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


def start_reaper():
    """Forks the reaper before any thread exists (fork and threads do not mix)."""
    r, w = os.pipe()  # not inheritable: children (perf) never hold it open
    pid = os.fork()
    if pid == 0:
        try:
            os.close(w)
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)  # never keep the controller's pipes open
            os.closerange(3, r)
            os.closerange(r + 1, 4096)
            for s in (signal.SIGINT, signal.SIGHUP):
                signal.signal(s, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _reaper_main(r)
        finally:
            os._exit(0)
    os.close(r)
    _reaper_fd[0] = w

    def reaped():
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass
    threading.Thread(target=reaped, daemon=True).start()


def tell_reaper(line):
    fd = _reaper_fd[0]
    if fd is not None:
        try:
            os.write(fd, (line + '\n').encode('utf-8'))
        except OSError:
            pass


def reaper_done():
    tell_reaper('done')
    fd, _reaper_fd[0] = _reaper_fd[0], None
    if fd is not None:
        os.close(fd)


_tmpdir = [None]


def private_dir():
    """The helper's private temp dir (0700), removed at exit (by the reaper after SIGKILL)."""
    if _tmpdir[0] is None:
        d = tempfile.mkdtemp(prefix='go-perf-lens-helper-')
        os.chmod(d, 0o700)
        _tmpdir[0] = d
        tell_reaper('dir ' + d)
        on_cleanup(lambda: shutil.rmtree(d, ignore_errors=True))
    return _tmpdir[0]


def _pdeathsig():
    # The child gets SIGTERM if the helper dies (even by SIGKILL): perf then writes and exits.
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def spawn(argv, **kw):
    """Starts a child from an argv list (never a shell). It is stopped (SIGTERM, then SIGKILL) at
    cleanup unless it has exited, and by the reaper if the helper is killed."""
    if not isinstance(argv, (list, tuple)) or not all(isinstance(a, str) for a in argv):
        raise TypeError('spawn needs an argv list of strings')
    kw.setdefault('stdin', subprocess.DEVNULL)
    kw.setdefault('close_fds', True)
    proc = subprocess.Popen(list(argv), preexec_fn=_pdeathsig, shell=False, **kw)
    _, st = proc_starttime(proc.pid)
    if st is not None:
        tell_reaper('pid %d %d' % (proc.pid, st))

    def stop_child():
        if proc.poll() is None:
            stop_process(proc, signal.SIGTERM, 5.0)
        tell_reaper('unpid %d' % proc.pid)
    on_cleanup(stop_child)
    return proc


def stop_process(proc, sig=signal.SIGINT, grace=10.0):
    """Sends sig, waits up to grace seconds, then SIGKILL. Returns the exit code."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except OSError:
            pass
        try:
            return proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


def run_quiet(argv, timeout=20.0):
    """Runs a short command (argv list) and returns (returncode, stdout, stderr) as text;
    returncode None when the program is missing or timed out."""
    try:
        p = subprocess.run(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, shell=False,
                           preexec_fn=_pdeathsig)
        return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')
    except FileNotFoundError:
        return None, '', 'not found: %s' % argv[0]
    except subprocess.TimeoutExpired:
        return None, '', 'timed out: %s' % ' '.join(argv)
