#!/usr/bin/env python3
"""go-perf-lens privileged helper.

One self-contained program (standard library; BCC's Python bindings are imported only inside the
subcommands that load BPF). It is never installed on the target: src/capture starts the fixed
bootstrap `python3 -c BOOTSTRAP`, which prints a ready line and executes the first stdin line (a
loader); the loader reads one JSON envelope line {"v", "subcommand", "args", "files", "program"}
and runs this program. stdin stays open afterwards: a {"cmd":"stop"} line asks for a graceful
early stop (results so far are still delivered); EOF on stdin means the controller is gone (stop,
clean up, exit without streaming).

For debugging it also runs directly: `sudo python3 bpf/helper.py record --pid 123 --duration 2`.

Protocol (JSON lines on stdout, PROTOCOL_VERSION): hello, progress, partial, warning, file /
chunk / file-end (a binary file streamed as base64 chunks, followed by its size and sha256),
result, error {code, message, hint}. Nothing else is ever written to stdout. `file` carries the
size when it is known up front, or null for a file sent while it is being made (`record` with
`stream`: perf's pipe-mode output, forwarded as perf writes it); `file-end` always has the size.
Other messages (progress, warning) may come between a file's chunks.

Safety: every argument is validated (Args); children run from argv lists only (never a shell);
files are written only into one private mkdtemp directory; SIGTERM/SIGINT/SIGHUP and the loss of
stdin stop the children and remove the directory. A forked "reaper" in its own session does the
same if this process is killed with SIGKILL: it learns the directory and the child pids through a
pipe, and acts when the pipe closes without a "done" line.
"""

import atexit
import base64
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

PROTOCOL_VERSION = 1
HELPER_VERSION = '0.1.0'

# Stable error codes (src/capture/helperProtocol.ts mirrors this list).
ERROR_CODES = (
    'bad-argument', 'unknown-subcommand', 'pid-gone', 'not-go', 'not-root', 'perf-missing',
    'perf-failed', 'event-unsupported', 'bcc-missing', 'unsupported', 'cancelled', 'io-error',
    'internal',
)

PERF_HINT = ('install perf: sudo apt-get install linux-perf (Debian), '
             'sudo apt-get install linux-tools-$(uname -r) (Ubuntu), sudo dnf install perf (Fedora)')

# ------------------------------------------------------------------------------------------------
# Core: messages, errors, stop handling, cleanup, private temp dir, children, reaper
# ------------------------------------------------------------------------------------------------


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
_out = None  # binary stdout, set in _setup_stdout()


def _setup_stdout():
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


def _install_signal_handlers():
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, _on_signal)
    atexit.register(run_cleanups)


def _watch_stdin():
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


def _proc_starttime(pid):
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
        state, start = _proc_starttime(p)
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


def _start_reaper():
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


def _tell_reaper(line):
    fd = _reaper_fd[0]
    if fd is not None:
        try:
            os.write(fd, (line + '\n').encode('utf-8'))
        except OSError:
            pass


def _reaper_done():
    _tell_reaper('done')
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
        _tell_reaper('dir ' + d)
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
    _, st = _proc_starttime(proc.pid)
    if st is not None:
        _tell_reaper('pid %d %d' % (proc.pid, st))

    def stop_child():
        if proc.poll() is None:
            stop_process(proc, signal.SIGTERM, 5.0)
        _tell_reaper('unpid %d' % proc.pid)
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


_resources = {}


def resource(name):
    """A resource file sent in the envelope (e.g. a BPF C source from bpf/), or read beside this
    file when run directly."""
    if name in _resources:
        return _resources[name]
    here = globals().get('__file__')
    if here and os.path.basename(name) == name:
        p = os.path.join(os.path.dirname(os.path.abspath(here)), name)
        if os.path.isfile(p):
            with open(p, 'r', encoding='utf-8') as f:
                return f.read()
    fail('internal', 'resource %r was not sent to the helper' % name)


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


# --- argument validation -------------------------------------------------------------------------

_INT_RE = re.compile(r'^[0-9]{1,10}$')
PID_MAX = 4194304


class Args(object):
    """Typed access to a subcommand's arguments; done() rejects any argument nobody asked for."""

    def __init__(self, raw):
        if not isinstance(raw, dict):
            fail('bad-argument', 'arguments must be an object')
        self.raw = raw
        self.used = set()

    def _get(self, key, default):
        self.used.add(key)
        return self.raw.get(key, default)

    def has(self, key):
        return key in self.raw

    def int(self, key, lo, hi, default=None, what=None):
        v = self._get(key, default)
        if v is None:
            fail('bad-argument', '--%s is required' % key)
        if isinstance(v, bool) or not (isinstance(v, int) or (isinstance(v, str) and _INT_RE.match(v))):
            fail('bad-argument', '--%s must be a whole number, got %s' % (key, json.dumps(v)[:60]))
        n = int(v)
        if n < lo or n > hi:
            fail('bad-argument', '--%s must be between %d and %d%s, got %d' % (key, lo, hi, what or '', n))
        return n

    def choice(self, key, allowed, default=None):
        v = self._get(key, default)
        if v not in allowed:
            fail('bad-argument', '--%s must be one of %s, got %s' % (key, ', '.join(allowed), json.dumps(v)[:60]))
        return v

    def bool(self, key, default=False):
        v = self._get(key, default)
        if v in (True, 'true', '1', 'yes'):
            return True
        if v in (False, 'false', '0', 'no'):
            return False
        fail('bad-argument', '--%s must be true or false' % key)

    def str(self, key, pattern, max_len=512, default=None):
        v = self._get(key, default)
        if not isinstance(v, str) or len(v) > max_len or not re.match(pattern, v):
            fail('bad-argument', '--%s is not valid: %s' % (key, json.dumps(v)[:80]))
        return v

    def pid(self, key='pid', require_go=False):
        self.used.add(key)
        return validate_pid(self.raw.get(key), require_go)

    def raw_value(self, key, default=None):
        """An unvalidated value (lists/objects): the caller validates it."""
        return self._get(key, default)

    def done(self):
        extra = sorted(set(self.raw) - self.used)
        if extra:
            fail('bad-argument', 'unknown argument(s): %s' % ', '.join('--' + str(k) for k in extra))


