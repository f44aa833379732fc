"""Runs the helper package sent in an envelope (the ephemeral mode: nothing installed on the
target). LOADER (src/capture/launchPlan.ts) executes this text with ENVELOPE = {"v", "subcommand",
"args", "files", "modules"}: "modules" maps each module of perflens_helper to its source. They are
imported from memory by the finder below, never from the file system."""

import importlib.abc
import importlib.util
import sys


class _EnvelopeModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, sources):
        self.sources = sources

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.sources:
            return None
        return importlib.util.spec_from_loader(fullname, self, is_package=fullname == 'perflens_helper')

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        name = module.__name__
        exec(compile(self.sources[name], '<%s>' % name, 'exec'), module.__dict__)


def _main(envelope):
    sys.meta_path.insert(0, _EnvelopeModules(envelope.pop('modules', None) or {}))
    from perflens_helper import resources
    resources.provide(envelope.get('files') or {})
    from perflens_helper import main
    main.exit_now(main.run_envelope(envelope))


_main(ENVELOPE)  # noqa: F821 (given by LOADER)
