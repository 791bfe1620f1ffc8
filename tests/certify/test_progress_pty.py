"""The progress bar on a real (pseudo-)terminal: drawn after its delay, advanced by refine, erased at the end."""

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import textwrap

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


def _on_pty(code: str, timeout: float = 240) -> str:
    """Runs ``python -c code`` with stdout and stderr on a 100x24 pseudo-terminal; returns what it drew."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdin=slave, stdout=slave, stderr=slave,
                            close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=timeout) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(errors="replace")


def _visible_line_before(text: str, marker: str) -> str:
    """What the terminal line shows just before ``marker`` is printed (``\\r`` returns to column 0)."""
    before = text.split(marker)[0].rsplit("\n", 1)[-1]
    line: list[str] = []
    col = 0
    for ch in before:
        if ch == "\r":
            col = 0
            continue
        if col < len(line):
            line[col] = ch
        else:
            line.append(ch)
        col += 1
    return "".join(line)


@pytest.mark.slow
def test_refine_bar_advances_and_is_erased_before_the_report():
    text = _on_pty("""
        import certify, games
        from certify._progress import run_bar
        with run_bar("certify tanh-sin", enabled=True, delay=0.0):
            cert = certify.certify(games.get_game("tanh-sin", coupling=3.0),
                                   bounds=certify.bounds.Refine(max_rounds=4), progress=True)
        print("REPORT rounds", cert.extra["refine"]["rounds"])
    """)
    assert "REPORT rounds 4" in text
    counts = [int(k) for k in re.findall(r"refine rounds:\s+\d+%\|[^|]*\| (\d)/5", text)]
    assert counts
    assert max(counts) >= 1  # the bar advanced (it used to stay at 0 while boxes were evaluated)
    assert _visible_line_before(text, "REPORT").strip() == ""  # erased: the report starts on a clean line


@pytest.mark.slow
def test_bar_waits_for_its_delay_then_shows_elapsed_time():
    text = _on_pty("""
        import time
        from certify._progress import run_bar
        with run_bar("quick", enabled=True, delay=30.0):
            time.sleep(1.2)  # refreshed twice meanwhile, but not due yet
        print("QUICK DONE")
        with run_bar("slow", enabled=True, delay=0.2):
            time.sleep(1.5)
        print("SLOW DONE")
    """)
    assert "quick" not in text.split("QUICK DONE")[0]
    slow = text.split("QUICK DONE")[1].split("SLOW DONE")[0]
    assert re.search(r"slow \[00:0\d\]", slow)
    assert _visible_line_before(text, "SLOW DONE").strip() == ""