def validate_pid(value, require_go=False):
    """A positive integer naming a live process (not a zombie); with require_go, a Go program."""
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and _INT_RE.match(value))):
        fail('bad-argument', '--pid must be a positive whole number, got %s' % json.dumps(value)[:60])
    pid = int(value)
    if pid < 1 or pid > PID_MAX:
        fail('bad-argument', '--pid must be between 1 and %d, got %d' % (PID_MAX, pid))
    state, _ = _proc_starttime(pid)
    if state is None or state in ('Z', 'X'):
        fail('pid-gone', 'no process with PID %d' % pid, 'check the PID (it may have exited)')
    if require_go:
        info = go_info_for_pid(pid)
        if info is None or not info.get('goVersion'):
            fail('not-go', 'PID %d (%s) is not a Go program: no Go build information in %s' % (
                pid, proc_comm(pid), info.get('exe') if info else '/proc/%d/exe' % pid),
                'pick a Go process (go-perf-lens lists them)')
    return pid


def proc_comm(pid):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read().strip()
    except OSError:
        return '?'


# ------------------------------------------------------------------------------------------------
# Reading Go build information from an executable (ELF)
# ------------------------------------------------------------------------------------------------

BUILDINFO_MAGIC = b'\xff Go buildinf:'


class _Elf(object):
    def __init__(self, f):
        self.f = f
        ident = self.read(0, 64)
        if len(ident) < 52 or ident[:4] != b'\x7fELF':
            raise ValueError('not ELF')
        self.is64 = ident[4] == 2
        self.e = '<' if ident[5] == 1 else '>'
        e = self.e
        if self.is64:
            (self.phoff, self.shoff) = struct.unpack(e + 'QQ', ident[32:48])
            (self.phentsize, self.phnum, self.shentsize, self.shnum, self.shstrndx) = struct.unpack(e + 'HHHHH', ident[54:64])
        else:
            (self.phoff, self.shoff) = struct.unpack(e + 'II', ident[28:36])
            (self.phentsize, self.phnum, self.shentsize, self.shnum, self.shstrndx) = struct.unpack(e + 'HHHHH', ident[42:52])
        self.sections = self._sections()
        self.segments = self._segments()

    def read(self, off, n):
        self.f.seek(off)
        return self.f.read(n)

    def _sections(self):
        out = []
        if not self.shoff or self.shnum == 0 or self.shnum > 10000:
            return out
        raw = self.read(self.shoff, self.shentsize * self.shnum)
        hdrs = []
        for i in range(self.shnum):
            b = raw[i * self.shentsize:(i + 1) * self.shentsize]
            if self.is64:
                name, typ, _fl, addr, off, size = struct.unpack(self.e + 'IIQQQQ', b[:40])
            else:
                name, typ, _fl, addr, off, size = struct.unpack(self.e + 'IIIIII', b[:24])
            hdrs.append((name, typ, addr, off, size))
        if self.shstrndx >= len(hdrs):
            return out
        strtab = self.read(hdrs[self.shstrndx][3], min(hdrs[self.shstrndx][4], 1 << 20))
        for name, typ, addr, off, size in hdrs:
            end = strtab.find(b'\0', name)
            out.append({'name': strtab[name:end].decode('latin-1'), 'type': typ, 'addr': addr, 'off': off, 'size': size})
        return out

    def _segments(self):
        out = []
        if not self.phoff or self.phnum > 10000:
            return out
        raw = self.read(self.phoff, self.phentsize * self.phnum)
        for i in range(self.phnum):
            b = raw[i * self.phentsize:(i + 1) * self.phentsize]
            if self.is64:
                typ, flags, off, vaddr, _pa, filesz, memsz = struct.unpack(self.e + 'IIQQQQQ', b[:48])
            else:
                typ, off, vaddr, _pa, filesz, memsz, flags = struct.unpack(self.e + 'IIIIIII', b[:28])
            out.append({'type': typ, 'flags': flags, 'off': off, 'vaddr': vaddr, 'filesz': filesz, 'memsz': memsz})
        return out

    def section(self, name):
        for s in self.sections:
            if s['name'] == name:
                return s
        return None

    def read_vaddr(self, addr, n):
        for s in self.segments:
            if s['type'] == 1 and s['vaddr'] <= addr < s['vaddr'] + s['filesz']:
                return self.read(s['off'] + addr - s['vaddr'], n)
        return b''

    def notes(self):
        """(name, type, desc) of every note, from SHT_NOTE sections or PT_NOTE segments."""
        areas = [(s['off'], s['size']) for s in self.sections if s['type'] == 7]
        if not areas:
            areas = [(s['off'], s['filesz']) for s in self.segments if s['type'] == 4]
        for off, size in areas:
            data = self.read(off, min(size, 1 << 16))
            i = 0
            while i + 12 <= len(data):
                namesz, descsz, typ = struct.unpack(self.e + 'III', data[i:i + 12])
                i += 12
                name = data[i:i + namesz].rstrip(b'\0')
                i += (namesz + 3) & ~3
                desc = data[i:i + descsz]
                i += (descsz + 3) & ~3
                yield name, typ, desc


def _uvarint(b, i):
    n = shift = 0
    while i < len(b):
        c = b[i]
        i += 1
        n |= (c & 0x7f) << shift
        if c < 0x80:
            return n, i
        shift += 7
    raise ValueError('bad varint')


