"""Real inputs of `sbm report`: the bank pack's two sample waves scored, its
calibration cases scored and calibrated, and a plan, each made by the command a user
runs. Shared by the report's tests of content, HTML, browser and workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from sbm_engine.analytics.reporting.content import build
from sbm_engine.analytics.reporting.model import Report
from sbm_engine.cli import cli

SAMPLE = Path(__file__).resolve().parent.parent / "plugins" / "sbm-bank" / "sample"


def run(*args: Any, rejected: bool = False) -> str:
    """`sbm ARGS…`; its standard output. The sample waves hold planted bad visits:
    scoring them rejects some (exit 1, `rejected`)."""
    done = CliRunner().invoke(cli, [str(a) for a in args])
    assert done.exit_code == (1 if rejected else 0), done.output
    return done.stdout


def bank_inputs(folder: Path) -> dict[str, Path]:
    """march.jsonl, april.jsonl (scored waves), plan.json and calibration.json."""
    out = {"march": folder / "march.jsonl", "april": folder / "april.jsonl"}
    run("score", "bank.branch", SAMPLE / "wave.jsonl", "-o", out["march"], rejected=True)
    run("score", "bank.branch", SAMPLE / "wave2.jsonl", "-o", out["april"], rejected=True)
    cal = []
    for case in sorted((SAMPLE / "calibration").glob("*.jsonl")):
        cal.append(folder / f"cal-{case.name}")
        run("score", "bank.branch", case, "-o", cal[-1])
    out["plan"] = folder / "plan.json"
    run(
        "plan",
        out["april"],
        "--levers",
        SAMPLE / "levers.toml",
        "--target",
        "visit=0.85",
        "-o",
        out["plan"],
    )
    out["calibration"] = folder / "calibration.json"
    run("calibrate", *cal, "-o", out["calibration"])
    return out


def bank_report(inputs: dict[str, Path], lang: str = "ru") -> Report:
    """The report of april with every topic: march before it, the plan, the calibration."""
    return build(
        [inputs["april"]],
        previous=[inputs["march"]],
        plan=inputs["plan"],
        calibration=inputs["calibration"],
        lang=lang,
    )
