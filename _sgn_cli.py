"""Entry point of the ``sgn`` console script: Ctrl-C is handled from the first instruction on.

Importing :mod:`certify` (JAX) takes seconds; a Ctrl-C meanwhile would print a traceback. So this
module, which imports nothing heavy, blocks SIGINT first (every thread started later inherits the
block) and only then imports the command line, whose :func:`certify.cli.run` waits for the
signal in one thread and exits with code 130 (:mod:`certify.cli._signals`). Before that heavy import,
the working folder is taken off ``sys.path`` (:func:`certify._shadowing.protect_launch`): a
``numpy.py`` or ``games.py`` there is never imported in place of a dependency.
"""

import os
import signal
import sys


def main() -> int:
    """Runs ``sgn`` with SIGINT blocked until the command line's own handling is installed."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    cwd = os.path.realpath(os.getcwd())  # before `certify` is imported: nothing of the working folder loads
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != cwd]
    try:
        from certify._shadowing import protect_launch

        protect_launch()  # checks that sgn, games and policy are ours
        from certify.cli import run  # the heavy import, after the block and the guard
    except ImportError as err:
        print(f"sgn: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    return run()


if __name__ == "__main__":
    sys.exit(main())