def _buildinfo_block(elf):
    s = elf.section('.go.buildinfo')
    if s is not None:
        blk = elf.read(s['off'], 64 * 1024)
        if blk[:14] == BUILDINFO_MAGIC:
            return blk
    # No section table entry: search the writable load segments (as debug/buildinfo does).
    for seg in elf.segments:
        if seg['type'] != 1 or not (seg['flags'] & 2):
            continue
        off, left = seg['off'], min(seg['filesz'], 64 << 20)
        while left > 0:
            blk = elf.read(off, min(left, 1 << 20) + 32)
            i = blk.find(BUILDINFO_MAGIC)
            while i >= 0 and (off + i - seg['off']) % 16:
                i = blk.find(BUILDINFO_MAGIC, i + 1)
            if i >= 0:
                return elf.read(off + i, 64 * 1024)
            off += 1 << 20
            left -= 1 << 20
    return None


def read_go_buildinfo(f):
    """{'goVersion', 'modulePath', 'goBuildId', 'gnuBuildId'} of an open ELF file; goVersion is
    None for a non-Go executable. Raises ValueError for a file that is not ELF."""
    elf = _Elf(f)
    info = {'goVersion': None, 'modulePath': None, 'goBuildId': None, 'gnuBuildId': None}
    for name, typ, desc in elf.notes():
        if name == b'Go' and typ == 4:
            info['goBuildId'] = desc.decode('utf-8', 'replace')
        elif name == b'GNU' and typ == 3:
            info['gnuBuildId'] = desc.hex()
    blk = _buildinfo_block(elf)
    if blk is None or len(blk) < 32:
        return info
    ptr_size, flags = blk[14], blk[15]
    if flags & 2:  # Go 1.18+: the strings follow the header inline
        n, i = _uvarint(blk, 32)
        version = blk[i:i + n]
        i += n
        n, i = _uvarint(blk, i)
        mod = blk[i:i + n]
    else:  # older: pointers to Go string headers
        e = '>' if flags & 1 else '<'
        fmt = e + ('Q' if ptr_size == 8 else 'I')

        def gostr(at):
            p = struct.unpack(fmt, blk[at:at + ptr_size])[0]
            hdr = elf.read_vaddr(p, 2 * ptr_size)
            if len(hdr) < 2 * ptr_size:
                return b''
            data, ln = struct.unpack(e + ('QQ' if ptr_size == 8 else 'II'), hdr)
            return elf.read_vaddr(data, min(ln, 1 << 20))
        version = gostr(16)
        mod = gostr(16 + ptr_size)
    info['goVersion'] = version.decode('utf-8', 'replace') or None
    if len(mod) >= 33 and mod[-17:-16] == b'\n':
        mod = mod[16:-16]
    for line in mod.decode('utf-8', 'replace').split('\n'):
        if line.startswith('path\t'):
            info['modulePath'] = line[5:]
            break
    return info


_go_info_cache = {}


def go_info_for_pid(pid):
    """Go build info of /proc/PID/exe plus its path, or None if unreadable/not ELF."""
    exe_link = '/proc/%d/exe' % pid
    try:
        st = os.stat(exe_link)
        exe = os.readlink(exe_link)
    except OSError:
        return None
    key = (st.st_dev, st.st_ino, st.st_size, int(st.st_mtime))
    info = _go_info_cache.get(key)
    if info is None:
        try:
            with open(exe_link, 'rb') as f:
                info = read_go_buildinfo(f)
        except (OSError, ValueError, struct.error, IndexError):
            info = {'goVersion': None, 'modulePath': None, 'goBuildId': None, 'gnuBuildId': None}
        _go_info_cache[key] = info
    out = dict(info)
    out['exe'] = exe
    out['exeSize'] = st.st_size
    return out


# ------------------------------------------------------------------------------------------------
# perf helpers
# ------------------------------------------------------------------------------------------------

def find_perf():
    """(path, version) of a working perf, or raises perf-missing."""
    path = shutil.which('perf')
    if path is None:
        for p in ('/usr/bin/perf', '/usr/sbin/perf', '/usr/local/bin/perf'):
            if os.access(p, os.X_OK):
                path = p
                break
    if path is None:
        fail('perf-missing', 'perf is not installed on this machine', PERF_HINT)
    rc, out, err = run_quiet([path, '--version'])
    if rc != 0 or not out.startswith('perf version'):
        # Ubuntu's wrapper script exits non-zero when the kernel-specific perf is missing.
        fail('perf-missing', 'perf does not run here: %s' % (err.strip() or out.strip())[:300], PERF_HINT)
    return path, out.strip()[len('perf version '):]


def perf_event_status(perf, event, pid=None):
    """'supported', 'unsupported' or 'error: ...' for opening `event` (system-wide test with
    `true`, or attached to PID for 100 ms)."""
    argv = [perf, 'stat', '-x', ',', '-e', event]
    argv += ['-p', str(pid), '--timeout', '100'] if pid else ['true']
    rc, _out, err = run_quiet(argv)
    for line in err.splitlines():
        cols = line.split(',')
        if len(cols) >= 3 and cols[2] == event:
            if cols[0].startswith('<not supported>'):
                return 'unsupported'
            return 'supported'  # a number or <not counted> (opened, did not run)
    if rc is None:
        return 'error: ' + err.strip()[:200]
    low = err.lower()
    if 'not supported' in low or 'unknown' in low or 'invalid' in low:
        return 'unsupported'
    return 'error: ' + (err.strip().splitlines() or ['perf stat exited with %s' % rc])[-1][:200]


NO_PMU_REASON = 'cycles is not supported on this machine (no hardware PMU; virtual machine?)'


def read_paranoid():
    try:
        with open('/proc/sys/kernel/perf_event_paranoid') as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------------------------------------
# Subcommand registry
# ------------------------------------------------------------------------------------------------

SUBCOMMANDS = {}


def subcommand(name, capability=None):
    """Registers fn(args: Args) -> result dict under `name`; `capability` names it in hello."""
    def deco(fn):
        SUBCOMMANDS[name] = {'fn': fn, 'capability': capability or name}
        return fn
    return deco


# --- probe ---------------------------------------------------------------------------------------

