"""`sbm` pauses the cyclic garbage collector while it starts, and only then.

A command runs with the collector on (a long run that makes garbage cycles must not
grow without bound), whatever the way `main` ends.
"""

from __future__ import annotations

import gc
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


def _probe(seen: dict[str, bool]) -> click.Command:
    @click.command()
    def probe() -> None:
        seen["command"] = gc.isenabled()

    return probe


def test_paused_while_the_command_is_imported_and_on_when_it_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, bool] = {}
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
    assert seen == {"import": False, "command": True}
    assert gc.isenabled()


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
