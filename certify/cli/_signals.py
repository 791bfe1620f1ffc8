"""Ctrl-C for the ``sgn`` command: exit 130 at any moment, one line, no traceback, no file changed.

A ``KeyboardInterrupt`` raised wherever the main thread happens to be (inside a JAX callback or
compile, during interpreter teardown) can leave XLA half-way and crash the process. So the console
script blocks SIGINT before anything heavy is imported (``_sgn_cli``), and :func:`install` waits
for it in one small thread (every later thread inherits the blocked mask). On Ctrl-C that thread
removes the temporary files of unfinished outputs, prints ``sgn: interrupted`` and ends the process
with ``os._exit(130)``: no exception unwinds through native code, and no teardown runs.

Outputs are renamed into place under :func:`committing`, which holds the same lock: an interrupt
comes either before the renames (no file changed; exit 130) or after them (the run is complete and
ends normally). Where signals cannot be blocked (Windows), a Python-level handler does the same.

Examples:
  >>> with committing():
  ...     pass
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

EXIT_INTERRUPTED = 130
"""Exit code of an interrupted run (128 + SIGINT)."""
_LOCK = threading.RLock()
_TEMPS: set[str] = set()
_STATE = {"committed": False, "creating": 0, "pending": False}


def register_temp(path: str) -> None:
    """Marks ``path`` as a temporary file (or empty private folder) to remove if the run is interrupted."""
    with _LOCK:
        _TEMPS.add(path)


def discard_temp(path: str) -> None:
    """Forgets a temporary file or folder (renamed into place or removed)."""
    with _LOCK:
        _TEMPS.discard(path)


@contextlib.contextmanager
def creating_temp():
    """Holds off interrupts while a temporary file is created and registered: none is left behind.

    An interrupt arriving meanwhile waits for the block to end and then removes what it registered:
    the waiting thread waits on the lock, and the Python-level handler (which runs in the thread
    holding it) only marks the interrupt pending for the end of the block.

    Examples:
      >>> with creating_temp():
      ...     pass
    """
    with _LOCK:
        _STATE["creating"] += 1
        try:
            yield
        finally:
            _STATE["creating"] -= 1
        if _STATE["pending"] and not _STATE["creating"]:
            interrupt()


@contextlib.contextmanager
def committing():
    """Holds off interrupts while the staged outputs are renamed; after it the run counts as complete."""
    with _LOCK:
        _STATE["committed"] = True
        yield


def interrupt() -> None:
    """Ends the process now with exit code 130, unless the outputs were already committed."""
    with _LOCK:
        if _STATE["committed"]:
            return
        if _STATE["creating"]:  # the handler runs inside creating_temp in this thread: finish it first
            _STATE["pending"] = True
            return
        for path in sorted(_TEMPS, key=len, reverse=True):  # files before the private folders that hold them
            with contextlib.suppress(OSError):
                if os.path.isdir(path):
                    os.rmdir(path)
                else:
                    os.unlink(path)
        prefix = b"\n" if _isatty(sys.stderr) else b""
        with contextlib.suppress(OSError):
            err = os.dup(2)
            _silence_standard_streams()  # the main thread may still print: its lines go nowhere now
            os.write(err, prefix + b"sgn: interrupted\n")
        os._exit(EXIT_INTERRUPTED)


def _silence_standard_streams() -> None:
    """Points file descriptors 1 and 2 (and ``sys.stdout``'s) at the null device: the interrupt line stays last."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    with contextlib.suppress(AttributeError, OSError, ValueError):  # the CLI's own stdout (see _main.run)
        if sys.stdout.fileno() not in (1, 2):
            os.dup2(null, sys.stdout.fileno())


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _wait() -> None:
    while True:
        signal.sigwait({signal.SIGINT})
        interrupt()


def install() -> None:
    """Routes SIGINT to :func:`interrupt` for the rest of the process (the console script calls it)."""
    _STATE.update(committed=False, creating=0, pending=False)
    signal.signal(signal.SIGINT, lambda signum, frame: interrupt())
    if hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread():
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        threading.Thread(target=_wait, name="sgn-sigint", daemon=True).start()