def _bcc_status():
    """Which Python can import bcc: this one, else /usr/bin/python3 (Debian's python3-bpfcc)."""
    tried = []
    cands = [sys.executable, '/usr/bin/python3', shutil.which('python3')]
    for py in cands:
        if not py or py in tried or not os.access(py, os.X_OK):
            continue
        tried.append(py)
        rc, out, _err = run_quiet([py, '-c', 'import bcc,sys;sys.stdout.write(bcc.__file__)'], 30)
        if rc == 0:
            return {'importable': True, 'python': py, 'module': out.strip(), 'tried': tried}
    return {'importable': False, 'python': None, 'tried': tried}


@subcommand('probe')
def cmd_probe(args):
    pid = args.pid() if args.has('pid') else None
    args.done()
    un = os.uname()
    res = {
        'root': os.geteuid() == 0,
        'kernel': un.release,
        'arch': un.machine,
        'perfEventParanoid': read_paranoid(),
        'python': sys.executable,
        'pythonVersion': '%d.%d.%d' % sys.version_info[:3],
    }
    try:
        perf, version = find_perf()
        res['perf'] = {'present': True, 'path': perf, 'version': version}
        events = {}
        for ev in ('cycles:u', 'cycles', 'instructions:u', 'cpu-clock', 'task-clock'):
            check_abort()
            events[ev] = perf_event_status(perf, ev, pid)
        res['events'] = events
        res['recommendedEvent'] = 'cycles:u' if events['cycles:u'] == 'supported' else 'cpu-clock'
        if events['cycles:u'] != 'supported':
            res['fallbackReason'] = NO_PMU_REASON
    except HelperError as e:
        res['perf'] = {'present': False, 'error': e.message, 'hint': e.hint}
        res['events'] = {}
        res['recommendedEvent'] = None
    res['bcc'] = _bcc_status()
    hdr = '/lib/modules/%s/build' % un.release
    res['kernelHeaders'] = {'path': hdr, 'present': os.path.isdir(os.path.join(hdr, 'include'))}
    res['btf'] = os.path.exists('/sys/kernel/btf/vmlinux')
    tracefs = None
    for p in ('/sys/kernel/tracing', '/sys/kernel/debug/tracing'):
        if os.path.isdir(os.path.join(p, 'events')):
            tracefs = p
            break
    res['tracefs'] = {'mounted': tracefs is not None, 'path': tracefs}
    res['uprobes'] = os.path.isdir('/sys/bus/event_source/devices/uprobe')
    res['kprobes'] = os.path.isdir('/sys/bus/event_source/devices/kprobe')
    if pid is not None:
        res['pid'] = pid
        res['process'] = go_info_for_pid(pid)
    return res


# --- processes -----------------------------------------------------------------------------------

def _clk_tck():
    try:
        return os.sysconf('SC_CLK_TCK')
    except (ValueError, OSError):
        return 100


def _boot_time():
    try:
        with open('/proc/stat') as f:
            for line in f:
                if line.startswith('btime '):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _uptime():
    with open('/proc/uptime') as f:
        return float(f.read().split()[0])


def _proc_user(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('Uid:'):
                    uid = int(line.split()[1])
                    try:
                        return uid, pwd.getpwuid(uid).pw_name
                    except KeyError:
                        return uid, str(uid)
    except OSError:
        pass
    return None, None


def describe_process(pid, info=None):
    info = info or go_info_for_pid(pid)
    if info is None:
        return None
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            cmdline = [a.decode('utf-8', 'replace') for a in f.read().split(b'\0')[:-1]]
    except OSError:
        cmdline = []
    _, start = _proc_starttime(pid)
    uid, user = _proc_user(pid)
    tck, btime = _clk_tck(), _boot_time()
    d = dict(info)
    d.update({'pid': pid, 'comm': proc_comm(pid), 'cmdline': cmdline, 'uid': uid, 'user': user})
    if start is not None:
        d['uptimeSec'] = round(max(0.0, _uptime() - start / float(tck)), 2)
        d['startTime'] = round(btime + start / float(tck), 2) if btime else None
    return d


@subcommand('processes')
def cmd_processes(args):
    args.done()
    me = {os.getpid(), os.getppid()}
    out, unreadable = [], 0
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        pid = int(name)
        if pid in me:
            continue
        check_abort()
        info = go_info_for_pid(pid)
        if info is None:
            if os.path.exists('/proc/%d/exe' % pid) and not os.access('/proc/%d/exe' % pid, os.R_OK):
                unreadable += 1
            continue
        if not info.get('goVersion'):
            continue
        d = describe_process(pid, info)
        if d is not None:
            out.append(d)
    out.sort(key=lambda d: d['pid'])
    res = {'processes': out}
    if unreadable and os.geteuid() != 0:
        res['unreadable'] = unreadable
    return res


# --- binary --------------------------------------------------------------------------------------

@subcommand('binary')
def cmd_binary(args):
    pid = args.pid()
    info_only = args.bool('infoOnly', False)  # build ids + sha256 only: lets the client use its cache
    args.done()
    link = '/proc/%d/exe' % pid
    try:
        f = open(link, 'rb')  # one open: the bytes, build ids and hash all come from this file
    except PermissionError:
        fail('not-root', 'cannot read the executable of PID %d (permission denied)' % pid, 'run the helper as root')
    except OSError as e:
        fail('pid-gone', 'cannot open the executable of PID %d: %s' % (pid, e.strerror))
    with f:
        try:
            exe = os.readlink(link)
        except OSError:
            exe = None
        try:
            info = read_go_buildinfo(f)
        except (ValueError, struct.error, IndexError):
            info = {}
        f.seek(0)
        if info_only:
            h, size = hashlib.sha256(), 0
            for block in iter(lambda: f.read(1 << 20), b''):
                check_abort()
                h.update(block)
                size += len(block)
            digest = h.hexdigest()
        else:
            size, digest = stream_file(f, 'exe')
    res = {'pid': pid, 'exe': exe, 'size': size, 'sha256': digest, 'infoOnly': info_only}
    res.update({k: info.get(k) for k in ('goVersion', 'modulePath', 'goBuildId', 'gnuBuildId')})
    return res


# --- record --------------------------------------------------------------------------------------

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
                 % (pid, timeout, _last_lines(perf_err)),
                 'the machine may be overloaded: try again, or try `perf record -p %d` by hand' % pid)
        sleep_unless_stopped(0.05)


