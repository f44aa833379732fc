#!/usr/bin/env python3
"""go-perf-lens privileged helper: the command-line entry point of the perflens_helper package
(beside this file). Installed (go-perf-lens install-helper), its sudoers rule allows exactly
`/usr/bin/python3 -I /usr/local/lib/go-perf-lens/helper/helper.py serve` (see serve.py). By hand,
for debugging: `sudo python3 -I bpf/helper.py record --pid 123 --duration 2`.

With -I, Python puts neither the working directory nor this file's directory on sys.path, so the
package is added here by its real location: nothing from the caller's directory is imported."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from perflens_helper.main import cli_main, exit_now  # noqa: E402

if __name__ == '__main__':
    exit_now(cli_main(sys.argv[1:]))
