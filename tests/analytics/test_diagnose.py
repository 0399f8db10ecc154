"""`sbm diagnose` and `sbm_engine.analytics.diagnosis`: where losses sit.

Waves of the conformance standard are built so that one item (`greeted`) fails in a
known pattern: in one point (local), at some specialists of every point
(individual), at every specialist equally and often (systemic), or now and then at
specialists who pass it otherwise (will, not skill). The variance components are
checked against the textbook balanced-design formulas and, for any design, to be
shares: non-negative, summing to 1.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from demo import DEMO, GOOD
from hypothesis import given, settings
from hypothesis import strategies as st

import sbm_engine
from sbm_engine.analytics.diagnosis import Thresholds, diagnose, variance_components
from sbm_engine.cli import cli
from sbm_engine.rollup import Rollup

STD = sbm_engine.load(DEMO)
REGIONS = {"R1": ["P1", "P2", "P3"], "R2": ["P4", "P5", "P6"]}
SPECIALISTS = 3
VISITS = 8

Pattern = Callable[[str, int, int], bool]  # (point, specialist, visit) -> greeted passed


def wave(pattern: Pattern) -> list[dict[str, Any]]:
    out = []
    for region, points in REGIONS.items():
        for point in points:
            for s in range(SPECIALISTS):
                for v in range(VISITS):
                    answers = dict(
                        GOOD, smile="yes", greeted="yes" if pattern(point, s, v) else "no"
                    )
                    out.append(
                        {
                            "visit_id": f"{point}-{s}-{v}",
                            "point": point,
                            "specialist": f"{point}-S{s}",
                            "region": region,
                            "date": "2026-03-10",
                            "scenario": "deposit",
                            "answers": answers,
                        }
                    )
    return [r.to_dict() for r in STD.score_many(out)]


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def greeted(report: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in report["items"] if r["item"] == "greeted")


PATTERNS: dict[str, Pattern] = {
    "local": lambda point, s, v: point != "P1",
    "individual": lambda point, s, v: s != 0,
    "systemic": lambda point, s, v: v % 2 == 1,
    "will-not-skill": lambda point, s, v: v % 8 != 0,
}
KIND = {
    "local": "process-and-management",
    "individual": "training",
    "systemic": "standard-or-process",
    "will-not-skill": "motivation",
}


@pytest.mark.parametrize("verdict", list(PATTERNS))
def test_constructed_patterns_get_their_verdict(verdict: str, tmp_path: Path) -> None:
    path = write(tmp_path / "wave.jsonl", wave(PATTERNS[verdict]))
    report = diagnose([path], standard=STD)
    item = greeted(report)
    assert item["verdict"] == verdict, item
    assert item["kind"] == KIND[verdict]
    shares = item["variance"]
    assert set(shares) == {"region", "point", "specialist", "visit"}
    assert sum(shares.values()) == pytest.approx(1.0)
    assert min(shares.values()) >= 0


def test_local_losses_name_the_point(tmp_path: Path) -> None:
    path = write(tmp_path / "wave.jsonl", wave(PATTERNS["local"]))
    item = greeted(diagnose([path], standard=STD))
    top = item["responsible"][0]
    assert top["key"] == "P1" and top["pass_rate"] == 0.0 and top["share_of_item_loss"] == 1.0
    assert item["pass_rate"] == pytest.approx(5 / 6)
    by_spec = greeted(diagnose([path], by="specialist", standard=STD))
    assert {g["key"] for g in by_spec["responsible"]} == {"P1-S0", "P1-S1", "P1-S2"}


def test_individual_losses_name_the_specialists(tmp_path: Path) -> None:
    path = write(tmp_path / "wave.jsonl", wave(PATTERNS["individual"]))
    item = greeted(diagnose([path], by="specialist", standard=STD, top=10))
    assert {g["key"] for g in item["responsible"]} == {f"P{i}-S0" for i in range(1, 7)}
    assert item["variance"]["specialist"] > 0.9
    assert item["inconsistent_share"] == 0.0  # S0 never passes: skill, not will


def test_lost_share_is_the_rollups(tmp_path: Path) -> None:
    rows = wave(PATTERNS["systemic"])
    path = write(tmp_path / "wave.jsonl", rows)
    report = diagnose([path], standard=STD)
    network = Rollup(STD.model, "network").add_many(rows).report()["groups"][0]
    zones = {z["item"]: z["lost_share"] for z in network["growth_zones"]}
    assert {r["item"]: r["lost_share"] for r in report["items"]} == pytest.approx(zones)


def test_independent_of_row_order(tmp_path: Path) -> None:
    rows = wave(PATTERNS["will-not-skill"])
    a = diagnose([write(tmp_path / "a.jsonl", rows)], standard=STD)
    random.Random(5).shuffle(rows)
    b = diagnose([write(tmp_path / "b.jsonl", rows)], standard=STD)
    for ra, rb in zip(a["items"], b["items"], strict=True):
        assert ra["item"] == rb["item"] and ra["verdict"] == rb["verdict"]
        assert ra["variance"] == pytest.approx(rb["variance"], abs=1e-9)


def test_thresholds_are_overridable(tmp_path: Path) -> None:
    path = write(tmp_path / "wave.jsonl", wave(PATTERNS["will-not-skill"]))
    item = greeted(diagnose([path], standard=STD, thresholds={"systemic_pass_rate": 0.9}))
    assert item["verdict"] == "systemic"
    few = greeted(diagnose([path], standard=STD, thresholds=Thresholds(min_visits=1000)))
    assert few["verdict"] == "unclear" and few["kind"] is None
    with pytest.raises(ValueError, match="unknown thresholds"):
        diagnose([path], standard=STD, thresholds={"local": 0.3})


# -- variance components ---------------------------------------------------------------------------


def test_balanced_design_matches_the_textbook() -> None:
    rng = np.random.default_rng(1)
    a, b, c, r = 3, 4, 3, 5
    y = (
        rng.normal(0, 1, (a, 1, 1, 1))
        + rng.normal(0, 0.7, (a, b, 1, 1))
        + rng.normal(0, 0.5, (a, b, c, 1))
        + rng.normal(0, 1, (a, b, c, r))
    )
    cells = [(i, j, k) for i in range(a) for j in range(b) for k in range(c)]
    n = np.full(len(cells), float(r))
    s = np.array([y[i, j, k].sum() for i, j, k in cells])
    ss = np.array([(y[i, j, k] ** 2).sum() for i, j, k in cells])
    _, sigma, _ = variance_components(cells, n, s, ss)
    gm = y.mean()
    m_r, m_p, m_s = y.mean(axis=(1, 2, 3)), y.mean(axis=(2, 3)), y.mean(axis=3)
    ms_r = b * c * r * ((m_r - gm) ** 2).sum() / (a - 1)
    ms_p = c * r * ((m_p - m_r[:, None]) ** 2).sum() / (a * (b - 1))
    ms_s = r * ((m_s - m_p[:, :, None]) ** 2).sum() / (a * b * (c - 1))
    ms_e = ((y - m_s[..., None]) ** 2).sum() / (a * b * c * (r - 1))
    assert sigma["visit"] == pytest.approx(ms_e)
    assert sigma["specialist"] == pytest.approx((ms_s - ms_e) / r)
    assert sigma["point"] == pytest.approx((ms_p - ms_s) / (c * r))
    assert sigma["region"] == pytest.approx((ms_r - ms_p) / (b * c * r))


cell_lists = st.lists(
    st.tuples(
        st.sampled_from(["R1", "R2", "R3"]),
        st.sampled_from(["P1", "P2", "P3", "P4"]),
        st.sampled_from(["S1", "S2", "S3"]),
        st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=1, max_size=6),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(cell_lists)
def test_variance_shares_sum_to_one_and_are_not_negative(
    cells: list[tuple[str, str, str, list[float]]],
) -> None:
    merged: dict[tuple[str, str, str], list[float]] = {}
    for region, point, spec, scores in cells:
        # points nested in regions, specialists in points
        merged.setdefault((region, f"{region}/{point}", f"{region}/{point}/{spec}"), []).extend(
            scores
        )
    keys = list(merged)
    n = np.array([len(merged[k]) for k in keys], dtype=float)
    s = np.array([sum(merged[k]) for k in keys])
    ss = np.array([sum(x * x for x in merged[k]) for k in keys])
    shares, sigma, clipped = variance_components(keys, n, s, ss)
    if shares is None:
        return
    assert sum(shares.values()) == pytest.approx(1.0)
    assert all(v >= 0 for v in shares.values())
    assert set(clipped) == {k for k, v in sigma.items() if v < 0}


def test_one_visit_groups_count_at_the_visit_level() -> None:
    """Every specialist seen once: no specialist component, whatever the scores."""
    keys = [("R", "P1", f"S{i}") for i in range(6)] + [("R", "P2", f"T{i}") for i in range(6)]
    scores = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    n = np.ones(len(keys))
    s = np.array(scores)
    shares, sigma, _ = variance_components(keys, n, s, s * s)
    assert shares is not None and shares["specialist"] == 0.0 and sigma["specialist"] == 0.0


# -- the command -----------------------------------------------------------------------------------


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["diagnose", *args])


def test_cli(tmp_path: Path) -> None:
    path = write(tmp_path / "wave.jsonl", wave(PATTERNS["local"]))
    std = str(DEMO)
    r = run(str(path), "--standard", std)
    assert r.exit_code == 0, r.output
    assert "local" in r.output and "process-and-management" in r.output
    r = run(str(path), "--standard", std, "--format", "json")
    doc = json.loads(r.stdout)
    item = greeted(doc)
    assert {"lost_share", "pass_rate", "variance", "verdict", "kind", "responsible"} <= set(item)
    for suffix in ("json", "csv", "xlsx"):
        out = tmp_path / f"d.{suffix}"
        r = run(str(path), "--standard", std, "-o", str(out))
        assert r.exit_code == 0, r.output
        assert out.stat().st_size > 0
    r = run(str(path), "--standard", std, "--local-share", "0.3", "--format", "json")
    assert json.loads(r.stdout)["thresholds"]["local_share"] == 0.3
    r = run(str(path), "--standard", std, "--min-visits", "500", "--format", "json")
    assert greeted(json.loads(r.stdout))["verdict"] == "unclear"
    limits = tmp_path / "limits.toml"
    limits.write_text("min_visits = 1000\n", "utf-8")
    r = run(str(path), "--standard", std, "--thresholds", str(limits), "--format", "json")
    assert greeted(json.loads(r.stdout))["verdict"] == "unclear"
    limits.write_text("local = 0.3\n", "utf-8")
    r = run(str(path), "--standard", std, "--thresholds", str(limits))
    assert r.exit_code == 2 and "unknown thresholds" in r.output
    r = run(str(tmp_path / "nope.jsonl"))
    assert r.exit_code == 2 and "no such file" in r.output


def test_a_standard_whose_items_cannot_lose_points(tmp_path: Path) -> None:
    """Every item a bonus (the Kano survey's attitudes): nothing loses, nothing fails."""
    import sbm_engine
    from sbm_engine.analytics.diagnosis import diagnose

    std = sbm_engine.load("survey.kano")
    pairs = [("like", "dislike"), ("neutral", "neutral"), ("must_be", "dislike")]
    records = [
        {
            "visit_id": str(k),
            "point": f"P{k % 2}",
            "specialist": f"S{k % 3}",
            "answers": {
                f"{a}_{side}": pair[i]
                for a in ("app", "service", "hotline", "loan", "ready")
                for i, side in enumerate("fd")
                for pair in [pairs[k % 3]]
            },
        }
        for k in range(12)
    ]
    scored = tmp_path / "scored.jsonl"
    scored.write_text(
        "".join(json.dumps(o.to_dict()) + "\n" for o in std.score_many(records)), encoding="utf-8"
    )
    report = diagnose([scored], "point")
    assert report["items"] == [] and report["visits"] == 12
