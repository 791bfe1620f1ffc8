"""Output files of a command, written so that none is ever lost, replaced or half-written.

Every file (``--out``, ``--plot``, ``--phase-plot``) is checked before any work: a non-empty name,
distinct paths, none of them an input of the command (the game's definition file), a writable
place (a temporary file is created there up front, so ``/proc/x`` or a read-only folder is refused
before the computation, not after it), and for plots a file name whose suffix names the format.

*Regular files* (new or existing) are written to a temporary file beside the target and renamed
into place with ``os.replace`` only when the whole command has succeeded; all renames happen
together under :func:`certify.cli._signals.committing`. A failed run (an error while plotting, a
full disk, an interrupt) removes its temporaries and leaves every previous file as it was.

*Existing files that are not regular files* (``/dev/null``, ``/dev/stdout`` -- the command's own
stdout --, a terminal, a named pipe) are never replaced: they are opened for writing up front (a
pipe without a reader is refused, not waited for) and written through at commit time, as ``cp`` or a shell redirection
would (``/dev/full`` then reports "No space left on device", exit 2). Directories are refused.

Each committed output is confirmed with one line ``wrote OPTION PATH`` on stderr (:meth:`Outputs.announce`).

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
import errno
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable

from certify.cli._args import UsageError
from certify.cli._signals import committing, creating_temp, discard_temp, register_temp

PLOT_OPTIONS = ("--plot", "--phase-plot")
"""Options whose file is a figure (its suffix picks the format)."""
PLOT_FORMATS = ("png", "pdf", "svg", "svgz", "eps", "ps", "jpg", "jpeg", "tif", "tiff", "webp", "pgf")
"""Figure formats matplotlib writes without extra packages."""
STDOUT_NAMES = ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")
"""Names of the command's own standard output (written through, like a device)."""
DEFAULT_PLOT_FORMAT = "png"
"""Format of a figure written through to a device or pipe (which has no suffix)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


class _Target:
    """One output: where it goes, how it is written (``replace`` a regular file or ``through`` a device)."""

    def __init__(self, option: str, path: str):
        self.option, self.path = option, path
        self.fd: int | None = None  # ``through``: the device or pipe, opened up front
        self.tmp: str | None = None  # the staged file
        if path in STDOUT_NAMES:  # our standard output (the console script keeps it off descriptor 1)
            self.through, self.fd = True, os.dup(sys.stdout.fileno())
            return
        try:
            st = os.stat(path)
        except FileNotFoundError:
            st = None
        except OSError as err:
            raise self.refused(_reason(err)) from None
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise self.refused("it is a directory")
        self.through = st is not None and not stat.S_ISREG(st.st_mode)
        if self.through:
            self._open_through(st)
        else:
            self._reserve_beside(st)

    def refused(self, why: str) -> UsageError:
        return UsageError(f"cannot write {self.option} {self.path}: {why}")

    @property
    def suffix(self) -> str:
        ext = os.path.splitext(self.path)[1].lower()
        return ext if not self.through and ext else f".{DEFAULT_PLOT_FORMAT}" if self.option in PLOT_OPTIONS else ext

    def _open_through(self, st) -> None:
        flags = os.O_WRONLY | (os.O_NONBLOCK if stat.S_ISFIFO(st.st_mode) else 0)
        try:
            self.fd = os.open(self.path, flags)
        except OSError as err:
            why = "a named pipe with no reader" if err.errno == errno.ENXIO else _reason(err)
            raise self.refused(why) from None
        if stat.S_ISFIFO(st.st_mode):
            os.set_blocking(self.fd, True)

    def _reserve_beside(self, st) -> None:
        """Creates the temporary file now: the place is proven writable before any work."""
        if st is not None and not os.access(self.path, os.W_OK):
            raise self.refused("permission denied (the existing file is read-only)")
        folder, name = os.path.split(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise self.refused(f"no such directory {folder}")
        stem = os.path.splitext(name)[0]
        with creating_temp():  # an interrupt in between would leave the file behind
            try:
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{stem}.tmp-", suffix=self.suffix)
            except OSError as err:
                raise self.refused(_reason(err)) from None
            self.tmp = tmp
            register_temp(tmp)
        os.close(fd)

    def scratch(self) -> str:
        """A fresh path to write the output to (beside the target, or in a private folder for devices)."""
        if self.through:
            with creating_temp():
                folder = tempfile.mkdtemp(prefix="sgn-out-")
                register_temp(folder)
                self.tmp = os.path.join(folder, "output" + self.suffix)
                register_temp(self.tmp)
        return self.tmp

    def clear(self) -> None:
        """Removes the staged file (and a device output's private folder)."""
        if self.tmp is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)
        if self.through:
            with contextlib.suppress(OSError):
                os.rmdir(os.path.dirname(self.tmp))
            discard_temp(os.path.dirname(self.tmp))
        discard_temp(self.tmp)
        self.tmp = None

    def close(self) -> None:
        self.clear()
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None


