"""Entry point of the ``sgn`` console script: Ctrl-C is handled from the first instruction on.

Importing :mod:`certify` (JAX) takes seconds; a Ctrl-C meanwhile would print a traceback. So this
module, which imports nothing heavy, blocks SIGINT first (every thread started later inherits the
block) and only then imports the command line, whose :func:`certify.cli.run` waits for the
signal in one thread and exits with code 130 (:mod:`certify.cli._signals`).
"""

import signal
import sys


def main() -> int:
    """Runs ``sgn`` with SIGINT blocked until the command line's own handling is installed."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        from certify.cli import run  # the heavy import, after the block
    except ImportError as err:
        print(f"sgn: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    return run()


if __name__ == "__main__":
    sys.exit(main())