# Streaming (`record` with `stream`): perf writes pipe-mode perf.data (`-o -`) to our pipe.
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


class _PerfRecordCounter(object):
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


class _PipeStream(object):
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
        self.counter = _PerfRecordCounter()
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
    # _PipeStream), so the controller can decode it during the recording.
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
            streamer = _PipeStream(proc.stdout, data_path, 'perf.data')
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
    target_alive = _proc_starttime(pid)[0] not in (None, 'Z', 'X')
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
            fail('not-root', 'perf may not record PID %d: %s' % (pid, _last_lines(perf_err)),
                 'run the helper as root (or lower /proc/sys/kernel/perf_event_paranoid)')
        fail('perf-failed', 'perf record failed (exit %s): %s' % (rc, _last_lines(perf_err)))
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

def _last_lines(text, n=3):
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    return ' / '.join(lines[-n:])[:500] or '(no output)'


# ================================================================================================
# BEGIN eBPF SUBCOMMANDS (engineer E). Register with @subcommand('name'); use Args, emit/partial/
# progress/warn, fail(code, ...), validate_pid, private_dir(), on_cleanup(), spawn(),
# sleep_unless_stopped()/stop_requested()/check_abort(), resource('file.c'). Import bcc inside the
# subcommand (fail('bcc-missing', ...) when it is absent).
# ================================================================================================

# Three BCC tracers for Go: go_func_cycles (`trace`), go_goroutine_latency (`sched`) and
# go_syscall_breakdown (`syscalls`). The TypeScript side decodes the binary and sends the probe
# addresses (virtual addresses in /proc/PID/exe); these functions only load, attach, read and
# detach. Results: log2 histograms as [{lo_ns, hi_ns, count}] (BCC's bpf_log2l slot s holds
# [2^(s-1), 2^s) ns), a `partial` each second, the final snapshot as the result.

_E_NSLOTS = 64
_E_NFINE = 512
_E_MAX_FUNCS = 32
_E_MAX_RETS = 256


_E_INCLUDE = re.compile(r'^#include "([A-Za-z0-9_]+\.h)"$', re.M)


def _e_bpf(text, cflags):
    """Compiles a BPF program, with clear errors for a missing BCC or kernel headers. Our own
    headers (#include "x.h") are spliced in from the resources: the target has no copy of bpf/."""
    text = _E_INCLUDE.sub(lambda m: resource(m.group(1)), text)
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


def _e_buckets(counts):
    out = []
    for s, c in enumerate(counts):
        if c:
            out.append({'lo_ns': 0 if s == 0 else 1 << (s - 1), 'hi_ns': 1 << s, 'count': int(c)})
    return out


def _e_fine(counts):
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


def _e_exe(args, pid):
    """The target's executable, checked against what the controller decoded (its size), and its
    executable load segments, so every probe address can be checked before it is attached: a
    uprobe in the middle of an instruction would corrupt the target."""
    link = '/proc/%d/exe' % pid
    try:
        st = os.stat(link)
        with open(link, 'rb') as f:
            segs = [(s['vaddr'], s['vaddr'] + s['filesz']) for s in _Elf(f).segments if s['type'] == 1 and s['flags'] & 1]
    except (OSError, ValueError, struct.error) as e:
        fail('pid-gone', 'cannot read the executable of PID %d: %s' % (pid, e))
    size = args.int('exeSize', 0, 1 << 40, default=0)
    if size and size != st.st_size:
        fail('bad-argument', 'the executable of PID %d is %d bytes, not the %d bytes that were decoded' % (pid, st.st_size, size),
             'the binary changed (rebuilt or another process): try again')
    return link, segs


def _e_addr(v, segs, what):
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        fail('bad-argument', '%s must be a positive address, got %s' % (what, json.dumps(v)[:40]))
    if not any(lo <= v < hi for lo, hi in segs):
        fail('bad-argument', '%s 0x%x is not in an executable segment of the target' % (what, v))
    return v


def _e_duration(args):
    return args.int('duration', 1, 86400, what=' seconds')


def _e_alive(pid):
    state, _ = _proc_starttime(pid)
    return state not in (None, 'Z', 'X')


def _e_detach(b):
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


def _e_run(b, pid, duration, snapshot):
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
        if not _e_alive(pid):
            ended_by = 'target-exited'
            break
        partial(snapshot(time.time() - start))
    elapsed = time.time() - start
    _e_detach(b)
    res = snapshot(elapsed, True)
    res['endedBy'] = ended_by
    return res


def _e_attached(t0, compiled, probes):
    now = time.time()
    progress('attached %d probe(s)' % probes, phase='attached', probes=probes,
             compileMs=round((compiled - t0) * 1000), attachMs=round((now - t0) * 1000))
    return round((now - t0) * 1000)


