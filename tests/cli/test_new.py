"""`sbm new`: the file it writes passes its own check, whatever the base."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import sbm_engine
from sbm_engine.api import _providers
from sbm_engine.cli import cli
from sbm_engine.loader import Loader

BASES = sorted(Loader((), _providers()).known_standards())


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="sbm")
    return result.exit_code, result.output


@pytest.mark.parametrize("base", BASES)
def test_a_new_standard_passes_its_own_check(
    base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = run("new", "acme.branch", "--extends", base, "-o", "acme.sbm")
    assert code == 0, output
    code, output = run("check", "acme.sbm")
    assert code == 0, output
    text = (tmp_path / "acme.sbm").read_text(encoding="utf-8")
    std = sbm_engine.load(tmp_path / "acme.sbm")
    if 'example "a flawless visit"' in text:
        assert [o.name for o in std.run_examples() if o.passed] == ["a flawless visit"]


def test_the_example_fails_once_an_edit_changes_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("new", "acme.branch", "--extends", "library.stages", "-o", "a.sbm")[0] == 0
    path = tmp_path / "a.sbm"
    text = path.read_text(encoding="utf-8")
    assert "expect visit == 1" in text
    path.write_text(text.replace('farewell = "yes"', 'farewell = "no"'), encoding="utf-8")
    code, output = run("check", "a.sbm")
    assert code == 1 and "E0801" in output


def test_a_title_with_quotes_and_backslashes_is_written_as_a_string(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    title = 'Отделение "Центр" \\ 2'
    assert run("new", "acme.x", "--extends", "library.stages", "--title", title)[0] == 0
    assert sbm_engine.load(tmp_path / "acme_x.sbm").model.title == title


def test_an_unknown_base_lists_what_can_be_extended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = run("new", "acme.x", "--extends", "no.such")
    assert code == 2
    assert "standards that can be extended here:" in output and "library.stages" in output


def test_the_example_gives_required_fields_and_leaves_computed_items_out(
    tmp_path: Path,
) -> None:
    from sbm_engine.scaffold import new_standard_text

    (tmp_path / "base.sbm").write_text(
        "standard acme.base {\n"
        "    field scenario required one of { deposit, loan }\n"
        "    field day date required\n"
        "    field at datetime required\n"
        '    item q "Q" answer { yes = 1, no = 0 }\n'
        '    item wait "Wait" answer number value = visit.at - visit.at score = 1\n'
        "    coefficient c = if visit.scenario == deposit then q else 0\n"
        "}\n",
        encoding="utf-8",
    )
    text = new_standard_text("acme.x", sbm_engine.load(tmp_path / "base.sbm"), None, "x.sbm")
    assert 'scenario = "deposit"' in text and 'day = "2026-01-01"' in text
    assert "wait =" not in text
    (tmp_path / "x.sbm").write_text(text, encoding="utf-8")
    std = sbm_engine.load(tmp_path / "x.sbm")
    assert [o.passed for o in std.run_examples()] == [True]
    assert "expect c == 1" in text
