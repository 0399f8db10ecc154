"""CLI behaviour pinned by snapshots, like ruff: arguments -> exit code, stdout, stderr.

Each case runs in a scratch folder holding copies of the conformance files, so
paths in messages are stable. Timings are the only thing normalised. To accept a
deliberate change: `SBM_UPDATE_SNAPSHOTS=1 pytest tests/cli`, then review the diff.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sbm_engine.cli import cli

HERE = Path(__file__).parent
SNAPSHOTS = HERE / "snapshots"
CONFORMANCE = HERE.parent / "conformance"

BAD = """\
standard broken "Сломанный стандарт" {
    scale yes_no { yes = 1, no = 0 }
    item greeted "Поприветствовал" answer yes_no
    item smile "Улыбка" answer yes_n
    coefficient c = weighted_mean(greted: 1, smile: 1)
    bands c { good >= 0.5, great >= 0.9, poor }
}
"""

SYNTAX = """\
standard broken {
    item greeted answer yes_no
}
"""

FAILING_EXAMPLE = """\
standard failing {
    scale yes_no { yes = 1, no = 0 }
    item greeted "Поприветствовал" answer yes_no
    coefficient visit = greeted
    example "greeting counts fully" {
        answers { greeted = no }
        expect visit == 1
    }
}
"""

CASES: dict[str, list[str]] = {
    "help": ["--help"],
    "score_help": ["score", "--help"],
    "check_ok": ["check", "demo_branch.sbm"],
    "check_errors": ["check", "broken.sbm"],
    "check_errors_json": ["check", "broken.sbm", "--format", "json"],
    "check_syntax": ["check", "syntax.sbm"],
    "check_missing_file": ["check", "nowhere.sbm"],
    "test_ok": ["test", "demo_branch.sbm"],
    "test_failing": ["test", "failing.sbm"],
    "score_with_rejects": ["score", "demo_branch.sbm", "demo_visits.jsonl", "-o", "out.jsonl"],
    "score_json_summary": [
        "score",
        "demo_branch.sbm",
        "demo_visits.jsonl",
        "-o",
        "out.csv",
        "--format",
        "json",
    ],
    "score_bad_standard": ["score", "broken.sbm", "demo_visits.jsonl", "-o", "out.jsonl"],
    "score_missing_input": ["score", "demo_branch.sbm", "nowhere.jsonl", "-o", "out.jsonl"],
    "score_unknown_format": ["score", "demo_branch.sbm", "visits.txt", "-o", "out.jsonl"],
    "score_no_output": ["score", "demo_branch.sbm", "demo_visits.jsonl"],
    "rollup_point": ["rollup", "scored.jsonl", "--by", "point", "--standard", "demo_branch.sbm"],
    "rollup_bad_level": ["rollup", "scored.jsonl", "--by", "planet"],
    "explain_scored": ["explain", "demo_branch.sbm", "demo_visits.jsonl", "--visit", "v04"],
    "explain_rejected": ["explain", "demo_branch.sbm", "demo_visits.jsonl", "--visit", "v08"],
    "explain_unknown_visit": ["explain", "demo_branch.sbm", "demo_visits.jsonl", "--visit", "v99"],
    "export_json": ["export", "demo_branch.sbm", "--to", "json"],
    "diff_changed": ["diff", "demo_branch.sbm", "demo_v2.sbm"],
    "diff_same": ["diff", "demo_branch.sbm", "demo_branch.sbm"],
    "new_unknown_base": ["new", "acme.branch", "--extends", "demo.brunch"],
}


@pytest.fixture
def no_packs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Snapshots must not depend on which packs happen to be installed, nor on the
    width of the terminal the tests run in (tables fit `COLUMNS`)."""
    from sbm_engine.plugins import reset_plugin_manager

    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("SBM_DISABLE_PLUGINS", "*")
    reset_plugin_manager()
    yield
    monkeypatch.delenv("SBM_DISABLE_PLUGINS")
    reset_plugin_manager()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_packs: None) -> Path:
    for name in ("demo_branch.sbm", "demo_visits.jsonl"):
        shutil.copy(CONFORMANCE / name, tmp_path / name)
    (tmp_path / "broken.sbm").write_text(BAD, encoding="utf-8")
    (tmp_path / "syntax.sbm").write_text(SYNTAX, encoding="utf-8")
    (tmp_path / "failing.sbm").write_text(FAILING_EXAMPLE, encoding="utf-8")
    (tmp_path / "visits.txt").write_text("{}\n", encoding="utf-8")
    v2 = (CONFORMANCE / "demo_branch.sbm").read_text(encoding="utf-8")
    v2 = v2.replace('version "2026.1"', 'version "2026.2"').replace(
        "target visit 0.85", "target visit 0.9"
    )
    v2 = v2.replace(
        "answer yes_no weight 2 tags compliance", "answer yes_no weight 3 tags compliance"
    )
    (tmp_path / "demo_v2.sbm").write_text(v2, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    CliRunner().invoke(cli, ["score", "demo_branch.sbm", "demo_visits.jsonl", "-o", "scored.jsonl"])
    return tmp_path


def _normalise(text: str) -> str:
    return re.sub(r"\d+\.\d+ s\b", "<T> s", re.sub(r'"seconds": [\d.]+', '"seconds": <T>', text))


def run(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args, prog_name="sbm")
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return (
        f"$ sbm {' '.join(args)}\n"
        f"exit: {result.exit_code}\n"
        f"--- stdout\n{_normalise(result.stdout)}"
        f"--- stderr\n{_normalise(result.stderr)}"
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_snapshot(workdir: Path, case: str) -> None:
    got = run(CASES[case])
    snap = SNAPSHOTS / f"{case}.txt"
    if os.environ.get("SBM_UPDATE_SNAPSHOTS") or not snap.exists():
        SNAPSHOTS.mkdir(exist_ok=True)
        snap.write_text(got, encoding="utf-8")
        if not os.environ.get("SBM_UPDATE_SNAPSHOTS"):
            pytest.fail(f"new snapshot written: {snap.name}; review it and run again")
    assert got == snap.read_text(encoding="utf-8")


def test_snapshots_have_no_orphans() -> None:
    assert {p.stem for p in SNAPSHOTS.glob("*.txt")} == set(CASES)