@subcommand('trace', capability='ebpf-trace')
def cmd_trace(args):
    """go_func_cycles. --pid, --duration, --functions [{name, entry, rets[]}], --exeSize."""
    pid = args.pid(require_go=True)
    duration = _e_duration(args)
    funcs = args.raw_value('functions')
    if isinstance(funcs, str):  # run directly: --functions '[{"name":...}]'
        try:
            funcs = json.loads(funcs)
        except ValueError:
            fail('bad-argument', '--functions must be a JSON list')
    exe, segs = _e_exe(args, pid)
    args.done()
    if not isinstance(funcs, list) or not 1 <= len(funcs) <= _E_MAX_FUNCS:
        fail('bad-argument', '--functions must list 1 to %d functions' % _E_MAX_FUNCS)
    for i, f in enumerate(funcs):
        if not isinstance(f, dict) or not isinstance(f.get('name'), str) or len(f['name']) > 2048:
            fail('bad-argument', 'function %d needs a name' % i)
        _e_addr(f.get('entry'), segs, 'entry of %s' % f['name'])
        rets = f.get('rets')
        if not isinstance(rets, list) or not 1 <= len(rets) <= _E_MAX_RETS:
            fail('bad-argument', '%s needs 1 to %d RET addresses' % (f['name'], _E_MAX_RETS))
        for r in rets:
            _e_addr(r, segs, 'RET of %s' % f['name'])
    src = [resource('go_func_cycles.c')]
    for i in range(len(funcs)):
        src.append('int entry_%d(struct pt_regs *ctx) { return on_entry(ctx, %d); }' % (i, i))
        src.append('int ret_%d(struct pt_regs *ctx) { return on_ret(ctx, %d); }' % (i, i))
    t0 = time.time()
    b = _e_bpf('\n'.join(src), ['-DTGID=%d' % pid, '-DNFUNC=%d' % len(funcs)])
    on_cleanup(b.cleanup)
    compiled = time.time()
    probes = 0
    try:
        for i, f in enumerate(funcs):
            b.attach_uprobe(name=exe, addr=f['entry'], fn_name='entry_%d' % i, pid=pid)
            probes += 1
            for r in f['rets']:
                b.attach_uprobe(name=exe, addr=r, fn_name='ret_%d' % i, pid=pid)
                probes += 1
    except Exception as e:
        if not _e_alive(pid):
            fail('pid-gone', 'PID %d exited while the probes were being attached' % pid)
        fail('unsupported', 'attaching uprobe %d failed: %s' % (probes + 1, str(e)[:300]))
    attach_ms = _e_attached(t0, compiled, probes)
    calls, matched, sum_ns, hist, deep, fine = b['calls'], b['matched'], b['sum_ns'], b['hist'], b['deep'], b['fine']
    n = len(funcs)
    last = [0] * n
    per_sec = [[] for _ in range(n)]

    def snapshot(elapsed, final=False):
        h = [v.value for v in hist.values()]
        fh = [v.value for v in fine.values()]
        out = []
        for i, f in enumerate(funcs):
            c = calls[calls.Key(i)].value
            per_sec[i].append(int(c - last[i]))
            last[i] = c
            m = matched[matched.Key(i)].value
            d = deep[deep.Key(i)].value
            out.append({'name': f['name'], 'calls': int(c), 'matched': int(m), 'untimedDeep': int(d),
                        'unmatched': int(max(0, c - m - d)), 'sum_ns': int(sum_ns[sum_ns.Key(i)].value),
                        'buckets': _e_buckets(h[i * _E_NSLOTS:(i + 1) * _E_NSLOTS]),
                        'fine': _e_fine(fh[i * _E_NFINE:(i + 1) * _E_NFINE]),
                        'callsPerSecond': list(per_sec[i])})
        return {'functions': out, 'elapsedSec': round(elapsed, 3), 'cycles': 'ns only'}

    res = _e_run(b, pid, duration, snapshot)
    res.update({'pid': pid, 'probes': probes, 'attachMs': attach_ms})
    return res


@subcommand('sched', capability='ebpf-sched')
def cmd_sched(args):
    """go_goroutine_latency. --pid, --duration, --casgstatus (vaddr), --goidOffset, --exeSize."""
    pid = args.pid(require_go=True)
    duration = _e_duration(args)
    exe, segs = _e_exe(args, pid)
    addr = args.raw_value('casgstatus')
    addr = int(addr) if isinstance(addr, str) and addr.isdigit() else addr
    addr = _e_addr(addr, segs, 'runtime.casgstatus')
    goid_off = args.int('goidOffset', 0, 4096)
    args.done()
    t0 = time.time()
    b = _e_bpf(resource('go_goroutine_latency.c'), ['-DTGID=%d' % pid, '-DGOID_OFFSET=%d' % goid_off])
    on_cleanup(b.cleanup)
    compiled = time.time()
    try:
        b.attach_uprobe(name=exe, addr=addr, fn_name='on_casgstatus', pid=pid)
    except Exception as e:
        if not _e_alive(pid):
            fail('pid-gone', 'PID %d exited while the probe was being attached' % pid)
        fail('unsupported', 'attaching the uprobe failed: %s' % str(e)[:300])
    attach_ms = _e_attached(t0, compiled, 1)
    hist, stats, worst, fine = b['hist'], b['stats'], b['worst'], b['fine']

    def snapshot(elapsed, final=False):
        h = [v.value for v in hist.values()]
        w = sorted(((int(v.value), int(k.value)) for k, v in worst.items()), reverse=True)[:10]
        return {'count': int(stats[stats.Key(0)].value), 'sum_ns': int(stats[stats.Key(1)].value),
                'buckets': _e_buckets(h), 'fine': _e_fine([v.value for v in fine.values()]),
                'worst': [{'goid': g, 'wait_ns': ns} for ns, g in w],
                'elapsedSec': round(elapsed, 3)}

    res = _e_run(b, pid, duration, snapshot)
    res.update({'pid': pid, 'probes': 1, 'attachMs': attach_ms})
    return res


