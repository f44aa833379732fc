"""Entry points: run one subcommand (run), a JSON envelope sent over stdin (run_envelope), or a
command line (cli_main: `sudo python3 -I bpf/helper.py record --pid 123 --duration 2`)."""

import os
import sys
import threading
import traceback

from . import authz, resources
from .versions import HELPER_VERSION, PROTOCOL_VERSION
from .args import Args
from .lifecycle import install_signal_handlers, private_dir, reaper_done, run_cleanups, start_reaper, watch_stdin
from .protocol import Aborted, HelperError, check_abort, emit, fail, setup_stdout, stop_reason
from .registry import SUBCOMMANDS
# Importing a subcommand module registers it.
from . import probe, processes, binary, perf_record, tracer, sched, syscalls, cpu_profile, allocs, blocking

SUBCOMMAND_MODULES = (probe, processes, binary, perf_record, tracer, sched, syscalls, cpu_profile, allocs, blocking)


def capabilities():
    return sorted(set(v['capability'] for v in SUBCOMMANDS.values()))


def run(subcommand_name, raw_args, files=None, watch_input=False):
    """Runs one subcommand and returns the process exit code."""
    setup_stdout()
    start_reaper()
    install_signal_handlers()
    if files:
        resources.provide(files)
    code = 0
    try:
        emit('hello', protocol=PROTOCOL_VERSION, helper=HELPER_VERSION, subcommand=subcommand_name,
             capabilities=capabilities(), pid=os.getpid(), root=os.geteuid() == 0,
             python=sys.executable, pythonVersion='%d.%d.%d' % sys.version_info[:3],
             tempDir=private_dir(), caller=authz.caller().describe())
        if watch_input:
            threading.Thread(target=watch_stdin, daemon=True).start()
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
            emit('error', code='cancelled', message='stopped (%s)' % (stop_reason() or 'abort'), hint=None)
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
        reaper_done()
    return code


def run_envelope(envelope):
    """The ephemeral mode (the package sent over stdin), which the client uses only where it runs
    as root already: the caller is root."""
    from .serve import isolate
    authz.identify(isolate(), installed=False)
    if not isinstance(envelope, dict) or envelope.get('v') != PROTOCOL_VERSION:
        setup_stdout()
        emit('error', code='bad-argument', message='envelope version mismatch (want %d)' % PROTOCOL_VERSION, hint=None)
        return 2
    return run(str(envelope.get('subcommand')), envelope.get('args') or {}, envelope.get('files') or {}, True)


def cli_args(argv):
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


def cli_main(argv):
    """`helper.py serve` (the installed helper, see serve.py), or `helper.py SUBCOMMAND --name
    value ...` run by hand (as root, or as a user on their own processes)."""
    if argv == ['serve']:
        from .serve import serve
        return serve()
    if len(argv) < 1 or argv[0] in ('-h', '--help'):
        sys.stderr.write('usage: helper.py serve | helper.py SUBCOMMAND [--name value ...]\n')
        return 2
    return run(argv[0], cli_args(argv[1:]))


def exit_now(code):
    """Leaves without interpreter finalization: the stdin watcher (a daemon thread) sits in
    readline() holding stdin's buffer lock, and finalization waits a whole second for that lock
    before giving up — a second added to every helper call. Cleanups have run already (run's
    finally), protocol output is unbuffered; only stderr may hold text."""
    try:
        sys.stderr.flush()
    finally:
        os._exit(code)
