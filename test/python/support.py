"""Shared by the helper's Python tests: capturing protocol messages, temp dirs, real Go processes,
real unprivileged users."""

import atexit
import glob
import io
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid

from perflens_helper import protocol


class Messages(object):
    """Captures what protocol.emit writes, as parsed messages."""

    def __enter__(self):
        self.buf = io.BytesIO()
        self.saved = protocol._out
        protocol._out = self.buf
        return self

    def __exit__(self, *exc):
        protocol._out = self.saved

    def all(self):
        return [json.loads(l) for l in self.buf.getvalue().decode('utf-8').splitlines()]


def temp_dir(test):
    d = tempfile.mkdtemp(prefix='gpl-pytest-')
    test.addCleanup(shutil.rmtree, d, True)
    return d


def bpf_dir():
    import perflens_helper
    return os.path.dirname(os.path.dirname(os.path.realpath(perflens_helper.__file__)))


def needs_root(test):
    """Skips (a visible reason; the mocha wrapper reports a skip as a failure) unless root: CI is."""
    if os.geteuid() != 0:
        test.skipTest('needs root (CI runs as root)')


GO_TOOLS = sorted(glob.glob('/usr/lib/go-1.*/bin/gofmt'))


def newest_gofmt():
    """A real Go program from the newest Go toolchain (scripts/setup.sh installs them)."""
    if not GO_TOOLS:
        raise AssertionError('no Go toolchain under /usr/lib/go-1.* (scripts/setup.sh installs them)')
    return GO_TOOLS[-1]


def go_tool(binary):
    """The `go` command of the toolchain a /usr/lib/go-1.N/bin binary came with."""
    return os.path.join(os.path.dirname(binary), 'go')


def wait_for(cond, what, timeout=60.0):
    """Polls cond() until it is true; fails the test with `what` after timeout seconds."""
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise AssertionError('timed out after %d s waiting for %s' % (timeout, what))
        time.sleep(0.02)


def start_process(test, argv, user=None):
    """Starts argv (idle: it waits on its stdin) as root or as `user` (a TestUser); it is killed
    at the test's end. Returns the Popen once it runs argv[0] (wait_running)."""
    kw = {}
    if user is not None:
        kw = {'user': user.uid, 'group': user.gid, 'extra_groups': []}
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd='/', **kw)

    def stop():
        p.kill()
        p.wait()
        p.stdin.close()
    test.addCleanup(stop)

    wait_running(p.pid, argv[0])
    return p


def wait_running(pid, path):
    """Waits until PID runs the program at path: exec'd, and its code mapped (/proc/PID/exe names
    the new program before the kernel has mapped it)."""
    path = os.path.realpath(path)

    def mapped():
        try:
            if os.readlink('/proc/%d/exe' % pid) != path:
                return False
            with open('/proc/%d/maps' % pid) as f:
                return any(line.split()[1].startswith('r-x') and line.rstrip('\n').endswith(' ' + path) for line in f)
        except (OSError, IndexError):
            return False
    wait_for(mapped, 'PID %d to run %s' % (pid, path))


class TestUser(object):
    """A real unprivileged account (no home, no login shell) created for one test and removed at
    its end [root, useradd]."""

    def __init__(self, test):
        self.name = 'gplpy%s' % uuid.uuid4().hex[:10]
        subprocess.check_call(['/usr/sbin/useradd', '-M', '-U', '-s', '/usr/sbin/nologin', self.name])
        test.addCleanup(self._remove)
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid

    def _remove(self):
        subprocess.call(['/usr/sbin/userdel', self.name], stderr=subprocess.DEVNULL)
        subprocess.call(['/usr/sbin/groupdel', self.name], stderr=subprocess.DEVNULL)


