"""Points and penalty scales, exact decimals, constants, and bands that go down or ask
for a condition: what each means, on both backends, and what the checker says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from reports import codes, one

import sbm_engine
from sbm_engine.api import check
from sbm_engine.exact import places_of
from sbm_engine.formatter import format_source
from sbm_engine.testing import assert_batch_agrees

HEAD = """standard t.points {
    scale level penalty { none = 0, I = 7, II = 8, V = 28 }
    scale extras points { none = 0, some = 2.5, all = 5 }
    scale tenths { low = 0.1, mid = 0.2, high = 0.7 }
"""


def _std(body: str) -> Any:
    return sbm_engine.loads(HEAD + body + "}\n")


def _score(std: Any, answers: dict[str, Any], **visit: Any) -> Any:
    records = [{"visit_id": "v", **visit, "answers": answers}]
    (out,) = assert_batch_agrees(std, records)
    assert out.ok, out.errors
    return out


def _check(tmp_path: Path, body: str) -> Any:
    path = tmp_path / "t.sbm"
    path.write_text(HEAD + body + "}\n", encoding="utf-8")
    return check(path)


# ---- points -------------------------------------------------------------------------------


def test_a_penalty_scale_scores_the_share_not_lost_and_points_read_the_points() -> None:
    std = _std(
        """
    item a "A" answer level tags v
    item b "B" answer level tags v optional
    item x "X" answer extras
    coefficient total = points(tagged v)
    coefficient one_of = points(b)
    coefficient most = max_points(tagged v)
    coefficient extra = points(x)
"""
    )
    out = _score(std, {"a": "II", "b": "na", "x": "some"})
    assert out.items["a"] == 20 / 28  # (28 − 8) / 28, one division
    assert out.items["x"] == 0.5
    assert out.coefficients == {"total": 8, "one_of": None, "most": 28, "extra": 2.5}
    out = _score(std, {"a": "V", "b": "I", "x": "all"})
    assert out.items["a"] == 0 and out.items["b"] == 0.75 and out.items["x"] == 1
    assert out.coefficients["total"] == 35 and out.coefficients["most"] == 56


def test_points_add_up_exactly_where_scores_would_drift() -> None:
    scale = " ".join(f"p{k} = {k / 10}," for k in range(1, 10))
    items = "\n".join(f'    item i{k} "I{k}" answer drift tags d' for k in range(10))
    std = sbm_engine.loads(
        f"standard t.drift {{\n    scale drift points {{ {scale} top = 1 }}\n{items}\n"
        "    coefficient total = points(tagged d)\n"
        "    bands total { high >= 1, low }\n}\n"
    )
    answers = {f"i{k}": "p1" for k in range(10)}
    out = _score(std, answers)
    assert out.coefficients["total"] == 1.0
    assert sum([0.1] * 10) < 1.0  # what adding the floats would give
    assert out.bands["total"] == "high"


def test_the_sum_of_nothing_is_zero_and_points_of_an_na_item_is_na() -> None:
    std = _std(
        """
    item a "A" answer level optional tags v
    coefficient total = points(tagged v)
    coefficient single = points(a)
    coefficient most = max_points(tagged v)
"""
    )
    out = _score(std, {"a": "na"})
    assert out.coefficients == {"total": 0, "single": None, "most": 0}


# ---- exact decimals -------------------------------------------------------------------------


def test_sums_and_products_of_decimals_are_exact_on_both_backends() -> None:
    std = _std(
        """
    item a "A" answer tenths
    item b "B" answer tenths
    item c "C" answer tenths weight 0.1
    coefficient ab = a + b
    coefficient triple = a * 3
    coefficient diff = 0.3 - a - b
    coefficient e = earned(items)
    coefficient wm = weighted_mean(items)
"""
    )
    out = _score(std, {"a": "low", "b": "mid", "c": "high"})
    assert out.coefficients["ab"] == 0.3
    assert out.coefficients["triple"] == 0.3
    assert out.coefficients["diff"] == 0.0
    assert out.coefficients["e"] == 0.37  # 0.1 + 0.2 + 0.1 × 0.7
    assert out.coefficients["wm"] == pytest.approx(0.37 / 2.1)  # a division: left as it is


def test_what_has_no_fixed_decimals_is_left_alone() -> None:
    std = sbm_engine.loads(
        """standard t.loose {
    item n "N" answer number 0..10
    item m "M" answer number 0..10
    coefficient s = answer(n) + answer(m)
}
"""
    )
    out = _score(std, {"n": 0.1, "m": 0.2})
    assert out.coefficients["s"] == 0.1 + 0.2  # the visit's decimals are not the standard's


@pytest.mark.parametrize(
    ("x", "places"),
    [(0.25, 2), (3.0, 0), (0.1, 1), (1e-5, 5), (1e20, 0), (0.1234567891, None)],
)
def test_places_of_a_float(x: float, places: int | None) -> None:
    assert places_of(x) == places


def test_huge_values_are_not_rounded() -> None:
    std = sbm_engine.loads(
        """standard t.huge {
    item a "A" answer { low = 0.1, high = 0.2 }
    coefficient big = a * 100000000000000000000 + 1
}
"""
    )
    out = _score(std, {"a": "low"})
    assert out.coefficients["big"] == 0.1 * 1e20 + 1  # beyond what rounding can hold exactly


# ---- constants ----------------------------------------------------------------------------


def test_a_constant_reads_as_its_number() -> None:
    std = _std(
        """
    const LIMIT = 13
    const STEP = 0.1
    item a "A" answer level
    coefficient over = points(a) - LIMIT
    coefficient stepped = STEP + STEP + STEP
    rollup r = LIMIT + visits
"""
    )
    out = _score(std, {"a": "V"})
    assert out.coefficients == {"over": 15, "stepped": 0.3}
    assert std.model.constants == {"LIMIT": (13.0, "13"), "STEP": (0.1, "0.1")}


def test_soft_keywords_still_name_things() -> None:
    std = sbm_engine.loads(
        """standard t.soft {
    scale penalty { yes = 1, no = 0 }
    item points "P" answer penalty
    item const "C" answer penalty
    coefficient total = points + const
}
"""
    )
    assert _score(std, {"points": "yes", "const": "no"}).coefficients["total"] == 1


# ---- bands ----------------------------------------------------------------------------------


BANDS = """
    item a "A" answer level
    item b "B" answer level
    coefficient total = points(items)
    coefficient worst = max(points(a), points(b))
"""


def test_bands_where_lower_is_better() -> None:
    std = _std(BANDS + "    bands total { A <= 13, B <= 27, C }\n")
    assert _score(std, {"a": "I", "b": "none"}).bands == {"total": "A"}
    assert _score(std, {"a": "V", "b": "none"}).bands == {"total": "C"}
    assert _score(std, {"a": "II", "b": "II"}).bands == {"total": "B"}


def test_a_band_holds_only_where_its_condition_does() -> None:
    std = _std(
        BANDS
        + """    bands total { top <= 14 when worst <= 7, fine <= 16, fail }
    coefficient reads_band = if band(total) == top then 1 else 0
"""
    )
    assert _score(std, {"a": "I", "b": "I"}).bands == {"total": "top"}
    out = _score(std, {"a": "II", "b": "none"})  # 8 points, but a single 8 is more than 7
    assert out.bands == {"total": "fine"} and out.coefficients["reads_band"] == 0


def test_a_condition_that_is_na_does_not_hold() -> None:
    std = _std(
        """
    item a "A" answer level
    item b "B" answer level optional
    coefficient total = points(a)
    bands total { top <= 10 when points(b) < 5, rest }
"""
    )
    assert _score(std, {"a": "none", "b": "na"}).bands == {"total": "rest"}
    assert _score(std, {"a": "none", "b": "none"}).bands == {"total": "top"}


def test_the_band_of_a_mean_ignores_bands_with_conditions() -> None:
    std = _std(BANDS + "    bands total { top <= 14 when worst <= 7, fail }\n")
    assert std.model.bands["total"].band_of(10.0) is None
    plain = _std(BANDS + "    bands total { top <= 14, fail }\n")
    assert plain.model.bands["total"].band_of(10.0) == "top"
    assert plain.model.bands["total"].band_of(20.0) == "fail"


# ---- diagnostics ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        ("    scale bad points { a = -1, b = 2 }\n", "E0502", "below 0"),
        ("    scale none_worth points { a = 0, b = 0 }\n", "E0504", "worth any points"),
        (
            '    item a "A" answer level score = 1\n',
            "E0104",
            "its score comes from the points",
        ),
        (
            '    item a "A" answer tenths\n    coefficient c = points(a)\n',
            "E0301",
            "has no points",
        ),
        (
            '    item a "A" answer tenths tags t\n    item b "B" answer level tags t\n'
            "    coefficient c = max_points(tagged t)\n",
            "E0301",
            "has no points",
        ),
        (
            '    item a "A" answer tenths\n    coefficient c = a\n'
            "    bands c { x >= 0.5, y <= 0.7, z }\n",
            "E0503",
            "mix `>=` and `<=`",
        ),
        (
            '    item a "A" answer tenths\n    coefficient c = a\n'
            "    bands c { x <= 0.5, y <= 0.2, z }\n",
            "E0503",
            "is not above",
        ),
        (
            '    item a "A" answer tenths\n    coefficient c = a\n'
            "    bands c { x >= 0.5, y when a > 0.1 }\n",
            "E0506",
            "without a catch-all",
        ),
        (
            '    item a "A" answer tenths\n    coefficient c = a\n'
            "    bands c { x >= 0.5 when band(c) == y, y }\n",
            "E0401",
            "band(c)",
        ),
        ('    const k = 1\n    const k = 2\n    item a "A" answer tenths\n', "E0101", "`k`"),
    ],
)
def test_diagnostics(tmp_path: Path, body: str, code: str, text: str) -> None:
    report = _check(tmp_path, body)
    assert code in codes(report), codes(report)
    assert text in one(report, code).message


def test_a_conditional_band_may_repeat_a_threshold(tmp_path: Path) -> None:
    report = _check(
        tmp_path,
        '    item a "A" answer tenths\n    coefficient c = a\n'
        "    bands c { x >= 0.5 when a > 0.6, y >= 0.5, z }\n",
    )
    assert [c for c in codes(report) if c.startswith("E")] == []


# ---- formatting ---------------------------------------------------------------------------


def test_fmt_keeps_the_new_constructs() -> None:
    source = (
        "standard t.fmt {\n"
        "    const   LIMIT = 13\n"
        "    scale level   penalty { none = 0, I = 7 }\n"
        '    item a "A" answer level\n'
        "    coefficient total = points(a)\n"
        "    bands total { A<=13 when total>=0 , B }\n"
        "}\n"
    )
    out = format_source(source, "t.sbm")
    assert "const LIMIT = 13\n" in out
    assert "scale level penalty { none = 0, I = 7 }" in out
    assert "bands total { A <= 13 when total >= 0, B }" in out
    assert format_source(out, "t.sbm") == out


# ---- export -------------------------------------------------------------------------------


def test_the_questionnaire_exports_points_constants_and_conditional_bands() -> None:
    from sbm_engine.export import json_schema, questionnaire

    std = _std(
        BANDS
        + """    const LIMIT = 13
    bands total { top <= 14 when worst <= 7, fine <= 16, fail }
"""
    )
    q = questionnaire(std.model)
    a = next(i for i in q["items"] if i["name"] == "a")
    assert a["answer"]["points"] == "penalty"
    assert [o["points"] for o in a["answer"]["options"]] == [0, 7, 8, 28]
    assert q["constants"] == {"LIMIT": 13}
    assert q["bands"]["total"] == [
        {"label": "top", "max": 14, "when": "worst <= 7"},
        {"label": "fine", "max": 16},
        {"label": "fail", "max": None},
    ]
    pattern = json_schema(std.model)["properties"]["answers"]["properties"]["a"]["anyOf"][0]
    assert re.match(pattern["pattern"], " ii ") and not re.match(pattern["pattern"], "III")


def test_diff_sees_constants_points_bands_and_labels() -> None:
    from sbm_engine.compare import diff

    base = (
        "standard t.d {\n    const K = 1\n    scale lv penalty { none = 0, I = 7 }\n"
        '    item a "A" answer lv\n    coefficient total = points(a)\n'
        '    coefficient name = if total > 0 then "cited" else "clean"\n'
        "    bands total { top <= 1 when total >= 0, rest }\n}\n"
    )
    changed = (
        base.replace("K = 1", "K = 2")
        .replace("I = 7", "I = 8")
        .replace('"cited"', '"found"')
        .replace("when total >= 0", "when total >= 1")
    )
    d = diff(sbm_engine.loads(base).model, sbm_engine.loads(changed).model)
    assert [c["name"] for c in d["constants"]["changed"]] == ["K"]
    assert "penalty { none = 0, I = 8 }" in d["scales"]["changed"][0]["changes"]["entries"]["new"]
    assert [c["name"] for c in d["coefficients"]["changed"]] == ["name"]
    assert d["bands"]["changed"][0]["changes"]["bands"]["new"] == "top <= 1 when total >= 1, rest"


def test_targets_and_thresholds_may_be_constants(tmp_path: Path) -> None:
    body = """
    const A_MAX = 13
    const GOAL = 0.5
    item a "A" answer level
    coefficient total = points(a)
    coefficient share = a
    target share GOAL
    bands total { A <= A_MAX, B }
"""
    std = _std(body)
    assert std.model.targets == {"share": 0.5}
    assert std.model.bands["total"].bands == (("A", 13.0), ("B", None))
    assert _score(std, {"a": "II"}).bands == {"total": "A"}
    out = format_source(HEAD + body + "}\n", "t.sbm")
    assert "bands total { A <= A_MAX, B }" in out and "target share GOAL" in out
    report = _check(tmp_path, body.replace("A <= A_MAX", "A <= A_MAXX"))
    assert "did you mean `A_MAX`" in (one(report, "E0201").help or "")
