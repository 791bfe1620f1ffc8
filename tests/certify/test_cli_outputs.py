"""Output files of the CLI are never lost or replaced: devices, pipes, inputs, unwritable places (issue 24)."""

import json
import os
import re
import stat
import threading

import pytest

from certify import cli


def _one_error(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("sgn: error:")]
    assert len(err) == 1
    return err[0]


def _device(path, minor):
    """A character device node made by the test (1, 3) = null, (1, 7) = full; skipped where not allowed."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except (PermissionError, OSError) as err:
        pytest.skip(f"cannot make a device node here: {err}")
    return path


def test_null_device_is_written_through_not_replaced(tmp_path, capsys):
    node = _device(tmp_path / "null", 3)
    assert cli.main(["certify", "sgn-toy", "--out", str(node)]) == 0
    st = os.stat(node)
    assert stat.S_ISCHR(st.st_mode)
    assert os.major(st.st_rdev) == 1
    assert os.minor(st.st_rdev) == 3
    assert f"wrote --out {node}" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]  # no temporary left beside it


def test_full_device_message(tmp_path, capsys):
    node = _device(tmp_path / "full", 7)
    assert cli.main(["certify", "sgn-toy", "--out", str(node)]) == 2
    line = _one_error(capsys)
    assert line == f"sgn: error: cannot write --out {node}: No space left on device"


def test_fifo_with_reader_gets_the_json_and_stays_a_fifo(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = {}

    def reader():
        with open(fifo, "rb") as fh:  # opened before sgn starts: sgn sees a reader
            got["data"] = fh.read()

    opened = threading.Thread(target=reader)
    opened.start()
    fd = None
    try:
        # keep a write end open until sgn opened its own, so the reader does not see EOF early
        fd = os.open(fifo, os.O_WRONLY)
        assert cli.main(["certify", "sgn-toy", "--out", str(fifo), "--json"]) == 0
    finally:
        if fd is not None:
            os.close(fd)
        opened.join(timeout=60)
    printed = capsys.readouterr().out
    assert json.loads(got["data"]) == json.loads(printed)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_fifo_without_reader_is_refused_before_work(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert cli.main(["certify", "sgn-toy", "--out", str(fifo)]) == 2
    assert _one_error(capsys) == f"sgn: error: cannot write --out {fifo}: a named pipe with no reader"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_output_naming_the_game_file_is_refused(tmp_path, capsys):
    game = tmp_path / "victim.py"
    source = "import games\ngame = games.get_game('sgn-toy')\n"
    game.write_text(source)
    assert cli.main(["certify", str(game), "--out", str(game)]) == 2
    assert _one_error(capsys) == f"sgn: error: cannot write --out {game}: it is an input of this command (the game's " \
                                 "definition); choose another file"
    os.link(game, tmp_path / "alias.json")  # the same file under another name is the same input
    assert cli.main(["certify", str(game), "--out", str(tmp_path / "alias.json")]) == 2
    assert "input" in _one_error(capsys)
    assert game.read_text() == source
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alias.json", "victim.py"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", ""], "expected a file name for --out, got ''"),
        (["--out", "/proc/sgn-x.json"], "cannot write --out /proc/sgn-x.json: No such file or directory"),
        (["--plot", "band"], "expected --plot FILE ending in a figure format"),
        (["--out", "/nonexistent-folder/c.json"], "cannot write --out /nonexistent-folder/c.json: no such directory"),
    ],
)
def test_unwritable_or_unnamed_outputs_refused_before_work(argv, message, capsys):
    assert cli.main(["certify", "sgn-toy", *argv]) == 2
    err = capsys.readouterr().err
    line = [x for x in err.splitlines() if x.startswith("sgn: error:")]
    assert len(line) == 1
    assert message in line[0]
    assert ".tmp-" not in err
    assert "certifying" not in err  # refused before the work started


def test_read_only_folder_refused_before_work(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who may write anywhere (root)")
        assert cli.main(["certify", "sgn-toy", "--out", str(folder / "c.json")]) == 2
        assert _one_error(capsys) == f"sgn: error: cannot write --out {folder / 'c.json'}: Permission denied"
    finally:
        folder.chmod(0o700)


@pytest.mark.slow
def test_basin_out_holds_what_json_prints_and_each_output_is_confirmed(tmp_path, capsys):
    out, band = tmp_path / "c.json", tmp_path / "b.png"
    argv = ["certify", "tanh-sin", "--bounds", "interval", "--basin", "--json"]
    assert cli.main([*argv, "--out", str(out), "--plot", str(band)]) == 0
    captured = capsys.readouterr()
    assert json.loads(out.read_text()) == json.loads(captured.out)
    assert "basin" in json.loads(out.read_text())
    assert captured.err.splitlines()[-2:] == [f"wrote --out {out}", f"wrote --plot {band}"]
    assert cli.main(["verify", str(out), "--pairs", "4", "--steps", "10"]) == 0  # the basin is not certified data


@pytest.mark.slow
def test_refine_report_says_rounds_boxes_budget_and_why_it_stopped(capsys):
    # tanh-sin with coupling 3 on [-1, 1]^2 is not decided by the small-gain test on one or a few boxes; with a
    # budget of 2 rounds the search stops on the budget, and the report says so (2 of 2 rounds).
    argv = ["certify", "tanh-sin", "--param", "coupling=3", "--bounds", "refine", "--max-rounds", "2"]
    cli.main(argv)
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("refinement")]
    assert len(lines) == 1
    assert re.match(r"refinement +2 of 2 rounds, \d+ of 4096 boxes \(\d+ evaluated\); stopped: the round budget "
                    r"was spent before the small-gain test decided \(raise it with --max-rounds\)$", lines[0])
    assert cli.main([*argv, "--json"]) in (0, 1)
    refine = json.loads(capsys.readouterr().out)["extra"]["refine"]
    assert refine["rounds"] == 2
    assert refine["budget_spent"] is True
    assert refine["stopped"] == "max_rounds"
    assert cli.main(["certify", "tanh-sin", "--bounds", "interval", "--max-boxes", "9"]) == 2
    assert "--max-boxes does not apply to --bounds interval" in capsys.readouterr().err


@pytest.mark.slow
def test_out_dev_stdout_goes_to_stdout_in_the_console_script(tmp_path):
    """The console script keeps descriptor 1 for native libraries' chatter (sent to stderr); /dev/stdout is still
    the command's standard output."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "certify.cli", "certify", "sgn-toy", "--out", "/dev/stdout"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    decoder = json.JSONDecoder()
    cert, end = decoder.raw_decode(done.stdout)
    assert cert["game"]["name"] == "sgn-toy"
    assert done.stdout[end:].lstrip().startswith("game      sgn-toy")  # then the report
    assert "schema_version" not in done.stderr
    assert "wrote --out /dev/stdout" in done.stderr
