"""The loader reads only regular files inside a standard's root, bounded in size and time.

`import` was always confined to the root; here `extends` is held to the same rules
(its search for a base by id skips links leading outside, pipes and devices), every
file is read through `sources.read_source` (regular files of at most
`MAX_STANDARD_BYTES`), and a folder is searched once per loader. Where a hang or a
memory blow-up is what could go wrong, the check runs in a child process with a
timeout and a memory limit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from reports import codes, one

from sbm_engine import loader as loader_module
from sbm_engine.api import check
from sbm_engine.loader import Loader
from sbm_engine.sources import MAX_STANDARD_BYTES, SourceError, read_source, read_source_bytes

BASE = """standard ld.base "База" {
    scale yes_no { yes = 1, no = 0 }
    item greeted "Поприветствовал" answer yes_no
    coefficient visit = weighted_mean(items)
}
"""
#: A complete, valid standard: were it read, `extends ld.secret` would succeed.
SECRET = BASE.replace("ld.base", "ld.secret")
CHILD = "standard ld.child extends {base} {{\n}}\n"

#: Long enough for a child interpreter to start and check a small folder on a busy
#: machine; a hang is for ever, so any bound tells the two apart.
TIMEOUT = 30
#: Address space for the child: ample for a check, far below what /dev/zero would fill.
MEMORY = 1 << 30

needs_posix = pytest.mark.skipif(
    not hasattr(os, "mkfifo"), reason="named pipes and devices are POSIX"
)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path/root (the working directory) holding ld.base; tmp_path/outside holding
    ld.secret, a standard that must never be read."""
    monkeypatch.delenv("SBM_PATH", raising=False)
    (tmp_path / "root").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "root" / "base.sbm").write_text(BASE, encoding="utf-8")
    (tmp_path / "outside" / "secret.sbm").write_text(SECRET, encoding="utf-8")
    monkeypatch.chdir(tmp_path / "root")
    return tmp_path / "root"


def symlink(link: Path, target: Path) -> None:
    try:
        link.symlink_to(target, target_is_directory=target.is_dir())
    except OSError:
        pytest.skip("symbolic links are not available here")


