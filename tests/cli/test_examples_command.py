"""`sbm test`: selecting examples, coverage, and the same exit status as `sbm check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sbm_engine.cli import cli

STANDARD = """standard t.cov {
    item a "A" answer { yes = 1, no = 0 }
    item b "B" answer { yes = 1, no = 0 }
    item c "C" answer { yes = 1, no = 0 } optional
    coefficient visit = weighted_mean(items)
    coefficient other = a
    bands visit { top >= 0.9, mid >= 0.5, low }
    example "all yes" {
        answers { a = yes, b = yes }
        expect visit == 1
    }
    example "half" {
        answers { a = yes, b = no }
        expect visit == 0.5
    }
}
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="sbm")
    return result.exit_code, result.output


@pytest.fixture
def standard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.sbm").write_text(STANDARD, encoding="utf-8")
    return "t.sbm"


def test_k_runs_only_the_examples_whose_name_matches(standard: str) -> None:
    code, output = run("test", standard, "-k", "HALF")
    assert code == 0
    assert "PASS t.cov: half" in output and "all yes" not in output
    assert output.rstrip().endswith("1 passed, 0 failed")


def test_coverage_names_what_no_example_reaches(standard: str) -> None:
    code, output = run("test", standard, "--coverage")
    assert code == 0
    line = next(x for x in output.splitlines() if x.startswith("coverage of t.cov"))
    assert "items 2 of 3 scored by an example (not: c)" in line
    assert "coefficients 1 of 2 read by an `expect` (not: other)" in line
    assert "bands of visit 2 of 3 given (never: low)" in line
    code, output = run("test", standard, "--coverage", "--format", "json")
    data = json.loads(output)
    assert data["coverage"][0]["items"] == {"covered": 2, "total": 3, "missing": ["c"]}
    assert data["coverage"][0]["bands"]["visit"] == {"given": ["top", "mid"], "never": ["low"]}


def test_a_standard_with_errors_fails_test_as_it_fails_check(tmp_path: Path) -> None:
    path = tmp_path / "bad.sbm"
    path.write_text("standard t.bad {\n    coefficient c = nothing\n}\n", encoding="utf-8")
    check_code, _ = run("check", str(path))
    test_code, output = run("test", str(path))
    assert check_code == test_code == 1
    assert output.rstrip().endswith("0 passed, 0 failed, 1 standard with errors")


def test_score_refuses_a_standard_whose_examples_fail_unless_told(tmp_path: Path) -> None:
    std = tmp_path / "fx.sbm"
    std.write_text(
        'standard t.fx {\n    item a "A" answer { yes = 1, no = 0 }\n    coefficient visit = a\n'
        '    example "e" {\n        answers { a = yes }\n        expect visit == 0.5\n    }\n}\n',
        encoding="utf-8",
    )
    visits = tmp_path / "v.jsonl"
    visits.write_text('{"visit_id": "1", "answers": {"a": "yes"}}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, output = run("score", str(std), str(visits), "-o", str(out))
    assert code == 2 and not out.exists()
    assert "E0801" in output and "--allow-failing-examples" in output
    code, output = run("score", str(std), str(visits), "-o", str(out), "--allow-failing-examples")
    assert code == 0 and out.exists()
    assert "warning: scoring with t.fx although 1 example check failed" in output
