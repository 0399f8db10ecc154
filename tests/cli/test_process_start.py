"""What `sbm` does to its process as it starts.

It pauses the cyclic garbage collector while it starts, and only then: a command runs
with the collector on (a long run that makes garbage cycles must not grow without
bound), whatever the way `main` ends. Commands that do no linear algebra start
OpenBLAS with one thread, unless the user chose otherwise.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

import click
import pytest

import sbm_engine.cli as cli_package
from sbm_engine.cli import main


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    gc.unfreeze()  # main() froze the test process's heap
    if was:
        gc.enable()


def _probe(seen: dict[str, object]) -> click.Command:
    @click.command()
    def probe() -> None:
        seen["command"] = gc.isenabled()
        seen["blas"] = os.environ.get("OPENBLAS_NUM_THREADS")

    return probe


def test_paused_while_the_command_is_imported_and_on_when_it_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, object] = {}
    real_import = cli_package.importlib.import_module

    def import_module(name: str) -> object:
        seen["import"] = gc.isenabled()
        return real_import(name)

    import sbm_engine.cli.check as check_module

    monkeypatch.setattr(cli_package.importlib, "import_module", import_module)
    monkeypatch.setattr(check_module, "check", _probe(seen))
    gc.enable()
    with pytest.raises(SystemExit) as exit_:
        main(["check"])
    assert exit_.value.code == 0
    assert seen["import"] is False
    assert seen["command"] is True
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("command", "user", "expected"),
    [("check", None, "1"), ("check", "4", "4"), ("drivers", None, None)],
)
def test_one_blas_thread_for_commands_without_linear_algebra(
    monkeypatch: pytest.MonkeyPatch, command: str, user: str | None, expected: str | None
) -> None:
    """`check` gets one OpenBLAS thread unless the user set a number; `drivers`
    (regressions on the wave) keeps OpenBLAS's own choice."""
    import sbm_engine.cli.check as check_module
    import sbm_engine.cli.drivers as drivers_module

    seen: dict[str, object] = {}
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", user or "")  # restored after the test
    if user is None:
        monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    module = check_module if command == "check" else drivers_module
    monkeypatch.setattr(module, command, _probe(seen))
    with pytest.raises(SystemExit):
        main([command])
    assert seen["blas"] == expected


def test_the_library_leaves_the_environment_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """`cli.main` called as a library (click's runner) is not `sbm` starting a process."""
    from click.testing import CliRunner

    import sbm_engine.cli.check as check_module
    from sbm_engine.cli import cli

    seen: dict[str, object] = {}
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "")  # restored after the test
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    monkeypatch.setattr(check_module, "check", _probe(seen))
    assert CliRunner().invoke(cli, ["check"]).exit_code == 0
    assert seen["blas"] is None


@pytest.mark.parametrize("argv", [["--help"], ["no-such-command"], ["--version"]])
def test_on_again_when_no_command_ran(argv: list[str]) -> None:
    gc.enable()
    with pytest.raises(SystemExit):
        main(argv)
    assert gc.isenabled()


def test_left_off_when_the_caller_had_turned_it_off() -> None:
    gc.disable()
    with pytest.raises(SystemExit):
        main(["--help"])
    assert not gc.isenabled()
