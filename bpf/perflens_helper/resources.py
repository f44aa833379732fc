"""Files the helper reads besides its code: the BPF C sources and headers (bpf/*.c, *.h) and
error_codes.json. They come from the envelope when the helper was sent over stdin, else from
beside the package (the installed copy, or the repository's bpf/)."""

import os

_sent = {}
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) if '__file__' in globals() else None


def provide(files):
    """Resource files sent in the envelope, by base name."""
    _sent.update(files)


def read(name):
    """The text of resource `name` (a base name); raises LookupError when there is none."""
    if name in _sent:
        return _sent[name]
    if _PACKAGE_DIR and os.path.basename(name) == name:
        for d in (_PACKAGE_DIR, os.path.dirname(_PACKAGE_DIR)):
            p = os.path.join(d, name)
            if os.path.isfile(p):
                with open(p, 'r', encoding='utf-8') as f:
                    return f.read()
    raise LookupError('resource %r was not sent to the helper' % name)


def resource(name):
    """read(), failing with the helper's `internal` error."""
    try:
        return read(name)
    except LookupError as e:
        from .protocol import fail
        fail('internal', str(e))