@subcommand('syscalls', capability='ebpf-syscalls')
def cmd_syscalls(args):
    """go_syscall_breakdown. --pid, --duration, --stacks (user call sites), --topSites."""
    pid = args.pid()
    duration = _e_duration(args)
    want_stacks = args.bool('stacks', False)
    top_sites = args.int('topSites', 1, 50, default=5)
    args.done()
    cflags = ['-DTGID=%d' % pid]
    if want_stacks:
        cflags.append('-DWANT_STACKS=1')
    t0 = time.time()
    b = _e_bpf(resource('go_syscall_breakdown.c'), cflags)  # TRACEPOINT_PROBEs attach on load
    on_cleanup(b.cleanup)
    attach_ms = _e_attached(t0, time.time(), 2)
    try:
        from bcc.syscall import syscall_name
    except ImportError:
        def syscall_name(nr):
            return b'syscall_%d' % nr
    stats, hist = b['stats'], b['hist']

    def snapshot(elapsed, final=False):
        by_nr = {}
        for k, v in stats.items():
            nr = int(k.value)
            by_nr[nr] = {'nr': nr, 'name': syscall_name(nr).decode('ascii', 'replace'),
                         'count': int(v.count), 'total_ns': int(v.total_ns), 'slots': [0] * _E_NSLOTS}
        for k, v in hist.items():
            e = by_nr.get(int(k.nr))
            if e is not None and k.slot < _E_NSLOTS:
                e['slots'][k.slot] += int(v.value)
        out = []
        for e in sorted(by_nr.values(), key=lambda e: (-e['total_ns'], e['nr'])):
            e['buckets'] = _e_buckets(e.pop('slots'))
            out.append(e)
        if final and want_stacks:
            sites = {}
            st = b['stacks']
            for k, v in b['site_counts'].items():
                if k.stackid < 0:
                    continue
                try:
                    addrs = [int(a) for a in st.walk(k.stackid)]
                except KeyError:
                    continue
                sites.setdefault(int(k.nr), []).append({'addrs': addrs, 'count': int(v.value)})
            for e in out:
                s = sorted(sites.get(e['nr'], []), key=lambda s: -s['count'])[:top_sites]
                if s:
                    e['topSites'] = s
        return {'syscalls': out, 'elapsedSec': round(elapsed, 3)}

    res = _e_run(b, pid, duration, snapshot)
    res.update({'pid': pid, 'probes': 2, 'attachMs': attach_ms})
    return res

# --- profile: a CPU sampler that keeps the word at the user SP (engineer H) -----------------------
# perf's frame-pointer stacks lose the caller of a function sampled where it has no frame (a
# frameless leaf, a prologue, an epilogue). This sampler takes the same user stack (get_stackid
# walks the same frame pointers) plus the word at the user SP, which there is the return address
# into the missing caller; the TypeScript side decides, from the binary's pcsp table, where to use
# it. See go_cpu_profile.c.

_P_STATS = ('samples', 'userStackErrors', 'kernelStackErrors', 'hashFull', 'spUnreadable',
            'kernelModeSamples', 'noUserRegs', 'userStackCollisions', 'periodSum')
_P_STACK_ENTRIES = 16384
_P_COUNT_ENTRIES = 65536
_PERF_TYPE_HARDWARE, _PERF_TYPE_SOFTWARE = 0, 1
_PERF_COUNT_HW_CPU_CYCLES, _PERF_COUNT_SW_CPU_CLOCK = 0, 0


def _p_exec_mappings(pid, exe_ino):
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


def _p_load_bias(pid, exe):
    """runtime address - link-time address of the executable's code (0 unless PIE)."""
    try:
        ino = os.stat(exe).st_ino
        with open(exe, 'rb') as f:
            segs = [s for s in _Elf(f).segments if s['type'] == 1 and s['flags'] & 1]
    except (OSError, ValueError, struct.error) as e:
        fail('pid-gone', 'cannot read the executable of PID %d: %s' % (pid, e))
    for lo, _hi, pgoff in _p_exec_mappings(pid, ino):
        for s in segs:
            if s['off'] - s['off'] % 4096 <= pgoff < s['off'] + s['filesz']:
                return (lo - pgoff) - (s['vaddr'] - s['off'])
    fail('unsupported', 'PID %d has no executable mapping of its own binary' % pid)


