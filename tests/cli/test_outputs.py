"""`sbm score`'s outputs appear whole and together or not at all, never over an input,
with clean errors: each test reproduces a red-team finding.

Failures are injected deterministically where possible: a signal sent from inside
`os.fsync` (the last steps of a commit), a disk that fills up after N bytes (every
temporary file made in the test's folder), a read-only folder. Signals to a real
process (exit codes, leftover temporaries, worker processes) run `sbm` in a
subprocess with timeouts.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import gc
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sbm_engine.cli import cli
from sbm_engine.cli.score import default_rejects

CONFORMANCE = Path(__file__).parent.parent / "conformance"
DEMO = str(CONFORMANCE / "demo_branch.sbm")
COLUMNS = [
    *("visit_id", "point", "specialist", "region", "date", "scenario"),
    *("greeted", "smile", "wait", "questions", "card", "secrecy", "clean", "overall"),
]
ENGINES = ["python", "batch"]
FORMATS = ["jsonl", "csv", "xlsx", "parquet"]
SBM = [sys.executable, "-c", "import sys; from sbm_engine.cli import main; sys.exit(main())"]


def wave(path: Path, n: int, bad_every: int = 4, point: str = "P1") -> Path:
    """A CSV wave of the demo standard: every `bad_every`-th visit rejected."""
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for i in range(n):
            smile = "maybe" if bad_every and i % bad_every == 0 else "no"
            visit = [f"v{i}", point, "S1", "R1", "2026-03-01", "deposit"]
            w.writerow([*visit, "yes", smile, 3, 4, "yes", "yes", 5, 7])
    return path


def score(*args: str) -> Result:
    return CliRunner().invoke(cli, ["score", DEMO, *args])


def hidden(folder: Path) -> list[str]:
    """Temporary files left behind (every writer's temporary name starts with a dot)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def needs_arrow(engine: str) -> None:
    if engine == "batch":
        pytest.importorskip("pyarrow")
        pytest.importorskip("numpy")


def needs_format(fmt: str) -> None:
    if fmt == "xlsx":
        pytest.importorskip("openpyxl")
    if fmt == "parquet":
        pytest.importorskip("pyarrow")


# -- 1. the output and the rejects appear together, or neither -----------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fault", ["ctrl-c", "error"])
@pytest.mark.parametrize("at", [1, 2, 3, 4])
def test_a_fault_while_committing_leaves_the_old_pair_or_the_new_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str, fault: str, at: int
) -> None:
    """Ctrl-C or an I/O error at the `at`-th fsync (a file's data, then the folder
    after each rename): never the new rejects beside the old output, or the reverse."""
    needs_arrow(engine)
    inp = wave(tmp_path / "wave.csv", 40)
    out, rej = tmp_path / "scored.csv", tmp_path / "scored.rejects.jsonl"
    out.write_text("old output", encoding="utf-8")
    rej.write_text("old rejects", encoding="utf-8")
    real_fsync, calls = os.fsync, [0]

    def fsync(fd: int) -> None:
        calls[0] += 1
        if calls[0] == at:
            if fault == "error":
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            os.kill(os.getpid(), signal.SIGINT)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    result = score(str(inp), "-o", str(out), "--engine", engine)
    old = (out.read_text(encoding="utf-8") == "old output", rej.read_text() == "old rejects")
    assert old in [(True, True), (False, False)], result.output
    assert hidden(tmp_path) == []
    if old == (True, True):
        assert result.exit_code == (130 if fault == "ctrl-c" else 2), result.output
        assert ("interrupted; nothing written" if fault == "ctrl-c" else "error: cannot write") in (
            result.stderr
        )
        assert "read " not in result.stderr  # no summary claiming success
    elif fault == "ctrl-c" and result.exit_code == 130:
        assert "were written" in result.stderr  # held until both were in place
    assert not isinstance(result.exception, KeyboardInterrupt | OSError)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_failed_run_leaves_no_rejects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    """The output cannot be renamed into place at the very end: the rejects, already
    renamed, are taken back (and with an older rejects file, that one comes back)."""
    needs_arrow(engine)
    inp = wave(tmp_path / "wave.csv", 40)
    outdir, rejdir = tmp_path / "out", tmp_path / "rej"
    outdir.mkdir()
    rejdir.mkdir()
    old = rejdir / "older.jsonl"
    old.write_text("older rejects", encoding="utf-8")
    real_replace = os.replace

    def replace(src: object, dst: object) -> None:
        if Path(str(dst)).parent == outdir:
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    for rejects in (rejdir / "new.jsonl", old):
        args = [str(inp), "-o", str(outdir / "s.jsonl"), "--rejects", str(rejects)]
        result = score(*args, "--engine", engine)
        assert result.exit_code == 2, result.output
        assert f"error: cannot write {outdir / 's.jsonl'}" in result.stderr
        assert list(outdir.iterdir()) == []
        assert sorted(p.name for p in rejdir.iterdir()) == ["older.jsonl"]
        assert old.read_text(encoding="utf-8") == "older rejects"


