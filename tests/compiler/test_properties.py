"""Invariants of scoring on generated standards and visits (hypothesis).

Standards and visits come from `strategies.py`: every standard drawn there checks,
so compiling and scoring must never crash; what scores must obey the language's
semantics whatever the standard says.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from strategies import standards, visits

import sbm_engine
from sbm_engine.interpret import Interpreter
from sbm_engine.model import Bound, StandardModel
from sbm_engine.rollup import rollup

TOL = 1e-12


def _compile(spec: Any) -> sbm_engine.CompiledStandard:
    return sbm_engine.loads(spec.text, "gen.sbm")


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= TOL * max(1.0, abs(a), abs(b))
    return a == b


def _item_means(m: StandardModel) -> dict[str, tuple[Any, ...]]:
    """Coefficients that are a plain weighted mean of items: name -> selected items."""
    out = {}
    for c in m.coefficients:
        e = c.expr
        if e.op == "call" and e.data[0] == "weighted_mean" and e.data[1][0] == "items":
            out[c.name] = e.data[1][1]
    return out


def _referenced(m: StandardModel) -> set[str]:
    """Items some condition, score formula or computed value reads, directly, through a
    function's argument (`failed(x)`, a selection) or through a coefficient it reads:
    changing them may change applicability."""
    coefficients = {c.name: c.expr for c in m.coefficients}
    exprs: list[Bound] = [
        b for it in m.items for b in (it.when, it.section_when, it.score, it.computed) if b
    ]
    exprs += [s.when for s in m.sections if s.when]
    names: set[str] = set()
    seen: set[str] = set()
    while exprs:
        for n in exprs.pop().walk():
            if n.op in ("item", "answer", "value"):
                names.add(n.data)
            elif n.op == "coef" and n.data not in seen and n.data in coefficients:
                seen.add(n.data)
                exprs.append(coefficients[n.data])
            elif n.op == "call":
                names.update(_payload_names(n.data[1]))
    return names


def _payload_names(payload: Any) -> set[str]:
    """The names a built-in call's payload holds: an item's name, a selection's items."""
    if isinstance(payload, str):
        return {payload}
    if isinstance(payload, tuple | list | frozenset):
        return {name for p in payload for name in _payload_names(p)}
    name = getattr(payload, "name", None)
    return {name} if isinstance(name, str) else set()


@given(data=st.data())
def test_compile_and_score_never_crash(data: st.DataObject) -> None:
    spec = data.draw(standards())
    std = _compile(spec)
    for outcome in std.score_many(data.draw(visits(spec))):
        assert outcome.ok in (True, False)
        outcome.to_dict()


@given(data=st.data())
def test_scores_lie_in_range_and_na_is_excluded_not_zero(data: st.DataObject) -> None:
    spec = data.draw(standards())
    std = _compile(spec)
    m = std.model
    items = {i.name: i for i in m.items}
    means = _item_means(m)
    for out in std.score_many(data.draw(visits(spec))):
        if not out.ok:
            continue
        for name, s in out.items.items():
            assert s is None or 0.0 <= s <= 1.0, (name, s)
            assert s is None or items[name].scored
        for sec in m.sections:
            members = [
                (items[i].weight, out.items[i], items[i].bonus)
                for i in sec.items
                if items[i].scored
            ]
            den = sum(w for w, s, bonus in members if s is not None and not bonus)
            num = sum(w * s for w, s, _ in members if s is not None)
            want = num / den if den else None
            assert _close(out.sections[sec.name], want), (sec.name, out.sections[sec.name], want)
            if not any(bonus for *_, bonus in members) and want is not None:
                assert 0.0 <= out.sections[sec.name] <= 1.0
        for name, selected in means.items():
            value = out.coefficients[name]
            den = sum(x.weight for x in selected if out.items[x.name] is not None and not x.bonus)
            if den == 0:
                assert value is None or any(x.bonus for x in selected)
            elif not any(x.bonus for x in selected):
                assert 0.0 <= value <= 1.0


@given(data=st.data())
def test_a_better_answer_never_lowers_a_weighted_mean(data: st.DataObject) -> None:
    spec = data.draw(standards())
    std = _compile(spec)
    m = std.model
    read_elsewhere = _referenced(m)
    candidates = [
        it
        for it in m.items
        if it.kind == "scale"
        and it.score is None
        and it.name not in read_elsewhere
        and it.scale is not None
    ]
    for record in data.draw(visits(spec)):
        before = std.score(record)
        if not before.ok or not candidates:
            continue
        it = data.draw(st.sampled_from(candidates))
        if before.items[it.name] is None:
            continue
        best = max(it.scale.entries, key=lambda e: e.score)
        better = {**record, "answers": {**record["answers"], it.name: best.label}}
        after = std.score(better)
        assert after.ok
        assert after.items[it.name] >= before.items[it.name]
        for sec in m.sections:
            a, b = before.sections[sec.name], after.sections[sec.name]
            assert a is None or b >= a - TOL, (sec.name, a, b)
        for name in _item_means(m):
            a, b = before.coefficients[name], after.coefficients[name]
            assert a is None or b >= a - TOL, (name, a, b)


@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_results_do_not_depend_on_visit_order(data: st.DataObject, seed: int) -> None:
    spec = data.draw(standards())
    std = _compile(spec)
    records = data.draw(visits(spec))
    ids = [r.get("visit_id") if isinstance(r, dict) else None for r in records]
    unique = [
        r
        for r, i in zip(records, ids, strict=True)
        if isinstance(i, str) and i.strip() and ids.count(i) == 1
    ]
    shuffled = list(unique)
    random.Random(seed).shuffle(shuffled)
    first = {o.visit_id: o.to_dict() for o in std.score_many(unique)}
    second = {o.visit_id: o.to_dict() for o in std.score_many(shuffled)}
    assert first == second
    scored = [o for o in std.score_many(unique) if o.ok]
    again = [o for o in std.score_many(shuffled) if o.ok]
    for level in ("point", "network"):
        assert rollup(std.model, scored, level) == rollup(std.model, again, level)


@given(data=st.data())
def test_compiled_code_agrees_with_the_reference_interpreter(data: st.DataObject) -> None:
    spec = data.draw(standards())
    std = _compile(spec)
    interp = Interpreter(std.model, std.functions)
    for record in data.draw(visits(spec)):
        out = std.score(record)
        if not out.ok or not isinstance(record, dict):
            continue
        env, errs, _, critical = interp.visit(record)
        assert errs == []
        for name, value in out.items.items():
            assert _close(value, env.items[name]), (name, value, env.items[name])
        for name, value in out.sections.items():
            assert _close(value, env.sections[name]), (name, value, env.sections[name])
        for name, value in out.coefficients.items():
            assert _close(value, env.coefs[name]), (name, value, env.coefs[name])
        assert list(out.critical) == critical
