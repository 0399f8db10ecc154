"""The language's semantics, one rule at a time, through `sbm_engine.loads(text).score(record)`.

Each test states a rule of the language reference (docs/language.md, after the
spec's "Semantics" section) and checks it on the smallest standard that shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import sbm_engine
from sbm_engine.results import RejectedVisit, ScoredVisit

TOL = 1e-9

YES_NO = 'scale yes_no { yes = 1 alias "да" "true", no = 0 alias "нет" }'
GRADE5 = "scale grade5 { 1 = 0, 2 = 0.25, 3 = 0.5, 4 = 0.75, 5 = 1 }"


def standard(body: str, head: str = "standard sem.t") -> sbm_engine.CompiledStandard:
    """A standard with the two common scales and `body` inside."""
    return sbm_engine.loads(f"{head} {{\n    {YES_NO}\n    {GRADE5}\n{body}\n}}\n", "sem.sbm")


def score(
    std: sbm_engine.CompiledStandard, answers: Mapping[str, Any], **visit: Any
) -> ScoredVisit:
    outcome = std.score({"visit_id": "v1", **visit, "answers": dict(answers)})
    assert isinstance(outcome, ScoredVisit), f"rejected: {outcome.errors}"  # type: ignore[union-attr]
    return outcome


def reject(
    std: sbm_engine.CompiledStandard, answers: Mapping[str, Any], **visit: Any
) -> RejectedVisit:
    outcome = std.score({"visit_id": "v1", **visit, "answers": dict(answers)})
    assert isinstance(outcome, RejectedVisit), f"scored: {outcome}"
    return outcome


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= TOL


# ---- answers: labels, aliases, numbers ------------------------------------------------------


@pytest.fixture(scope="module")
def labels() -> sbm_engine.CompiledStandard:
    return standard(
        '    item g "G" answer yes_no\n    item q "Q" answer grade5\n'
        '    item s "S" answer { "very good" = 1 alias "отлично", "bad" = 0 }'
    )


@pytest.mark.parametrize("answer", ["yes", "YES", " Yes ", "да", "ДА", "  Да\t", "true", "TRUE"])
def test_labels_and_aliases_ignore_case_and_surrounding_spaces(labels, answer: Any) -> None:
    assert score(labels, {"g": answer, "q": 5, "s": "bad"}).items["g"] == 1


@pytest.mark.parametrize("answer", [4, "4", 4.0, "4.0", " 4 ", "4,0"])
def test_numeric_labels_match_numbers_and_numeric_text(labels, answer: Any) -> None:
    assert score(labels, {"g": "no", "q": answer, "s": "bad"}).items["q"] == 0.75


@pytest.mark.parametrize("answer", ["Very Good", " very good ", "ОТЛИЧНО"])
def test_string_labels_with_spaces(labels, answer: str) -> None:
    assert score(labels, {"g": "no", "q": 1, "s": answer}).items["s"] == 1


@pytest.mark.parametrize("answer", ["yess", "ye s", 1, 0.5])
def test_an_answer_off_the_scale_rejects_the_visit(labels, answer: Any) -> None:
    out = reject(labels, {"g": answer, "q": 1, "s": "bad"})
    assert [(e.item, e.code) for e in out.errors] == [("g", "not_in_scale")]


def test_off_scale_answers_get_a_did_you_mean(labels) -> None:
    out = reject(labels, {"g": "yess", "q": 1, "s": "bad"})
    assert out.errors[0].message.endswith("did you mean `yes`?")


@pytest.mark.parametrize("answer", [6, "6", 4.5, "four"])
def test_numbers_off_a_numeric_scale_are_rejected(labels, answer: Any) -> None:
    out = reject(labels, {"g": "no", "q": answer, "s": "bad"})
    assert [(e.item, e.code) for e in out.errors] == [("q", "not_in_scale")]


def test_a_boolean_is_not_a_numeric_label() -> None:
    std = standard('    item b "B" answer { 0 = 0, 1 = 1 }')
    out = reject(std, {"b": True})
    assert [(e.item, e.code) for e in out.errors] == [("b", "not_in_scale")]


# ---- N/A, required, optional, missing -------------------------------------------------------

NA_TOKENS = ["na", "NA", "n/a", "N/A", " N/A ", "н/п", "Н/П", None]


@pytest.fixture(scope="module")
def presence() -> sbm_engine.CompiledStandard:
    return standard(
        '    item plain "P" answer yes_no\n'
        '    item req "R" answer yes_no required\n'
        '    item opt "O" answer yes_no optional\n'
        '    item num "N" answer number 0..10 optional\n'
        '    item txt "T" answer text optional'
    )


def _answers(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"plain": "yes", "req": "yes", "opt": "yes"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not _ABSENT}


_ABSENT = object()


@pytest.mark.parametrize("token", NA_TOKENS)
def test_na_token_makes_a_default_item_na(presence, token: Any) -> None:
    assert score(presence, _answers(plain=token)).items["plain"] is None


@pytest.mark.parametrize("token", NA_TOKENS)
def test_na_token_makes_an_optional_item_na(presence, token: Any) -> None:
    assert score(presence, _answers(opt=token)).items["opt"] is None


@pytest.mark.parametrize("token", NA_TOKENS)
def test_na_token_on_a_required_item_is_an_error(presence, token: Any) -> None:
    out = reject(presence, _answers(req=token))
    assert [(e.item, e.code) for e in out.errors] == [("req", "na_not_allowed")]


@pytest.mark.parametrize("item", ["plain", "req"])
@pytest.mark.parametrize("missing", [_ABSENT, "", "   "])
def test_a_missing_answer_is_an_error_unless_optional(presence, item: str, missing: Any) -> None:
    out = reject(presence, _answers(**{item: missing}))
    assert [(e.item, e.code) for e in out.errors] == [(item, "missing")]


@pytest.mark.parametrize("missing", [_ABSENT, ""])
def test_a_missing_answer_to_an_optional_item_is_na(presence, missing: Any) -> None:
    out = score(presence, _answers(opt=missing))
    assert out.items["opt"] is None and out.items["num"] is None and out.items["txt"] is None


def test_all_errors_of_a_visit_are_reported_together(presence) -> None:
    out = reject(presence, {"req": "na", "opt": "maybe", "num": 11, "txt": "ok", "extra": 1})
    assert sorted((e.item, e.code) for e in out.errors) == [
        ("extra", "unknown_item"),
        ("num", "out_of_range"),
        ("opt", "not_in_scale"),
        ("plain", "missing"),
        ("req", "na_not_allowed"),
    ]


def test_na_is_excluded_from_a_mean_not_counted_as_zero() -> None:
    std = standard(
        '    item a "A" answer yes_no\n    item b "B" answer yes_no\n'
        "    coefficient m = weighted_mean(items)"
    )
    assert score(std, {"a": "yes", "b": "na"}).coefficients["m"] == 1
    assert score(std, {"a": "na", "b": "na"}).coefficients["m"] is None


# ---- applicability --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def when() -> sbm_engine.CompiledStandard:
    return standard("""    section loan "Кредит" when visit.scenario == "loan" {
        item rate "Назвал ставку" answer yes_no required
    }
    item card "Предложил карту" answer yes_no when visit.scenario == "deposit"
    item gate "Ворота" answer yes_no
    item follow "Следом за воротами" answer yes_no when answer(gate) == yes
    coefficient m = weighted_mean(items)""")


def test_section_when_false_makes_its_items_na_and_not_required(when) -> None:
    out = score(when, {"card": "yes", "gate": "no"}, scenario="deposit")
    assert out.items["rate"] is None and out.sections["loan"] is None
    assert out.items["follow"] is None
    assert out.coefficients["m"] == 0.5


def test_section_when_true_applies_its_items(when) -> None:
    out = reject(when, {"gate": "no"}, scenario="loan")
    assert [(e.item, e.code) for e in out.errors] == [("rate", "missing")]
    assert score(when, {"rate": "no", "gate": "no"}, scenario="loan").sections["loan"] == 0


def test_a_condition_that_is_na_counts_as_false(when) -> None:
    """No scenario: `visit.scenario == "loan"` is N/A, so neither section nor item applies."""
    out = score(when, {"gate": "na"})
    assert out.items["rate"] is None and out.items["card"] is None
    assert out.items["follow"] is None  # answer(gate) is N/A: the condition is N/A
    assert out.coefficients["m"] is None


def test_an_answer_to_an_item_that_does_not_apply_is_ignored_with_a_warning(when) -> None:
    out = score(
        when, {"rate": "yes", "card": "yes", "gate": "yes", "follow": "no"}, scenario="loan"
    )
    assert out.items["card"] is None
    assert [w.item for w in out.warnings] == ["card"]
    assert "does not apply" in out.warnings[0].message


def test_an_na_token_for_an_item_that_does_not_apply_is_not_warned(when) -> None:
    out = score(
        when, {"rate": "yes", "card": "н/п", "gate": "yes", "follow": "no"}, scenario="loan"
    )
    assert out.warnings == ()


def test_conditions_may_read_coefficients_declared_anywhere() -> None:
    std = standard("""    item b "B" answer yes_no optional when c > 0.5
    coefficient c = a
    item a "A" answer yes_no""")
    assert score(std, {"a": "yes", "b": "no"}).items["b"] == 0
    out = score(std, {"a": "no", "b": "no"})
    assert out.items["b"] is None and [w.item for w in out.warnings] == ["b"]


def test_an_item_condition_is_not_evaluated_when_its_section_does_not_apply() -> None:
    std = standard("""    item n "N" answer number 0..10
    section s "S" when visit.scenario == "x" {
        item d "D" answer yes_no optional when 1 / answer(n) > 0
    }""")
    assert score(std, {"n": 0}, scenario="y").items["d"] is None


def test_an_invalid_answer_to_an_item_that_does_not_apply_is_ignored(when) -> None:
    out = score(when, {"card": "maybe", "gate": "no"}, scenario="deposit_x")
    assert out.items["card"] is None and [w.item for w in out.warnings] == ["card"]


# ---- number items and score formulas --------------------------------------------------------


@pytest.fixture(scope="module")
def numbers() -> sbm_engine.CompiledStandard:
    return standard("""    item wait "Ожидание" answer number 0..20
    item temp "Температура" answer number 18..26
        score = if value >= 20 and value <= 24 then 1 else 0.5
    item raw "Без шкалы" answer number optional
    item g "Поприветствовал" answer yes_no score = if value == yes then 1 else 0.25
    coefficient w = answer(wait)
    coefficient r = answer(raw)""")


@pytest.mark.parametrize(
    ("answer", "expected"), [(0, 0), (5, 0.25), (20, 1), ("10", 0.5), ("7,5", 0.375), (2.5, 0.125)]
)
def test_number_range_scores_linearly(numbers, answer: Any, expected: float) -> None:
    out = score(numbers, {"wait": answer, "temp": 22, "g": "no"})
    assert close(out.items["wait"], expected)
    assert close(
        out.coefficients["w"],
        float(answer if not isinstance(answer, str) else answer.replace(",", ".")),
    )


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (21, "out_of_range"),
        (-1, "out_of_range"),
        ("ten", "not_a_number"),
        (float("nan"), "not_a_number"),
    ],
)
def test_numbers_outside_the_range_or_not_numbers_are_rejected(
    numbers, answer: Any, code: str
) -> None:
    out = reject(numbers, {"wait": answer, "temp": 22, "g": "no"})
    assert [(e.item, e.code) for e in out.errors] == [("wait", code)]


def test_score_formula_reads_value(numbers) -> None:
    out = score(numbers, {"wait": 0, "temp": 19, "g": "yes"})
    assert out.items["temp"] == 0.5 and out.items["g"] == 1
    out = score(numbers, {"wait": 0, "temp": 22, "g": "нет"})
    assert out.items["temp"] == 1 and out.items["g"] == 0.25


def test_a_number_without_range_or_formula_is_unscored_but_readable(numbers) -> None:
    out = score(numbers, {"wait": 0, "temp": 22, "g": "no", "raw": 1234.5})
    assert out.items["raw"] is None
    assert out.coefficients["r"] == 1234.5


def test_value_of_a_numeric_scale_item_is_a_number() -> None:
    std = standard('    item q "Q" answer grade5 score = if value >= 4 then 1 else value / 10')
    assert score(std, {"q": "4"}).items["q"] == 1
    assert close(score(std, {"q": 3}).items["q"], 0.3)


def test_score_formula_of_an_na_answer_is_na(numbers) -> None:
    out = score(numbers, {"wait": 0, "temp": "na", "g": "na"})
    assert out.items["temp"] is None and out.items["g"] is None


def test_score_outside_0_1_rejects_the_visit() -> None:
    std = standard('    item speed "Скорость" answer number 0..10 score = value / 5')
    assert score(std, {"speed": 5}).items["speed"] == 1
    out = reject(std, {"speed": 6})
    assert [(e.item, e.code) for e in out.errors] == [("speed", "score_out_of_range")]
    assert "1.2" in out.errors[0].message
    assert "sem.sbm:4" in out.errors[0].message


def test_na_literal_in_a_score_formula() -> None:
    std = standard(
        '    item wait "Ожидание" answer number 0..60 score = if value > 30 then na else 1'
    )
    assert score(std, {"wait": 40}).items["wait"] is None
    assert score(std, {"wait": 10}).items["wait"] == 1


# ---- means, bonus, weights ------------------------------------------------------------------


def test_bonus_items_add_to_the_numerator_only_and_clamp_caps() -> None:
    std = standard("""    item a "A" answer yes_no weight 2
    item b "B" answer yes_no
    item extra "Сверх стандарта" answer yes_no bonus optional
    coefficient m = weighted_mean(items)
    coefficient capped = clamp(weighted_mean(items), 0, 1)
    coefficient e = earned(items)
    coefficient p = possible(items)
    coefficient l = lost(items)""")
    out = score(std, {"a": "yes", "b": "no", "extra": "yes"})
    assert close(out.coefficients["m"], 3 / 3)
    out = score(std, {"a": "yes", "b": "yes", "extra": "yes"})
    assert close(out.coefficients["m"], 4 / 3) and out.coefficients["capped"] == 1
    assert (out.coefficients["e"], out.coefficients["p"], out.coefficients["l"]) == (4, 3, -1)
    out = score(std, {"a": "yes", "b": "no"})
    assert close(out.coefficients["m"], 2 / 3) and out.coefficients["l"] == 1


def test_item_weights_in_section_means() -> None:
    std = standard("""    section s "S" {
        item a "A" answer yes_no weight 3
        item b "B" answer grade5
    }""")
    assert close(score(std, {"a": "yes", "b": 3}).sections["s"], (3 * 1 + 0.5) / 4)


@pytest.fixture(scope="module")
def sections() -> sbm_engine.CompiledStandard:
    return standard("""    section first "1" weight 3 { item a "A" answer yes_no }
    section second "2" weight 1 { item b "B" answer yes_no }
    section zero "0" weight 0 { item c "C" answer yes_no }
    coefficient all = weighted_mean(sections)
    coefficient n = count(sections)""")


def test_weighted_mean_of_sections_uses_weights_and_skips_weight_0(sections) -> None:
    out = score(sections, {"a": "yes", "b": "no", "c": "no"})
    assert close(out.coefficients["all"], 0.75)
    assert out.sections["zero"] == 0  # the section is scored, only left out of the mean


def test_weighted_mean_of_sections_skips_na_sections(sections) -> None:
    out = score(sections, {"a": "na", "b": "yes", "c": "no"})
    assert out.coefficients["all"] == 1 and out.coefficients["n"] == 1
    out = score(sections, {"a": "na", "b": "na", "c": "yes"})
    assert out.coefficients["all"] is None and out.coefficients["n"] == 0


def test_weighted_terms_skip_na_and_divide_by_the_weights_left() -> None:
    std = standard("""    item a "A" answer grade5
    item b "B" answer grade5
    item c "C" answer number 0..10 optional
    coefficient k = weighted_mean(a: 0.5, b: 0.3, c: 0.2)""")
    assert close(score(std, {"a": 5, "b": 1, "c": 5}).coefficients["k"], 0.5 + 0.1)
    assert close(score(std, {"a": 5, "b": 1}).coefficients["k"], 0.5 / 0.8)
    assert score(std, {"a": "na", "b": "na"}).coefficients["k"] is None


# ---- selections -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def selections() -> sbm_engine.CompiledStandard:
    return standard("""    section s "S" {
        item a "A" answer grade5 weight 2 tags t
        item b "B" answer grade5 tags t
    }
    item c "C" answer grade5 tags u
    item note "Комментарий" answer text optional tags t
    coefficient e = earned(tagged t)
    coefficient p = possible(tagged t)
    coefficient l = lost(tagged t)
    coefficient k = count(tagged t)
    coefficient su = sum(in s)
    coefficient me = mean(in s)
    coefficient mi = min(items)
    coefficient ma = max(tagged t, tagged u)
    coefficient wm = weighted_mean(tagged t)
    coefficient ws = weighted_mean(tagged t, in s)""")


def test_selection_functions(selections) -> None:
    out = score(selections, {"a": 4, "b": 2, "c": 5})
    c = out.coefficients
    assert close(c["e"], 2 * 0.75 + 0.25) and c["p"] == 3 and close(c["l"], 3 - 1.75)
    assert c["k"] == 2 and close(c["su"], 1.0) and close(c["me"], 0.5)
    assert c["mi"] == 0.25 and c["ma"] == 1
    assert close(c["wm"], 1.75 / 3) and close(c["ws"], 1.75 / 3)  # an item counts once


def test_selections_over_nothing_sum_to_0_and_average_to_na(selections) -> None:
    out = score(selections, {"a": "na", "b": "na", "c": "na"})
    c = out.coefficients
    assert (c["e"], c["p"], c["l"], c["k"], c["su"]) == (0, 0, 0, 0, 0)
    assert (c["me"], c["mi"], c["ma"], c["wm"], c["ws"]) == (None, None, None, None, None)


# ---- N/A in expressions ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def na_exprs() -> sbm_engine.CompiledStandard:
    return standard("""    item a "A" answer grade5 optional
    item b "B" answer grade5 optional
    coefficient plus = a + b
    coefficient neg = -a
    coefficient lt = if a < b then 1 else 0
    coefficient ne = if a != b then 1 else 0
    coefficient notlt = if not (a < b) then 1 else 0
    coefficient mn = min(a, b)
    coefficient mx = max(a, b)
    coefficient sm = sum(a, b)
    coefficient me = mean(a, b)
    coefficient cl = clamp(a, 0, 1)
    coefficient co = coalesce(a, b, 0.1)
    coefficient isna = if is_na(a) then 1 else 0
    coefficient orr = if a >= 0 or b >= 0 then 1 else 0
    coefficient andd = if a >= 0 and b >= 0 then 1 else 0
    coefficient and_false = if a >= 0 and b > 2 then 1 else 0
    coefficient or_true = if a >= 0 or b <= 2 then 1 else 0""")


def test_na_propagates_through_arithmetic_comparisons_and_explicit_aggregates(na_exprs) -> None:
    c = score(na_exprs, {"a": "na", "b": 3}).coefficients
    assert c["plus"] is None and c["neg"] is None
    assert c["mn"] is None and c["mx"] is None and c["sm"] is None and c["me"] is None
    assert c["cl"] is None


def test_if_on_an_na_condition_takes_the_else_branch(na_exprs) -> None:
    c = score(na_exprs, {"a": "na", "b": 3}).coefficients
    assert c["lt"] == 0 and c["ne"] == 0 and c["notlt"] == 0


def test_coalesce_and_is_na_stop_na(na_exprs) -> None:
    c = score(na_exprs, {"a": "na", "b": 3}).coefficients
    assert c["co"] == 0.5 and c["isna"] == 1
    c = score(na_exprs, {"a": "na", "b": "na"}).coefficients
    assert c["co"] == 0.1
    c = score(na_exprs, {"a": 5, "b": "na"}).coefficients
    assert c["co"] == 1 and c["isna"] == 0


def test_and_or_treat_na_as_unknown(na_exprs) -> None:
    c = score(na_exprs, {"a": "na", "b": 3}).coefficients
    # N/A or true = true; N/A and true = N/A (else branch); N/A and false = false.
    assert c["orr"] == 1 and c["andd"] == 0 and c["and_false"] == 0 and c["or_true"] == 1


def test_explicit_aggregates_with_values(na_exprs) -> None:
    c = score(na_exprs, {"a": 2, "b": 4}).coefficients
    assert (c["mn"], c["mx"], c["sm"], c["me"]) == (0.25, 0.75, 1.0, 0.5)
    assert c["plus"] == 1 and c["neg"] == -0.25 and c["lt"] == 1


# ---- critical items, failed(x) --------------------------------------------------------------


@pytest.fixture(scope="module")
def critical() -> sbm_engine.CompiledStandard:
    return standard("""    section safety "Безопасность" {
        item secrecy "Тайна" answer yes_no critical
        item id "Документы" answer yes_no
    }
    section service "Сервис" {
        item rude "Грубость" answer { no = 1, yes = 0 } critical optional
        item smile "Улыбка" answer yes_no
    }
    coefficient base = weighted_mean(items)
    coefficient visit = if critical_failed then 0 else base
    coefficient safety_ok = if critical_failed(in safety) then 0 else safety
    coefficient smile_failed = if failed(smile) then 1 else 0""")


def test_critical_failed_and_its_selection_form(critical) -> None:
    out = score(critical, {"secrecy": "yes", "id": "yes", "rude": "yes", "smile": "yes"})
    assert out.coefficients["visit"] == 0 and out.coefficients["safety_ok"] == 1
    assert out.critical == ("rude",)
    out = score(critical, {"secrecy": "no", "id": "yes", "rude": "no", "smile": "yes"})
    assert out.coefficients["visit"] == 0 and out.coefficients["safety_ok"] == 0
    assert out.critical == ("secrecy",)


def test_a_critical_item_that_is_na_does_not_fail(critical) -> None:
    out = score(critical, {"secrecy": "na", "id": "yes", "smile": "no"})
    assert out.critical == () and close(out.coefficients["visit"], 0.5)
    assert out.coefficients["smile_failed"] == 1


def test_failed_is_false_for_an_na_item(critical) -> None:
    out = score(critical, {"secrecy": "yes", "id": "yes", "smile": "na"})
    assert out.coefficients["smile_failed"] == 0


# ---- bands, targets, gaps -------------------------------------------------------------------


@pytest.fixture(scope="module")
def bands() -> sbm_engine.CompiledStandard:
    return standard("""    item q "Q" answer grade5 optional
    coefficient visit = q
    coefficient label_is_good = if band(visit) == good then 1 else 0
    target visit 0.75
    bands visit { excellent >= 1, good >= 0.75, fair >= 0.5, poor }""")


@pytest.mark.parametrize(
    ("answer", "band", "gap"),
    [
        (5, "excellent", 0.25),
        (4, "good", 0.0),
        (3, "fair", -0.25),
        (2, "poor", -0.5),
        (1, "poor", -0.75),
    ],
)
def test_band_is_the_first_threshold_reached_and_gap_is_value_minus_target(
    bands, answer: int, band: str, gap: float
) -> None:
    out = score(bands, {"q": answer})
    assert out.bands == {"visit": band}
    assert close(out.gaps["visit"], gap)
    assert out.coefficients["label_is_good"] == (1 if band == "good" else 0)


def test_na_has_no_band_and_no_gap(bands) -> None:
    out = score(bands, {"q": "na"})
    assert out.bands == {"visit": None} and out.gaps == {"visit": None}
    assert out.coefficients["label_is_good"] == 0


# ---- answer() -------------------------------------------------------------------------------


def test_answer_gives_a_number_a_numeric_label_or_a_label() -> None:
    std = standard("""    item n "N" answer number 0..100
    item q "Q" answer grade5
    item g "G" answer yes_no
    item t "T" answer text optional
    coefficient n_half = answer(n) / 2
    coefficient q_high = if answer(q) >= 4 then 1 else 0
    coefficient g_yes = if answer(g) == yes then 1 else 0
    coefficient g_alias = if answer(g) == "да" then 1 else 0
    coefficient t_given = if is_na(answer(t)) then 0 else 1""")
    c = score(std, {"n": 30, "q": "4", "g": "ДА", "t": "всё хорошо"}).coefficients
    assert c["n_half"] == 15 and c["q_high"] == 1 and c["g_yes"] == 1 and c["g_alias"] == 1
    assert c["t_given"] == 1
    c = score(std, {"n": 30, "q": 3, "g": "no"}).coefficients
    assert c["q_high"] == 0 and c["g_yes"] == 0 and c["t_given"] == 0


# ---- run-time errors ------------------------------------------------------------------------


def test_division_by_zero_rejects_the_visit_naming_the_line() -> None:
    std = standard("""    item a "A" answer yes_no optional
    coefficient ratio = earned(items) / possible(items)""")
    assert score(std, {"a": "yes"}).coefficients["ratio"] == 1
    out = reject(std, {"a": "na"})
    assert [(e.item, e.code) for e in out.errors] == [("ratio", "formula_error")]
    assert out.errors[0].message == "division by zero in coefficient `ratio` (sem.sbm:5)"


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ({"answers": {"a": "yes"}}, "missing_visit_id"),
        ({"visit_id": " ", "answers": {"a": "yes"}}, "missing_visit_id"),
        ({"visit_id": "v1", "answers": ["yes"]}, "not_an_object"),
        ("not a record", "not_an_object"),
        ({"visit_id": "v1", "answers": {"a": "yes", "greted": "yes"}}, "unknown_item"),
    ],
)
def test_record_level_rejections(record: Any, code: str) -> None:
    std = standard('    item a "A" answer yes_no')
    out = std.score(record)
    assert isinstance(out, RejectedVisit)
    assert code in [e.code for e in out.errors]


def test_unknown_answer_keys_get_a_did_you_mean_or_are_allowed() -> None:
    text = f'standard sem.t {{\n    {YES_NO}\n    item greeted "G" answer yes_no\n}}\n'
    out = sbm_engine.loads(text).score({"visit_id": 1, "answers": {"greeted": "yes", "greted": 1}})
    assert isinstance(out, RejectedVisit)
    assert out.errors[0].message.endswith("did you mean `greeted`?")
    lenient = sbm_engine.loads(text, allow_unknown=True)
    assert score(lenient, {"greeted": "yes", "greted": 1}).items["greeted"] == 1


def test_a_visit_id_seen_before_in_a_batch_is_rejected() -> None:
    std = standard('    item a "A" answer yes_no')
    records = [{"visit_id": i, "answers": {"a": "yes"}} for i in ("v1", "v2", "v1")]
    outcomes = list(std.score_many(records))
    assert [o.ok for o in outcomes] == [True, True, False]
    assert [e.code for e in outcomes[2].errors] == ["duplicate_visit"]  # type: ignore[union-attr]


def test_division_by_zero_in_a_rollup_formula_gives_na_for_that_rollup() -> None:
    std = standard("""    item a "A" answer number 0..10
    rollup ratio = avg(answer(a)) / total(answer(a))
    rollup mean_a = avg(answer(a))""")
    results = list(std.score_many([{"visit_id": "v1", "answers": {"a": 0}}]))
    group = std.rollup(results, "network")["groups"][0]
    assert group["rollups"] == {"ratio": None, "mean_a": 0.0}


# ---- visit fields ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fields() -> sbm_engine.CompiledStandard:
    return standard("""    field channel "Канал" one of { office, phone, "онлайн" }
    field shift "Смена"
    item a "A" answer yes_no when visit.channel == office
    item b "B" answer yes_no when visit.shift == "утро"
    coefficient m = weighted_mean(items)""")


@pytest.mark.parametrize("channel", ["office", "Office", " OFFICE "])
def test_declared_field_values_match_ignoring_case(fields, channel: str) -> None:
    out = score(fields, {"a": "yes", "b": "no"}, channel=channel, shift="утро")
    assert out.items["a"] == 1 and out.items["b"] == 0


def test_a_field_value_outside_one_of_rejects_the_visit(fields) -> None:
    out = reject(fields, {"a": "yes"}, channel="ofice")
    assert [(e.item, e.code) for e in out.errors] == [("channel", "bad_field")]
    assert out.errors[0].message.endswith("did you mean `office`?")


def test_an_absent_field_is_na(fields) -> None:
    out = score(fields, {"a": "yes", "b": "yes"})
    assert out.items["a"] is None and out.items["b"] is None and out.coefficients["m"] is None


# ---- reuse: extends, drop, import -----------------------------------------------------------

BASE = """standard sem.base "База" {
    import "scales.sbm"
    version "1"
    section greeting "Встреча" weight 2 {
        item greeted "Поприветствовал" answer yes_no tags compliance
        item smile "Улыбка" answer yes_no
    }
    section premises "Помещение" {
        item clean "Чисто" answer grade5
    }
    coefficient visit = weighted_mean(sections)
    target visit 0.8
}
"""
SCALES = f"standard sem.scales {{\n    {YES_NO}\n    {GRADE5}\n}}\n"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SBM_PATH", raising=False)
    (tmp_path / "scales.sbm").write_text(SCALES, encoding="utf-8")
    (tmp_path / "base.sbm").write_text(BASE, encoding="utf-8")
    return tmp_path


def load_child(folder: Path, body: str) -> sbm_engine.CompiledStandard:
    path = folder / "child.sbm"
    path.write_text(
        f'standard sem.child "Дочерний" extends sem.base {{\n{body}\n}}\n', encoding="utf-8"
    )
    return sbm_engine.load(path)


def test_extends_inherits_everything(folder: Path) -> None:
    std = load_child(folder, "")
    out = score(std, {"greeted": "yes", "smile": "no", "clean": 5})
    assert close(out.coefficients["visit"], (2 * 0.5 + 1) / 3)
    assert std.version == "1" and std.model.targets == {"visit": 0.8}


def test_a_redeclared_item_replaces_the_base_item_and_keeps_its_section(folder: Path) -> None:
    std = load_child(folder, '    item smile "Улыбка и зрительный контакт" answer grade5 weight 3')
    assert std.model.item("smile").section == "greeting"
    assert std.model.item("smile").question == "Улыбка и зрительный контакт"
    assert std.item_names == ("greeted", "smile", "clean")  # and its place
    out = score(std, {"greeted": "yes", "smile": 3, "clean": 5})
    assert close(out.sections["greeting"], (1 + 3 * 0.5) / 4)


def test_a_redeclared_section_replaces_its_items(folder: Path) -> None:
    std = load_child(
        folder,
        '    section greeting "Встреча" weight 1 {\n'
        '        item hello "Поздоровался" answer yes_no\n    }',
    )
    assert std.section_names == ("greeting", "premises")
    assert set(std.item_names) == {"hello", "clean"}
    out = score(std, {"hello": "no", "clean": 5})
    assert close(out.coefficients["visit"], 0.5)


def test_an_item_redeclared_alone_keeps_its_section_even_if_the_section_is_replaced(
    folder: Path,
) -> None:
    std = load_child(
        folder,
        '    item smile "Улыбка" answer grade5\n'
        '    section greeting "Встреча" { item hello "Поздоровался" answer yes_no }',
    )
    assert std.model.item("smile").section == "greeting"
    assert set(std.model.sections[0].items) == {"hello", "smile"}


def test_drop_removes_an_item_and_a_section_with_its_items(folder: Path) -> None:
    std = load_child(folder, "    drop smile")
    assert "smile" not in std.item_names
    assert score(std, {"greeted": "no", "clean": 5}).coefficients["visit"] == 1 / 3
    std = load_child(folder, "    drop premises")
    assert std.section_names == ("greeting",) and "clean" not in std.item_names


def test_imports_merge_scales_into_the_namespace(folder: Path) -> None:
    (folder / "extra.sbm").write_text(
        'standard sem.extra {\n    scale stars { "*" = 0, "**" = 0.5, "***" = 1 }\n}\n',
        encoding="utf-8",
    )
    path = folder / "main.sbm"
    path.write_text(
        'import "scales.sbm"\nstandard sem.main {\n    import "extra.sbm"\n'
        '    item a "A" answer yes_no\n    item s "S" answer stars\n'
        "    coefficient m = weighted_mean(items)\n}\n",
        encoding="utf-8",
    )
    std = sbm_engine.load(path)
    assert set(std.model.scales) == {"yes_no", "grade5", "stars"}
    assert close(score(std, {"a": "да", "s": "**"}).coefficients["m"], 0.75)


def test_an_own_declaration_replaces_an_imported_one(folder: Path) -> None:
    path = folder / "main.sbm"
    path.write_text(
        'standard sem.main {\n    import "scales.sbm"\n'
        "    scale yes_no { yes = 1, no = 0.5 }\n"
        '    item a "A" answer yes_no\n}\n',
        encoding="utf-8",
    )
    assert score(sbm_engine.load(path), {"a": "no"}).items["a"] == 0.5
