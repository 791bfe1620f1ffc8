"""Progress bars on stderr for long computations: tqdm, imported only when a bar is shown.

Library code takes a ``progress`` flag and advances a counter; with the flag off (the default,
and whenever the CLI prints JSON) nothing is drawn and tqdm is never imported.
"""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def progress_bar(enabled: bool, total: int, desc: str, *, unit: str = "player"):
    """Yields ``advance(k)``, which moves a tqdm bar on stderr by ``k`` (a no-op when disabled).

    Examples:
      >>> with progress_bar(False, 10, "weights") as advance:
      ...     advance(10)
    """
    if not enabled:
        yield lambda k=1: None
        return
    from tqdm import tqdm  # optional dependency of the progress bar only

    with tqdm(total=int(total), desc=desc, unit=unit, file=sys.stderr, leave=False) as bar:
        yield bar.update
