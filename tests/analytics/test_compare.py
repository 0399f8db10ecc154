"""`sbm diff`: each change once, in the language's terms, and a version left unchanged."""

from __future__ import annotations

import sbm_engine
from sbm_engine.compare import diff, has_changes, render

V1 = """standard t.d {
    version "1"
    scale yn { yes = 1, no = 0 }
    item a "A" answer yn
    item b "B" answer yn
    item c "C" answer { good = 1, bad = 0 }
    coefficient visit = weighted_mean(items)
}
"""


def models(old: str, new: str) -> tuple[sbm_engine.CompiledStandard, ...]:
    return sbm_engine.loads(old), sbm_engine.loads(new)


def test_a_scale_change_is_listed_once_under_the_scale() -> None:
    old, new = models(V1, V1.replace("no = 0 }", "no = 0.2 }"))
    d = diff(old.model, new.model)
    assert d["scales"]["changed"] == [
        {
            "name": "yn",
            "changes": {"entries": {"old": "yes = 1, no = 0", "new": "yes = 1, no = 0.2"}},
        }
    ]
    assert d["items"]["changed"] == []


def test_an_inline_scale_change_is_shown_under_its_item() -> None:
    old, new = models(V1, V1.replace("bad = 0", "bad = 0.5"))
    text = render(diff(old.model, new.model))
    assert "~ item c\n    answer: { good = 1, bad = 0 } -> { good = 1, bad = 0.5 }" in text


def test_scoring_changed_without_a_new_version_is_a_warning() -> None:
    old, new = models(V1, V1.replace("no = 0 }", "no = 0.2 }"))
    d = diff(old.model, new.model)
    assert d["warnings"] and "the version did not" in d["warnings"][0]
    assert render(d).splitlines()[-1].startswith("warning: scoring changed")
    bumped = sbm_engine.loads(V1.replace('"1"', '"2"').replace("no = 0 }", "no = 0.2 }"))
    assert diff(old.model, bumped.model)["warnings"] == []


def test_a_reworded_question_alone_needs_no_new_version() -> None:
    old, new = models(V1, V1.replace('item b "B"', 'item b "Bee"'))
    d = diff(old.model, new.model)
    assert has_changes(d) and d["warnings"] == []
    assert "~ item b\n    question: B -> Bee" in render(d)