def run_as_user(test, user, code):
    """Runs Python `code` (which prints one JSON value) as `user`, with no privilege, importing a
    copy of the helper package the user can read; returns the printed value."""
    d = temp_dir(test)
    os.chmod(d, 0o755)
    shutil.copytree(os.path.join(bpf_dir(), 'perflens_helper'), os.path.join(d, 'perflens_helper'),
                    ignore=shutil.ignore_patterns('__pycache__'))
    p = subprocess.run(['/usr/bin/python3', '-I', '-c', 'import sys; sys.path.insert(0, %r)\n%s' % (d, code)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd='/', user=user.uid, group=user.gid,
                       extra_groups=[], timeout=60)
    test.assertEqual(p.returncode, 0, p.stderr)
    return json.loads(p.stdout)


class TestGroup(object):
    """A system group created for one test and removed at its end [root, groupadd]."""

    def __init__(self, test, members=()):
        self.name = 'gplpyg%s' % uuid.uuid4().hex[:10]
        subprocess.check_call(['/usr/sbin/groupadd', self.name])
        test.addCleanup(subprocess.call, ['/usr/sbin/groupdel', self.name], stderr=subprocess.DEVNULL)
        for m in members:
            subprocess.check_call(['/usr/sbin/usermod', '-aG', self.name, m.name])


_built = {}


def build_go(source, go=None):
    """Builds a one-file Go program (main package) with the newest Go, once per test run, and
    returns the binary's path [go]. The Go build cache is the one the TypeScript fixtures use
    (content-addressed, so a stale entry cannot be picked up); the binary lives in a folder of
    this run, removed at exit."""
    go = go or go_tool(newest_gofmt())
    key = (go, source)
    if key not in _built:
        d = tempfile.mkdtemp(prefix='gpl-pytest-go-')
        atexit.register(shutil.rmtree, d, True)
        with open(os.path.join(d, 'main.go'), 'w') as f:
            f.write(source)
        version = os.path.basename(os.path.dirname(os.path.dirname(go)))[len('go-'):]
        cache = os.path.join(tempfile.gettempdir(), 'go-perf-lens-fixtures')
        env = dict(os.environ, GOTOOLCHAIN='local', GOPROXY='off', GO111MODULE='off', CGO_ENABLED='0', HOME=d,
                   GOCACHE=os.path.join(cache, 'gocache', version), GOPATH=os.path.join(cache, 'gopath'))
        subprocess.check_call([go, 'build', '-o', 'prog', 'main.go'], cwd=d, env=env, stdout=subprocess.DEVNULL)
        os.chmod(d, 0o755)
        _built[key] = os.path.join(d, 'prog')
    return _built[key]


# A Go program that calls main.work once per line it reads on stdin, prints "did N" after each,
# and exits at the end of its input. It refers to runtime.MemProfile, so the linker leaves memory
# profiling on (runtime.MemProfileRate keeps its default, 512 KiB).
LINE_WORKER = '''package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
)

var sink int

//go:noinline
func work(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i
	}
	if s%7 == 3 {
		return -s
	}
	return s
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "memprofile" {
		var recs []runtime.MemProfileRecord
		n, _ := runtime.MemProfile(recs, true)
		fmt.Println("records", n)
	}
	in := bufio.NewScanner(os.Stdin)
	n := 0
	for in.Scan() {
		sink += work(len(in.Text()) * 1000)
		n++
		fmt.Println("did", n)
	}
}
'''


def go_nm(binary):
    """{name: (address, size)} of the text symbols, as `go tool nm -size` lists them [go]."""
    out = subprocess.check_output([go_tool(newest_gofmt()), 'tool', 'nm', '-size', binary]).decode()
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in ('T', 't'):
            syms[parts[3]] = (int(parts[0], 16), int(parts[1]))
    return syms


def go_objdump_all(binary, pattern):
    """{function: [(address, instruction bytes, text)]} of the functions whose names match the
    regular expression, as `go tool objdump` decodes them [go]."""
    import re
    out = subprocess.check_output([go_tool(newest_gofmt()), 'tool', 'objdump', '-s', pattern, binary]).decode()
    funcs, insns = {}, None
    for line in out.splitlines():
        if line.startswith('TEXT '):
            insns = funcs.setdefault(re.sub(r'\(SB\)$', '', line.split()[1]), [])
            continue
        m = re.match(r'\s+\S+:\d+\s+0x([0-9a-f]+)\s+([0-9a-f]+)\s+(.*)', line)
        if m and insns is not None:
            insns.append((int(m.group(1), 16), bytes.fromhex(m.group(2)), m.group(3).strip()))
    return funcs


def go_objdump(binary, func):
    """[(address, instruction bytes, text)] of one function, as `go tool objdump` decodes it [go]."""
    import re
    funcs = go_objdump_all(binary, '^%s$' % re.escape(func))
    return next(iter(funcs.values())) if funcs else []


def go_symbols(binary):
    """{name: (address, size, type)} of every symbol, as `go tool nm -size` lists them [go]."""
    out = subprocess.check_output([go_tool(newest_gofmt()), 'tool', 'nm', '-size', binary]).decode()
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            syms[parts[3]] = (int(parts[0], 16), int(parts[1]), parts[2])
    return syms


class Compiled(Exception):
    """Raised in place of compiling the BPF program: the arguments passed every check."""


class ProbeArgsTest(object):
    """A mixin for the tests of an eBPF subcommand's checks: a running LINE_WORKER program (root's
    own process, the caller root or the user), its symbols, and checked()."""

    module = None  # the subcommand's module
    command = None  # its cmd_ function's name

    @classmethod
    def setUpClass(cls):
        cls.binary = build_go(LINE_WORKER)
        cls.syms = go_symbols(cls.binary)
        cls.build_id = subprocess.check_output([go_tool(newest_gofmt()), 'tool', 'buildid', cls.binary]).decode().strip()

    def setUp(self):
        from perflens_helper import authz, lifecycle
        authz._caller[0] = authz.Caller(os.getuid(), 'root' if os.geteuid() == 0 else 'user')
        self.addCleanup(authz._caller.__setitem__, 0, None)
        self.addCleanup(lifecycle.run_cleanups)
        self.proc = start_process(self, [self.binary])

    def entry_of(self, name):
        """The first instruction after the function's stack check (where the client probes)."""
        insns = go_objdump(self.binary, name)
        for i, (_, _, text) in enumerate(insns[:6]):
            if text.startswith('JBE') or text.startswith('JLS'):
                return insns[i + 1][0]
        return insns[0][0]

    def inside_of(self, name):
        """An address inside (not at the start of) one of the function's instructions."""
        for addr, code, _ in go_objdump(self.binary, name):
            if len(code) > 1:
                return addr + 1
        raise AssertionError('%s has only one-byte instructions' % name)

    def checked(self, args):
        """'ok' when every check passed (compile_bpf was reached), else (code, message)."""
        from perflens_helper.args import Args
        from perflens_helper.protocol import HelperError

        def compiled(*a, **kw):
            raise Compiled()
        saved = self.module.compile_bpf
        self.module.compile_bpf = compiled
        try:
            getattr(self.module, self.command)(Args(dict({'pid': self.proc.pid, 'duration': 5}, **args)))
        except Compiled:
            return 'ok'
        except HelperError as e:
            return e.code, e.message
        finally:
            self.module.compile_bpf = saved
        raise AssertionError('neither refused nor compiled')