# -- 2. a full disk: `error: cannot write OUT: No space left on device`, exit 2 --------------------


class _FullRaw(io.FileIO):
    """A file on a disk with `room` bytes left (shared by every file of the test)."""

    room: list[int]

    def write(self, b: bytes) -> int:  # type: ignore[override]
        n = memoryview(b).nbytes
        if n > self.room[0]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room[0] -= n
        return super().write(b)


class _FullTemp:
    """What `tempfile.NamedTemporaryFile(delete=False)` returns, on the full disk."""

    def __init__(self, name: str, room: list[int]) -> None:
        self.name = name
        raw = _FullRaw(name, "r+")
        raw.room = room
        self.file = io.BufferedRandom(raw)

    def close(self) -> None:
        self.file.close()


def fill_disk(monkeypatch: pytest.MonkeyPatch, folder: Path, room: int) -> None:
    """Every temporary file made in `folder` (named or not) fails once `room` bytes
    have been written to them all."""
    left = [room]
    named, anonymous = tempfile.NamedTemporaryFile, tempfile.TemporaryFile

    def here(d: object) -> bool:
        return d is not None and Path(str(d)).resolve() == folder.resolve()

    def make_named(*a: object, dir: object = None, **k: object) -> object:
        real = named(*a, dir=dir, **k)  # type: ignore[call-overload]
        if not here(dir):
            return real
        real.close()
        return _FullTemp(real.name, left)

    def make_anonymous(*a: object, dir: object = None, **k: object) -> object:
        real = anonymous(*a, dir=dir, **k)  # type: ignore[call-overload]
        if not here(dir):
            return real
        raw = _FullRaw(os.dup(real.fileno()), "r+")
        raw.room = left
        real.close()
        return io.BufferedRandom(raw)

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", make_named)
    monkeypatch.setattr(tempfile, "TemporaryFile", make_anonymous)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("room", [0, 8_000, 40_000])
def test_a_full_disk_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str, fmt: str, room: int
) -> None:
    needs_arrow(engine)
    needs_format(fmt)
    inp = wave(tmp_path / "wave.csv", 600)
    out = tmp_path / f"scored.{fmt}"
    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    fill_disk(monkeypatch, tmp_path, room)
    result = score(str(inp), "-o", str(out), "--engine", engine)
    gc.collect()
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    rej = default_rejects(out)
    assert (
        f"error: cannot write {out}: No space left on device" in result.stderr
        or f"error: cannot write {rej}: No space left on device" in result.stderr
    ), result.stderr
    assert "Traceback" not in result.output
    assert unraisable == []  # no `ZipFile.__del__` complaint from a half-written XLSX
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wave.csv"]


# -- 3. never over an input ------------------------------------------------------------------------


