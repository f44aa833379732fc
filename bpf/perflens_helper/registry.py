"""The subcommand table: each subcommand module registers fn(args: Args) -> result dict."""


SUBCOMMANDS = {}


def subcommand(name, capability=None):
    """Registers fn(args: Args) -> result dict under `name`; `capability` names it in hello."""
    def deco(fn):
        SUBCOMMANDS[name] = {'fn': fn, 'capability': capability or name}
        return fn
    return deco

