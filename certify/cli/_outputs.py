"""Output files of a command, written so that none is ever lost or half-written.

Every file (``--out``, ``--plot``, ``--phase-plot``) is checked before any work (distinct paths,
an existing writable folder), written to a temporary file beside its target, and renamed into place
with ``os.replace`` only when the whole command has succeeded; all renames happen together under
:func:`certify.cli._signals.committing`. A failed run (an error while plotting, a full disk, an
interrupt) removes its temporaries and leaves every previous file as it was.

Examples:
  >>> import pathlib, tempfile
  >>> folder = pathlib.Path(tempfile.mkdtemp())
  >>> with Outputs({"--out": str(folder / "c.json")}) as out:
  ...     out.stage_text("--out", "{}")
  ...     out.commit()
  >>> (folder / "c.json").read_text(), sorted(p.name for p in folder.iterdir())
  ('{}', ['c.json'])
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable

from certify.cli._args import UsageError
from certify.cli._signals import committing, discard_temp, register_temp


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class Outputs:
    """The files one command writes, keyed by option (``{"--out": path, "--plot": None, ...}``).

    Raises:
      UsageError: two options naming one file, a missing folder, a directory or an unwritable
        folder as target (checked up front, before any computation).
    """

    def __init__(self, targets: dict):
        self._targets = {opt: path for opt, path in targets.items() if path}
        seen = {}
        for opt, path in self._targets.items():
            key = os.path.realpath(path)
            if key in seen:
                raise UsageError(f"expected different files for {seen[key]} and {opt}, got {path!r} for both")
            seen[key] = opt
            folder = os.path.dirname(os.path.abspath(path))
            if os.path.isdir(path):
                raise UsageError(f"cannot write {opt} {path}: it is a directory")
            if not os.path.isdir(folder):
                raise UsageError(f"cannot write {opt} {path}: no such directory {folder}")
            if not os.access(folder, os.W_OK | os.X_OK):
                raise UsageError(f"cannot write {opt} {path}: permission denied")
        self._staged: dict[str, str] = {}

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, *exc) -> None:
        self.discard()

    def wants(self, option: str) -> bool:
        """True when the command was asked to write ``option``."""
        return option in self._targets

    def stage(self, option: str, write: Callable[[str], None]) -> None:
        """Calls ``write(temporary_path)`` for the file of ``option``; a failure leaves nothing behind."""
        target = self._targets[option]
        folder, name = os.path.split(os.path.abspath(target))
        stem, ext = os.path.splitext(name)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{stem}.tmp-", suffix=ext)  # ext: plots infer the format
        register_temp(tmp)
        os.close(fd)
        try:
            write(tmp)
        except (OSError, ValueError) as err:
            self._remove(tmp)
            raise UsageError(f"cannot write {option} {target}: {getattr(err, 'strerror', None) or err}") from None
        except BaseException:
            self._remove(tmp)
            raise
        self._staged[option] = tmp

    def stage_text(self, option: str, text: str) -> None:
        """Stages ``text`` (UTF-8) as the file of ``option``."""

        def write(path):
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())

        self.stage(option, write)

    def commit(self) -> None:
        """Renames every staged file into place (keeping an existing file's permissions)."""
        mode = 0o666 & ~_umask()
        with committing():
            for option, tmp in self._staged.items():
                target = self._targets[option]
                try:
                    keep = os.stat(target).st_mode & 0o7777
                except OSError:
                    keep = mode
                os.chmod(tmp, keep)
                os.replace(tmp, target)
                discard_temp(tmp)
            self._staged.clear()

    def discard(self) -> None:
        """Removes the temporaries of files not committed."""
        for tmp in self._staged.values():
            self._remove(tmp)
        self._staged.clear()

    @staticmethod
    def _remove(tmp: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        discard_temp(tmp)