def _input(tmp_path: Path, fmt: str) -> Path:
    from .test_formats import write_csv, write_parquet, write_xlsx

    path = tmp_path / f"wave.{fmt}"
    if fmt == "csv":
        write_csv(path, "utf-8", ",")
    elif fmt == "parquet":
        write_parquet(path)
    elif fmt == "xlsx":
        write_xlsx(path)
    else:
        path.write_bytes((CONFORMANCE / "demo_visits.jsonl").read_bytes())
    return path


CASES = [(f, e) for f in FORMATS for e in ENGINES if e == "python" or f in ("csv", "parquet")]


@pytest.mark.parametrize("fmt, engine", CASES)
@pytest.mark.parametrize("how", ["same", "relative", "symlink", "hardlink"])
def test_the_output_is_never_an_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, engine: str, how: str
) -> None:
    needs_arrow(engine)
    needs_format(fmt)
    inp = _input(tmp_path, fmt)
    before = inp.read_bytes()
    out = inp
    if how == "relative":
        monkeypatch.chdir(tmp_path)
        out = Path(".") / "sub" / ".." / inp.name
        (tmp_path / "sub").mkdir()
    elif how == "symlink":
        out = tmp_path / f"link.{fmt}"
        out.symlink_to(inp)
    elif how == "hardlink":
        out = tmp_path / f"link.{fmt}"
        os.link(inp, out)
    result = score(str(inp), "-o", str(out), "--engine", engine)
    assert result.exit_code == 2, result.output
    assert f"is the input {inp}" in result.stderr
    assert inp.read_bytes() == before
    assert not default_rejects(out).exists() and hidden(tmp_path) == []


@pytest.mark.parametrize("named", [False, True])
def test_the_rejects_file_is_never_an_input(tmp_path: Path, named: bool) -> None:
    """Re-scoring a fixed rejects file: `sbm score std wave.rejects.jsonl -o wave.jsonl`
    would write its default rejects over the input."""
    inp = tmp_path / "wave.rejects.jsonl"
    inp.write_bytes((CONFORMANCE / "demo_visits.jsonl").read_bytes())
    before = inp.read_bytes()
    extra = ["--rejects", str(inp)] if named else []
    result = score(str(inp), "-o", str(tmp_path / "wave.jsonl"), *extra)
    assert result.exit_code == 2, result.output
    assert f"the rejects file {inp} is the input {inp}" in result.stderr
    assert "--rejects" in result.stderr
    assert inp.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wave.rejects.jsonl"]


# -- 4. signals: exit 128 + N, nothing left behind, no worker outlives the run -------------------


pytestmark_linux = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="signals and /proc as on Linux"
)