def child(root: Path, base: str, body: str = "") -> Path:
    path = root / "child.sbm"
    path.write_text(CHILD.format(base=base).replace("{\n", "{\n" + body, 1), encoding="utf-8")
    return path


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every path the loader reads, in order, resolved."""
    seen: list[Path] = []

    def counting(path: Path, limit: int = MAX_STANDARD_BYTES) -> str:
        seen.append(Path(os.path.realpath(path)))
        return read_source(path, limit)

    monkeypatch.setattr(loader_module, "read_source", counting)
    return seen


def run_sbm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`sbm ARGS` in a child process, bounded in time and (where possible) in memory."""
    return run_python(
        f"import sys; from sbm_engine.cli import main; sys.exit(main({list(args)!r}))", cwd
    )


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Python `code` in a child process, so that a hang fails the test instead of the run."""

    def limit_memory() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))

    env = {k: v for k, v in os.environ.items() if k != "SBM_PATH"}
    try:
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            preexec_fn=limit_memory if sys.platform.startswith("linux") else None,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{code!r} did not finish in {TIMEOUT} s")


# ---- (a) a link leading outside the root is never followed by `extends` ----------------------


@pytest.mark.parametrize("via", ["file link", "folder link"])
def test_extends_does_not_reach_a_base_through_a_link_outside_the_root(
    root: Path, tmp_path: Path, reads: list[Path], via: str
) -> None:
    if via == "file link":
        symlink(root / "link.sbm", tmp_path / "outside" / "secret.sbm")
    else:
        symlink(root / "linked", tmp_path / "outside")
    report = check(child(root, "ld.secret"))
    d = one(report, "E0604")
    assert d.message == "unknown base standard `ld.secret`"
    secret = (tmp_path / "outside" / "secret.sbm").resolve()
    assert secret not in reads
    if via == "file link":  # the file passed over is named; a linked folder is not entered
        assert d.notes == ("not searched: link.sbm, which links outside ./",)
        assert d.help == (
            "did you mean `ld.base`? Or, if a file that was not searched declares it (see "
            "the notes), make it a regular file inside the folder searched"
        )
    else:
        assert d.notes == ()


def test_the_outside_base_is_found_where_it_is_in_bounds(root: Path, tmp_path: Path) -> None:
    """The control for the test above: the same file, on the search path, is a good base."""
    symlink(root / "link.sbm", tmp_path / "outside" / "secret.sbm")
    report = check(child(root, "ld.secret"), search_path=[tmp_path / "outside"])
    assert report.ok, codes(report)


def test_a_link_inside_the_root_is_followed(root: Path) -> None:
    (root / "real").mkdir()
    (root / "base.sbm").rename(root / "real" / "base.sbm")
    symlink(root / "alias.sbm", root / "real" / "base.sbm")
    symlink(root / "again", root / "real")
    report = check(child(root, "ld.base"))
    assert report.ok, codes(report)


def test_cycles_of_linked_folders_do_not_loop(root: Path) -> None:
    symlink(root / "self", root)
    symlink(root / "up", root.parent)
    (root / "sub").mkdir()
    symlink(root / "sub" / "back", root)
    known = Loader().known_standards(extra_dirs=[root])
    assert known["ld.base"] == root / "base.sbm"
    assert "ld.secret" not in known


def test_a_loop_of_file_links_is_passed_over(root: Path) -> None:
    symlink(root / "loop.sbm", root / "loop.sbm")
    report = check(child(root, "ld.nowhere"))
    d = one(report, "E0604")
    assert len(d.notes) == 1 and d.notes[0].startswith(
        "not searched: loop.sbm, which cannot be read"
    )
    assert check(child(root, "ld.base")).ok


# ---- (b) a named pipe never blocks a check ---------------------------------------------------


@needs_posix
def test_a_pipe_in_the_folder_does_not_hang_the_search_for_a_base(root: Path) -> None:
    os.mkfifo(root / "x.sbm")
    child(root, "ld.base")
    done = run_sbm("check", "child.sbm", cwd=root)
    assert done.returncode == 0, done.stderr
    child(root, "ld.elsewhere")
    done = run_sbm("check", "child.sbm", cwd=root)
    assert done.returncode == 1, done.stderr
    assert "not searched: x.sbm, which is a named pipe, not a regular file" in done.stderr


@needs_posix
def test_a_pipe_named_on_the_command_line_is_a_clean_error(root: Path) -> None:
    os.mkfifo(root / "x.sbm")
    done = run_sbm("check", "x.sbm", cwd=root)
    assert done.returncode == 2  # nothing could be done
    assert "error: x.sbm is a named pipe, not a regular file" in done.stderr
    assert "Traceback" not in done.stderr


@needs_posix
@pytest.mark.parametrize("command", [["fmt"], ["fmt", "--check"], ["test"]])
def test_other_commands_refuse_a_pipe_cleanly(root: Path, command: list[str]) -> None:
    os.mkfifo(root / "x.sbm")
    done = run_sbm(*command, "x.sbm", cwd=root)
    assert done.returncode == 2, done.stderr
    assert "error: x.sbm is a named pipe, not a regular file" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_byte_order_mark_is_not_part_of_the_text(root: Path) -> None:
    (root / "bom.sbm").write_bytes(
        '\ufeffstandard ld.bom {\n    item a "A" answer { yes = 1, no = 0 }\n}\n'.encode()
    )
    assert check(root / "bom.sbm").ok
    assert read_source(root / "bom.sbm").startswith("standard")


@needs_posix
def test_an_imported_pipe_is_refused(root: Path) -> None:
    os.mkfifo(root / "x.sbm")
    child(root, "ld.base", '    import "x.sbm"\n')
    done = run_sbm("check", "child.sbm", "--format", "json", cwd=root)
    assert done.returncode == 1, done.stderr
    [d] = json.loads(done.stdout)[0]["diagnostics"]
    assert d["code"] == "E0606"
    assert d["message"] == 'imported file "x.sbm" is a named pipe, not a regular file'
    assert (d["file"], d["line"], d["column"]) == ("child.sbm", 2, 5)


# ---- (c) a device never fills memory ---------------------------------------------------------


@needs_posix
def test_a_link_to_dev_zero_in_the_folder_is_not_read(root: Path) -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    symlink(root / "zero.sbm", Path("/dev/zero"))
    child(root, "ld.base")
    done = run_sbm("check", "child.sbm", cwd=root)
    assert done.returncode == 0, done.stderr
    done = run_sbm("check", "zero.sbm", cwd=root)
    assert done.returncode == 2
    assert "error: zero.sbm is a character device, not a regular file" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_reader_refuses_devices_and_stops_past_the_limit_whatever_the_size_says() -> None:
    if os.path.exists("/dev/zero"):
        with pytest.raises(SourceError, match="is a character device, not a regular file"):
            read_source(Path("/dev/zero"))
    maps = Path("/proc/self/maps")  # a regular file whose size reads as 0
    if not maps.exists() or maps.stat().st_size != 0:
        pytest.skip("no regular file here that understates its size")
    with pytest.raises(SourceError, match="larger than 16 bytes"):
        read_source_bytes(maps, limit=16)


# ---- (d) a file over the limit ---------------------------------------------------------------


def test_a_file_larger_than_the_limit_is_refused(root: Path) -> None:
    big = root / "big.sbm"
    with big.open("w", encoding="utf-8") as f:  # a valid standard, but one byte too long
        head, tail = "standard ld.big {\n", "}\n"
        f.write(head + "#" * (MAX_STANDARD_BYTES - len(head) - len(tail)) + "\n" + tail)
    assert big.stat().st_size == MAX_STANDARD_BYTES + 1
    d = one(check(child(root, "ld.base", '    import "big.sbm"\n')), "E0606")
    assert d.message == (
        'imported file "big.sbm" is larger than 8 MiB, the limit for a standard\'s file'
    )
    d = one(check(child(root, "ld.big")), "E0604")
    assert d.notes == (
        "not searched: big.sbm, which is larger than 8 MiB, the limit for a standard's file",
    )


def test_the_limit_is_inclusive(tmp_path: Path) -> None:
    path = tmp_path / "s.sbm"
    path.write_bytes(b"standard s {\r\n}\r\n")
    assert read_source(path, limit=17) == "standard s {\n}\n"  # newlines as read_text gives
    with pytest.raises(SourceError, match="larger than 16 bytes"):
        read_source(path, limit=16)


def test_text_that_is_not_utf8_is_refused(root: Path) -> None:
    (root / "latin.sbm").write_bytes(b"standard ld.latin {\n    # caf\xe9\n}\n")
    d = one(check(child(root, "ld.base", '    import "latin.sbm"\n')), "E0607")
    assert (d.span.file, d.span.line, d.span.column) == ("latin.sbm", 2, 10)
    assert d.message == "the file is not UTF-8 text"  # one accent: no guess of the encoding


# ---- (e) a folder is searched once per loader ------------------------------------------------


def test_each_file_of_the_root_is_read_once_for_any_number_of_bases(
    root: Path, reads: list[Path]
) -> None:
    for name in ("a", "b", "c"):
        (root / f"{name}.sbm").write_text(f"standard ld.{name} {{\n}}\n", encoding="utf-8")
    (root / "base2.sbm").write_text("standard ld.base2 {\n}\n", encoding="utf-8")
    (root / "one.sbm").write_text("standard ld.one extends ld.base {\n}\n", encoding="utf-8")
    (root / "two.sbm").write_text("standard ld.two extends ld.base2 {\n}\n", encoding="utf-8")
    loader = Loader()
    loader.flatten_file(root / "one.sbm")
    loader.flatten_file(root / "two.sbm")
    searched = [p.resolve() for p in root.glob("*.sbm")]
    library = [Path(os.path.realpath(p)) for p in loader_module.library_root().rglob("*.sbm")]
    # The search reads every file once; parsing reads each file used once more.
    assert Counter(reads) == Counter(searched + library + loader.files())
    assert sorted(p.name for p in loader.files()) == ["base.sbm", "base2.sbm", "one.sbm", "two.sbm"]


def test_known_standards_keeps_its_answer_for_other_callers(root: Path) -> None:
    (root / "sub").mkdir()
    (root / "sub" / "deep.sbm").write_text("standard ld.deep {\n}\n", encoding="utf-8")
    (root / "twice.sbm").write_text("standard ld.base {\n}\n", encoding="utf-8")
    loader = Loader()
    known = loader.known_standards(extra_dirs=[root])
    assert known["ld.base"] == root / "base.sbm"  # the first file in path order wins
    assert known["ld.deep"] == root / "sub" / "deep.sbm"
    assert "library.stages" in known
    assert loader.known_standards(extra_dirs=[root]) == known


# ---- (f) `import` and `extends` agree -------------------------------------------------------


def test_import_and_extends_refuse_the_same_link(
    root: Path, tmp_path: Path, reads: list[Path]
) -> None:
    symlink(root / "link.sbm", tmp_path / "outside" / "secret.sbm")
    imported = one(check(child(root, "ld.base", '    import "link.sbm"\n')), "E0602")
    assert imported.message == (
        'import "link.sbm" leads outside the root folder ./ through a symbolic link'
    )
    extended = one(check(child(root, "ld.secret")), "E0604")
    assert extended.notes == ("not searched: link.sbm, which links outside ./",)
    assert (tmp_path / "outside" / "secret.sbm").resolve() not in reads


# ---- packs -----------------------------------------------------------------------------------


@needs_posix
def test_a_pipe_among_a_packs_standards_is_a_plugin_error(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.sbm")
    done = run_python(
        "from pathlib import Path\n"
        "from sbm_engine.plugins import PluginError, _standard_ids\n"
        "try:\n"
        "    _standard_ids('acme', Path('x.sbm'))\n"
        "except PluginError as err:\n"
        "    print(err)\n",
        tmp_path,
    )
    assert done.stdout == "plugin 'acme': the standard x.sbm is a named pipe, not a regular file\n"


def test_an_import_path_too_long_for_the_file_system_is_a_diagnostic(root: Path) -> None:
    report = check(child(root, "ld.base", f'    import "{"a" * 5000}.sbm"\n'))
    d = one(report, "E0606")
    assert d.message.endswith("cannot be read: File name too long")
    assert len(d.message) < 200  # the path is shortened in the message
