"""Progress on stderr (tqdm, imported lazily): one bar per run, whichever loop reports to it.

A command opens the run's bar with :func:`run_bar`; it shows the elapsed time (refreshed by a
small thread, so a long compile or solve still shows life) and appears only after ``DELAY``
seconds, so quick runs print nothing. Loops inside the library report through :func:`track`
(an iterable) or :func:`ticks` (a callback): on the run's bar when one is open, else on a bar of
their own when asked for (``enabled``), else silently. So a run never stacks two bars.

Examples:
  >>> list(track(range(3), desc="points", enabled=False))
  [0, 1, 2]
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator

DELAY = 1.5
"""Seconds before the run's bar appears."""
REFRESH = 0.5
"""Seconds between refreshes of the elapsed time."""
_ACTIVE: list = []
_ELAPSED = "{desc} [{elapsed}]"
_COUNTING = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]"


def _tqdm():
    from tqdm import tqdm  # optional heavy import, only when a bar is drawn

    return tqdm


@contextlib.contextmanager
def run_bar(desc: str, *, enabled: bool, delay: float | None = None) -> Iterator[object]:
    """The one progress bar of a command (``None`` when not ``enabled``).

    Args:
      desc: what runs, e.g. ``"certify ring"``.
      enabled: draw the bar (the CLI: not under ``--json``, and only on a terminal).
      delay: seconds before it appears (default ``DELAY``).

    Examples:
      >>> with run_bar("certify sgn-toy", enabled=False) as bar:
      ...     bar is None
      True
    """
    if not enabled:
        yield None
        return
    bar = _tqdm()(total=None, desc=desc, file=sys.stderr, leave=False, delay=DELAY if delay is None else delay,
                  bar_format=_ELAPSED)
    shown = _draw_after(bar, time.monotonic() + (DELAY if delay is None else delay))
    stop = threading.Event()

    def refresh():
        while not stop.wait(REFRESH):
            bar.refresh()

    thread = threading.Thread(target=refresh, name="sgn-progress", daemon=True)
    thread.start()
    _ACTIVE.append(bar)
    try:
        yield bar
    finally:
        _ACTIVE.remove(bar)
        stop.set()
        thread.join()
        if shown():
            bar.clear()  # erase the line (tqdm's close skips it: it counts only its own draws)
        bar.close()


def _draw_after(bar, due: float) -> Callable[[], bool]:
    """Makes ``bar`` draw nothing before ``due`` (``time.monotonic``); returns "has it been drawn?".

    tqdm's own ``delay`` counts only ``update`` calls, while our refresh thread and ``reset``
    redraw directly; this one gate covers every path.
    """
    drawn = [False]
    display = bar.display

    def gated(msg=None, pos=None):
        if not drawn[0] and (msg == "" or time.monotonic() < due):
            return False
        drawn[0] = True
        return display(msg=msg, pos=pos)

    bar.display = gated
    return lambda: drawn[0]


@contextlib.contextmanager
def ticks(*, total: int | None, desc: str, enabled: bool) -> Iterator[Callable[..., None]]:
    """A ``tick(k=1)`` callback counting steps of a loop the caller does not own (e.g. refine rounds).

    Examples:
      >>> with ticks(total=3, desc="rounds", enabled=False) as tick:
      ...     tick(); tick(2)
    """
    if _ACTIVE:
        bar = _ACTIVE[-1]
        old_desc, old_format, started = bar.desc, bar.bar_format, bar.start_t
        bar.bar_format = _COUNTING
        bar.set_description_str(desc, refresh=False)
        bar.reset(total=total)
        try:
            yield lambda k=1: bar.update(k)
        finally:
            bar.total, bar.bar_format = None, old_format  # back to the run's elapsed-time line
            bar.set_description_str(old_desc, refresh=False)
            bar.reset()
            bar.start_t = started  # the run's elapsed time goes on from its start
            bar.refresh()
        return
    if not enabled:
        yield lambda k=1: None
        return
    bar = _tqdm()(total=total, desc=desc, file=sys.stderr, leave=False, bar_format=_COUNTING if total else None)
    try:
        yield lambda k=1: bar.update(k)
    finally:
        bar.close()


def track(iterable: Iterable, *, desc: str, enabled: bool, total: int | None = None) -> Iterator:
    """Iterates over ``iterable``, counting on the run's bar (or an own bar when ``enabled``).

    Examples:
      >>> [x * x for x in track([1, 2], desc="values", enabled=False)]
      [1, 4]
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    with ticks(total=total, desc=desc, enabled=enabled) as tick:
        for item in iterable:
            yield item
            tick()