@pytest.fixture(scope="module")
def big_wave(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Large enough that scoring lasts a few seconds on a slow machine."""
    return wave(tmp_path_factory.mktemp("big") / "big.csv", 250_000, bad_every=9)


def _start(folder: Path, inp: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SBM, "score", DEMO, str(inp), "-o", str(folder / "scored.csv"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=folder,  # not the checkout: `-c` puts the working folder first on sys.path
    )


def _wait_for(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def _children() -> dict[int, list[int]]:
    """ppid -> pids, from /proc."""
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out.setdefault(ppid, []).append(int(entry))
    return out


def descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytestmark_linux
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_run_cleanly(
    tmp_path: Path, big_wave: Path, engine: str, sig: signal.Signals
) -> None:
    needs_arrow(engine)
    (tmp_path / "scored.csv").write_text("old", encoding="utf-8")
    proc = _start(tmp_path, big_wave, "--engine", engine)
    try:
        _wait_for(lambda: hidden(tmp_path) or proc.poll() is not None)
        time.sleep(0.3)
        assert proc.poll() is None, "the run ended before the signal"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 128 + sig, err
    assert "interrupted; nothing written" in err
    assert "Traceback" not in err and "read " not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scored.csv"]
    assert (tmp_path / "scored.csv").read_text(encoding="utf-8") == "old"


@pytestmark_linux
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("when", ["scoring", "rejects appear"])
def test_ctrl_c_leaves_the_old_pair_or_the_new_pair(tmp_path: Path, engine: str, when: str) -> None:
    """Ctrl-C while scoring, or the moment the new rejects file appears (XLSX output:
    it takes a while to finish, which is when a run used to be left half-committed)."""
    needs_arrow(engine)
    needs_format("xlsx")
    inp = wave(tmp_path / "wave.csv", 20_000)
    out, rej = tmp_path / "scored.xlsx", tmp_path / "scored.rejects.jsonl"
    out.write_text("old output", encoding="utf-8")
    rej.write_text("old rejects", encoding="utf-8")
    first = rej.stat().st_ino
    proc = subprocess.Popen(
        [*SBM, "score", DEMO, str(inp), "-o", str(out), "--engine", engine],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        if when == "scoring":
            _wait_for(lambda: hidden(tmp_path) or proc.poll() is not None)
            time.sleep(0.3)
        else:
            while proc.poll() is None and rej.stat().st_ino == first:
                time.sleep(0.001)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    old = (out.read_text(encoding="utf-8", errors="replace") == "old output", None)
    old = (old[0], rej.read_text(encoding="utf-8") == "old rejects")
    assert hidden(tmp_path) == []
    # Interrupted before the commit: the old pair stays. During the commit (signals are
    # held there): the new pair, exit 130, saying so. After it (a fast run): the new
    # pair and the exit status of a finished run. Never one old file and one new.
    outcomes = [((True, True), 130), ((False, False), 130), ((False, False), 1)]
    assert (old, proc.returncode) in outcomes, err
    if proc.returncode == 130 and old == (False, False):
        assert "were written" in err


@pytestmark_linux
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_workers_die_with_the_run(tmp_path: Path, big_wave: Path, sig: signal.Signals) -> None:
    """`--jobs 2` killed: within seconds no process it started is left (SIGTERM: the
    pool is ended; SIGKILL: each worker notices its parent is gone)."""
    needs_arrow("batch")
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: --jobs 2 is capped at 1")
    proc = _start(tmp_path, big_wave, "--engine", "batch", "--jobs", "2", "--chunk-size", "8192")
    started: set[int] = set()
    try:
        _wait_for(lambda: len(descendants(proc.pid)) >= 2 and hidden(tmp_path))
        time.sleep(0.5)
        started = descendants(proc.pid)
        assert proc.poll() is None, "the run ended before the signal"
        proc.send_signal(sig)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 5
        while any(alive(p) for p in started) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = [p for p in started if alive(p)]
    finally:
        proc.kill()
        for pid in started:  # leave nothing behind, even when the test fails
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    assert not left, "processes outlived sbm score"
    if sig == signal.SIGTERM:
        assert proc.returncode == 143, err
        assert "Traceback" not in err
        assert hidden(tmp_path) == []


# -- 5. other commands' -o: clean errors -----------------------------------------------------------


def _denied(monkeypatch: pytest.MonkeyPatch, folder: Path, *makers: str) -> None:
    """`folder` read-only, even for root: `tempfile`'s `makers` refuse to make a file there."""
    for name in makers:
        real = getattr(tempfile, name)

        def refuse(*a: object, dir: object = None, _real: object = real, **k: object) -> object:
            if dir is not None and Path(str(dir)).resolve() == folder.resolve():
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
            return _real(*a, dir=dir, **k)  # type: ignore[operator]

        monkeypatch.setattr(tempfile, name, refuse)


@pytest.mark.parametrize(
    "args",
    [
        ["export", DEMO, "--to", "json", "-o", "{missing}/q.json"],
        ["new", "acme.branch", "--extends", "library.stages", "-o", "{missing}/acme.sbm"],
    ],
    ids=["export", "new"],
)
def test_other_outputs_into_a_missing_folder(tmp_path: Path, args: list[str]) -> None:
    args = [a.replace("{missing}", str(tmp_path / "missing")) for a in args]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert f"error: cannot write {tmp_path / 'missing'}" in result.stderr


@pytest.mark.parametrize("command", ["export", "new", "fmt"])
def test_other_outputs_into_a_read_only_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    std = folder / "demo.sbm"
    std.write_text(
        (CONFORMANCE / "demo_branch.sbm").read_text(encoding="utf-8") + "\n\n\n",
        encoding="utf-8",
    )
    before = std.read_bytes()
    _denied(monkeypatch, folder, "mkstemp")
    monkeypatch.chdir(tmp_path)
    args = {
        "export": ["export", DEMO, "--to", "json", "-o", str(folder / "q.json")],
        "new": ["new", "acme.branch", "--extends", "library.stages", "-o", str(folder / "a.sbm")],
        "fmt": ["fmt", str(std)],
    }[command]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Permission denied" in result.stderr and "error: " in result.stderr
    assert std.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["demo.sbm"]


# -- 6. paths checked before any work ------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["-o", "{d}/s.jsonl", "--rejects", "{d}/r.csv"], "must be JSON lines"),
        (["-o", "{d}/s.txt"], "unknown output format '.txt'"),
        (["-o", "{d}/missing/s.csv"], "no folder"),
        (["-o", "{d}/s.csv", "--rejects", "{d}/missing/r.jsonl"], "no folder"),
        (["-o", "{d}/s.jsonl", "--rejects", "{d}/s.jsonl"], "must differ"),
    ],
)
def test_paths_are_refused_before_reading_anything(
    tmp_path: Path, args: list[str], message: str
) -> None:
    garbage = tmp_path / "wave.csv"
    garbage.write_bytes(b"\xff\xfe\x00garbage\x00" * 100)  # reading it would fail otherwise
    result = score(str(garbage), *[a.replace("{d}", str(tmp_path)) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wave.csv"]


def test_a_read_only_output_folder_is_refused_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    _denied(monkeypatch, folder, "TemporaryFile", "NamedTemporaryFile", "mkstemp")
    garbage = tmp_path / "wave.csv"
    garbage.write_bytes(b"\xff\xfe\x00garbage\x00" * 100)
    result = score(str(garbage), "-o", str(folder / "s.csv"))
    assert result.exit_code == 2, result.output
    assert f"error: cannot write {folder / 's.csv'}: Permission denied" in result.stderr


# -- 7. the default rejects name keeps all but the output's extension -----------------------------


@pytest.mark.parametrize(
    "output, rejects",
    [
        ("scored.parquet", "scored.rejects.jsonl"),
        ("scored.2026-03.jsonl", "scored.2026-03.rejects.jsonl"),
        ("wave.v2.final.CSV", "wave.v2.final.rejects.jsonl"),
        ("scored", "scored.rejects.jsonl"),
        ("dir.x/scored.xlsx", "dir.x/scored.rejects.jsonl"),
    ],
)
def test_default_rejects_name(output: str, rejects: str) -> None:
    assert default_rejects(Path(output)) == Path(rejects)


def test_waves_named_by_date_keep_their_own_rejects(tmp_path: Path) -> None:
    inp = wave(tmp_path / "wave.csv", 8)
    for month in ("03", "04"):
        result = score(str(inp), "-o", str(tmp_path / f"scored.2026-{month}.jsonl"))
        assert result.exit_code == 1, result.output
    assert (tmp_path / "scored.2026-03.rejects.jsonl").is_file()
    assert (tmp_path / "scored.2026-04.rejects.jsonl").is_file()
    assert not (tmp_path / "scored.rejects.jsonl").exists()


# -- 8. the batch engine streams its rejects -----------------------------------------------------


def test_batch_rejects_are_not_held_in_memory(tmp_path: Path) -> None:
    """Python memory at the peak barely grows with the number of rejected visits when
    the chunk stays the same (it grew by every reject before: 8 GB for 300k)."""
    needs_arrow("batch")
    peaks = []
    for n in (300, 300, 1_500):  # the first run warms caches up
        inp = wave(tmp_path / f"wave{n}.csv", n, bad_every=1)
        out = tmp_path / f"out{n}.parquet"
        tracemalloc.start()
        try:
            result = score(str(inp), "-o", str(out), "--engine", "batch", "--chunk-size", "100")
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert result.exit_code == 1, result.output
        assert len(default_rejects(out).read_text(encoding="utf-8").splitlines()) == n
    growth = peaks[2] - peaks[1]
    assert growth < 1_200 * 1_000, f"{growth:,} bytes more for 1,200 more rejects"


# -- 9. CSV cells that a spreadsheet would run -----------------------------------------------------


def test_csv_formulas_are_neutralised_alike_on_both_engines(tmp_path: Path) -> None:
    needs_arrow("batch")
    inp = tmp_path / "wave.csv"
    risky = ["=cmd|' /C calc'!A0", "@SUM(1+1)", "+1+2", "-2+3", "\tx", "\rx", "plain"]
    with inp.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for i, text in enumerate(risky):
            visit = [f"v{i}", text, "S1", "R1", "2026-03-01", "deposit"]
            w.writerow([*visit, "yes", "no", 7, 1, "yes", "yes", 1, 2])
    outs = {}
    for engine in ENGINES:
        out = tmp_path / f"{engine}.csv"
        result = score(str(inp), "-o", str(out), "--engine", engine)
        assert result.exit_code == 0, result.output
        outs[engine] = out.read_bytes()
    assert outs["python"] == outs["batch"]
    rows = list(csv.DictReader(io.StringIO(outs["batch"].decode("utf-8"), newline="")))
    assert [r["point"] for r in rows] == ["'" + t if t != "plain" else t for t in risky]
    gaps = [r["gaps.visit"] for r in rows]
    assert any(g.startswith("-") for g in gaps), gaps  # numbers stay numbers
    assert all(float(g) < 0 for g in gaps)


def test_jsonl_keeps_text_as_it_is(tmp_path: Path) -> None:
    inp = tmp_path / "wave.csv"
    with inp.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        w.writerow(["v1", "=1+1", "S1", "R1", "2026-03-01", "deposit", "yes", "no", 3, 4, "yes"])
    out = tmp_path / "s.jsonl"
    result = score(str(inp), "-o", str(out))
    assert result.exit_code in (0, 1), result.output
    text = out.read_text(encoding="utf-8") + default_rejects(out).read_text(encoding="utf-8")
    assert '"=1+1"' in text


# -- 10. --jobs capped at the CPUs ---------------------------------------------------------------


def test_jobs_are_capped_at_the_cpus(tmp_path: Path) -> None:
    needs_arrow("batch")
    inp = wave(tmp_path / "wave.csv", 50)
    one, many = tmp_path / "one.jsonl", tmp_path / "many.jsonl"
    assert score(str(inp), "-o", str(one), "--engine", "batch").exit_code == 1
    result = score(str(inp), "-o", str(many), "--engine", "batch", "--jobs", "512")
    assert result.exit_code == 1, result.output
    assert "note: --jobs 512 capped at" in result.stderr
    assert many.read_bytes() == one.read_bytes()
    summary = json.loads(score(str(inp), "-o", str(one), "--format", "json").stdout)
    assert summary["read"] == 50


def test_a_signal_after_the_commit_stops_nothing() -> None:
    """Once the outputs are in place the run is finished: a Ctrl-C while it prints its
    summary must not turn its exit status into 130 (the test above caught that race)."""
    from sbm_engine.cli import common

    state = common._SIGNALS
    state.reset()
    state.committed = True
    try:
        common._on_signal(signal.SIGINT, None)  # returns: nothing raised
        state.committed = False
        with pytest.raises(common.Interrupted):
            common._on_signal(signal.SIGINT, None)
    finally:
        state.reset()