@subcommand('profile', capability='ebpf-profile')
def cmd_profile(args):
    """go_cpu_profile. --pid, --duration, --freq, --event auto|cycles|cpu-clock, --textLo/--textHi
    (link-time text range), --kernel, --exeSize."""
    pid = args.pid(require_go=True)
    duration = _e_duration(args)
    freq = args.int('freq', 1, 20000, default=999, what=' Hz')
    requested = args.choice('event', ('auto', 'cycles', 'cpu-clock'), default='auto')
    want_kernel = args.bool('kernel', False)
    exe, segs = _e_exe(args, pid)
    text_lo = _e_addr(args.int('textLo', 1, (1 << 47) - 1), segs, 'textLo')
    text_hi = args.int('textHi', 1, 1 << 47)
    if text_hi <= text_lo:
        fail('bad-argument', '--textHi must be above --textLo')
    args.done()
    bias = _p_load_bias(pid, exe)
    cflags = ['-DTGID=%d' % pid, '-DTEXT_LO=0x%xULL' % (text_lo + bias), '-DTEXT_HI=0x%xULL' % (text_hi + bias),
              '-DSTACK_ENTRIES=%d' % _P_STACK_ENTRIES, '-DCOUNT_ENTRIES=%d' % _P_COUNT_ENTRIES]
    if want_kernel:
        cflags.append('-DWANT_KERNEL=1')
    t0 = time.time()
    b = _e_bpf(resource('go_cpu_profile.c'), cflags)
    on_cleanup(b.cleanup)
    compiled = time.time()
    event, fallback = 'cpu-clock', None
    if requested in ('auto', 'cycles'):
        try:
            b.attach_perf_event(ev_type=_PERF_TYPE_HARDWARE, ev_config=_PERF_COUNT_HW_CPU_CYCLES,
                                fn_name='on_sample', sample_freq=freq)
            event = 'cycles'
        except Exception as e:
            if requested == 'cycles':
                fail('event-unsupported', 'cycles cannot be opened here (no PMU, or it is busy): %s — use --event cpu-clock' % str(e)[:200],
                     'record with --event cpu-clock (or --event auto, which falls back by itself)')
            import ctypes
            err = ctypes.get_errno()  # libbcc is loaded with use_errno: perf_event_open's errno
            fallback = NO_PMU_REASON if err in (2, 95) else 'cycles cannot be opened here (%s)' % (os.strerror(err) if err else str(e)[:200])
    if event == 'cpu-clock':
        try:
            b.attach_perf_event(ev_type=_PERF_TYPE_SOFTWARE, ev_config=_PERF_COUNT_SW_CPU_CLOCK,
                                fn_name='on_sample', sample_freq=freq)
        except Exception as e:
            if not _e_alive(pid):
                fail('pid-gone', 'PID %d exited while the sampler was being attached' % pid)
            fail('unsupported', 'attaching the cpu-clock perf event failed: %s' % str(e)[:300])
    ncpu = len(list(b.open_perf_events.values())[0]) if b.open_perf_events else 0
    attach_ms = _e_attached(t0, compiled, ncpu)
    stats, counts, stacks = b['stats'], b['counts'], b['stacks']
    last = [0]
    per_sec = []

    def stat_values():
        return dict((name, int(sum(stats[stats.Key(i)]))) for i, name in enumerate(_P_STATS))

    def snapshot(elapsed, final=False):
        st = stat_values()
        per_sec.append(st['samples'] - last[0])
        last[0] = st['samples']
        res = {'samples': st['samples'], 'samplesPerSecond': list(per_sec), 'elapsedSec': round(elapsed, 3)}
        if not final:
            return res
        out, walk_failed = [], 0
        for k, v in counts.items():
            e = {'count': int(v.value)}
            if k.ustack >= 0:
                try:
                    e['user'] = [int(a) for a in stacks.walk(k.ustack)]
                except KeyError:
                    walk_failed += int(v.value)
                    e['user'] = []
            else:
                e['user'] = [int(k.ip)] if k.ip else []
                e['userStackError'] = int(k.ustack)
            if k.spword:
                e['spWord'] = int(k.spword)
            if k.kstack >= 0:
                try:
                    e['kernel'] = ['0x%x' % a for a in stacks.walk(k.kstack)]
                except KeyError:
                    pass
            out.append(e)
        res.update({'stacks': out, 'stats': st, 'stackWalkFailed': walk_failed,
                    'distinctKeys': len(out), 'hashCapacity': _P_COUNT_ENTRIES})
        return res

    res = _e_run(b, pid, duration, snapshot)
    res.update({'pid': pid, 'event': event, 'fallbackReason': fallback, 'freqHz': freq, 'cpus': ncpu,
                'loadBias': bias, 'textLo': text_lo, 'textHi': text_hi, 'attachMs': attach_ms,
                'kernelStacks': want_kernel})
    return res

# END eBPF SUBCOMMANDS
# ================================================================================================


# ------------------------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------------------------

def _capabilities():
    return sorted(set(v['capability'] for v in SUBCOMMANDS.values()))


def run(subcommand_name, raw_args, files=None, watch_stdin=False):
    """Runs one subcommand and returns the process exit code."""
    _setup_stdout()
    _start_reaper()
    _install_signal_handlers()
    if files:
        _resources.update(files)
    code = 0
    try:
        emit('hello', protocol=PROTOCOL_VERSION, helper=HELPER_VERSION, subcommand=subcommand_name,
             capabilities=_capabilities(), pid=os.getpid(), root=os.geteuid() == 0,
             python=sys.executable, pythonVersion='%d.%d.%d' % sys.version_info[:3],
             tempDir=private_dir())
        if watch_stdin:
            threading.Thread(target=_watch_stdin, daemon=True).start()
        entry = SUBCOMMANDS.get(subcommand_name)
        if entry is None:
            fail('unknown-subcommand', 'unknown helper subcommand %r (known: %s)' % (subcommand_name, ', '.join(sorted(SUBCOMMANDS))))
        result = entry['fn'](Args(raw_args))
        check_abort()
        run_cleanups()
        emit('result', data=result)
    except HelperError as e:
        code = 2
        try:
            emit('error', code=e.code, message=e.message, hint=e.hint)
        except Aborted:
            pass
    except Aborted:
        code = 3
        try:
            emit('error', code='cancelled', message='stopped (%s)' % (_stop_reason[0] or 'abort'), hint=None)
        except Aborted:
            pass
    except Exception as e:
        code = 70
        try:
            emit('error', code='internal', message='helper bug: %s: %s' % (type(e).__name__, e),
                 hint='please report it with this trace: ' + traceback.format_exc()[-1500:])
        except Aborted:
            pass
    finally:
        run_cleanups()
        _reaper_done()
    return code


def run_envelope(envelope):
    if not isinstance(envelope, dict) or envelope.get('v') != PROTOCOL_VERSION:
        _setup_stdout()
        emit('error', code='bad-argument', message='envelope version mismatch (want %d)' % PROTOCOL_VERSION, hint=None)
        return 2
    return run(str(envelope.get('subcommand')), envelope.get('args') or {}, envelope.get('files') or {}, True)


def _cli_args(argv):
    raw, i = {}, 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith('--'):
            raise SystemExit('unexpected argument %r (use --name value)' % a)
        if '=' in a:
            k, v = a[2:].split('=', 1)
        elif i + 1 < len(argv) and not argv[i + 1].startswith('--'):
            k, v = a[2:], argv[i + 1]
            i += 1
        else:
            k, v = a[2:], 'true'
        raw[k] = v
        i += 1
    return raw


if __name__ == '__go_perf_lens__':
    _code = run_envelope(globals().get('ENVELOPE'))
    # Leave without interpreter finalization: the stdin watcher (a daemon thread) sits in
    # readline() holding stdin's buffer lock, and finalization waits a whole second for that
    # lock before giving up — a second added to every helper call. Cleanups have run already
    # (run's finally), protocol output is unbuffered; only stderr may hold text.
    try:
        sys.stderr.flush()
    finally:
        os._exit(_code)
elif __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] in ('-h', '--help'):
        sys.stderr.write('usage: helper.py SUBCOMMAND [--name value ...]\n')
        sys.exit(2)
    sys.exit(run(sys.argv[1], _cli_args(sys.argv[2:])))