class Outputs:
    """The files one command writes, keyed by option (``{"--out": path, "--plot": None, ...}``).

    Args:
      targets: option -> path (``None`` when the option was not given).
      inputs: files the command reads (e.g. the game's definition); no output may name one.

    Raises:
      UsageError: an empty name, two options naming one file, an output naming an input, a plot
        without a known format suffix, a directory, a missing or unwritable folder, a pipe with
        no reader (all checked up front, before any computation).
    """

    def __init__(self, targets: dict, inputs: Iterable[str] = ()):
        self._targets: dict[str, _Target] = {}
        self._staged: set[str] = set()
        self._written: list[_Target] = []
        try:
            for opt, path in targets.items():
                if path is None:
                    continue
                self._check_name(opt, path)
                for other in self._targets.values():
                    if _same_file(other.path, path):
                        raise UsageError(f"expected different files for {other.option} and {opt}, got {path!r} "
                                         "for both")
                self._targets[opt] = _Target(opt, path)
            self.check_inputs(inputs)
        except BaseException:
            self.discard()
            raise

    @staticmethod
    def _check_name(opt: str, path: str) -> None:
        if not path.strip():
            raise UsageError(f"expected a file name for {opt}, got {path!r}")
        if opt in PLOT_OPTIONS and (not os.path.exists(path) or os.path.isfile(path)):
            ext = os.path.splitext(path)[1].lower().lstrip(".")
            if ext not in PLOT_FORMATS:
                raise UsageError(f"expected {opt} FILE ending in a figure format ({', '.join(PLOT_FORMATS)}), "
                                 f"got {path!r}")

    def check_inputs(self, inputs: Iterable[str]) -> None:
        """Refuses an output that names one of ``inputs`` (the game's own file, a certificate read)."""
        for source in inputs:
            if not source:
                continue
            for target in self._targets.values():
                if _same_file(target.path, source):
                    self.discard()
                    raise UsageError(f"cannot write {target.option} {target.path}: it is an input of this command "
                                     "(the game's definition); choose another file")

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, *exc) -> None:
        self.discard()

    def wants(self, option: str) -> bool:
        """True when the command was asked to write ``option``."""
        return option in self._targets

    def stage(self, option: str, write: Callable[[str], None]) -> None:
        """Calls ``write(path)`` for the file of ``option``; a failure leaves nothing behind.

        Errors name the option and its target, never the temporary file.
        """
        target = self._targets[option]
        tmp = target.scratch()
        try:
            write(tmp)
        except (OSError, ValueError) as err:
            target.clear()
            detail = (getattr(err, "strerror", None) or str(err)).replace(tmp, target.path)
            raise UsageError(f"cannot write {option} {target.path}: {detail}") from None
        except BaseException:
            target.clear()
            raise
        self._staged.add(option)

    def stage_text(self, option: str, text: str) -> None:
        """Stages ``text`` (UTF-8) as the file of ``option``."""

        def write(path):
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())

        self.stage(option, write)

    def commit(self) -> None:
        """Puts every staged file in place (keeping an existing file's permissions); see :meth:`announce`.

        Raises:
          UsageError: a device refused the bytes (e.g. ``/dev/full``: no space left).
        """
        mode = 0o666 & ~_umask()
        with committing():
            staged = [self._targets[o] for o in self._targets if o in self._staged]
            for target in sorted(staged, key=lambda t: not t.through):  # devices first: one may refuse
                if target.through:
                    self._write_through(target)
                else:
                    try:
                        keep = os.stat(target.path).st_mode & 0o7777
                    except OSError:
                        keep = mode
                    os.chmod(target.tmp, keep)
                    os.replace(target.tmp, target.path)
                    discard_temp(target.tmp)
                    target.tmp = None
            self._written = [t for t in self._targets.values() if t in staged]
            self._staged.clear()

    def announce(self) -> None:
        """One line ``wrote OPTION PATH`` on stderr for each committed output (after the report)."""
        for target in self._written:
            print(f"wrote {target.option} {target.path}", file=sys.stderr)

    @staticmethod
    def _write_through(target: _Target) -> None:
        try:
            with open(target.tmp, "rb") as src, open(target.fd, "wb", closefd=False) as dst:
                shutil.copyfileobj(src, dst)
        except OSError as err:
            raise UsageError(f"cannot write {target.option} {target.path}: {_reason(err)}") from None
        finally:
            target.clear()

    def discard(self) -> None:
        """Removes the temporaries of files not committed and closes opened devices."""
        for target in self._targets.values():
            target.close()
        self._staged.clear()
