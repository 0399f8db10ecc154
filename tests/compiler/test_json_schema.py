"""The exported JSON Schema accepts a visit exactly when the engine does (for what a
schema can say), checked with an independent validator (`jsonschema`)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sbm_engine
from sbm_engine.export import json_schema

jsonschema = pytest.importorskip("jsonschema")

STANDARD = """standard t.schema {
    field channel "Канал" one of { web, "Call centre" }
    scale yn { yes = 1 alias "да", no = 0 alias "нет" "Nope" }
    item a "A" answer yn
    item b "B" answer yn required
    item c "C" answer yn optional
    item grade "Оценка" answer { 1 = 0, 2 = 0.5, 3 = 1 }
    item wait "Ожидание" answer number 0..30
    item open "Открытое" answer number optional
    item note "Комментарий" answer text optional
    item why "Почему" answer text
}
"""

STD = sbm_engine.loads(STANDARD)
VALIDATOR = jsonschema.Draft202012Validator(json_schema(STD.model))


def spaced(text: str) -> st.SearchStrategy[str]:
    """`text` in random case with random spaces around, as people type it."""
    return st.tuples(
        st.sampled_from(["", " ", "  "]),
        st.sampled_from([text, text.upper(), text.lower(), text.capitalize()]),
        st.sampled_from(["", " "]),
    ).map("".join)


LABELS = ["yes", "no", "да", "нет", "Nope", "maybe", "yess", ""]
NA = ["na", "N/A", "н/п", "n.a."]
ANSWER = st.one_of(
    st.sampled_from(LABELS + NA).flatmap(spaced),
    st.none(),
    st.booleans(),
    st.sampled_from([1, 2, 3, 4, 0, 2.0, 2.5, -1, 30, 31, 15.5]),
    st.sampled_from(["2", " 3.0", "2,0", "02", "4", "1.5", "15,5", "30", "1e1", "abc", " "]),
    st.lists(st.integers(), max_size=1),
)
ITEMS = ["a", "b", "c", "grade", "wait", "open", "note", "why"]


@given(
    answers=st.dictionaries(st.sampled_from(ITEMS), ANSWER),
    channel=st.one_of(st.none(), st.sampled_from(["web", "WEB ", "call centre", "fax"])),
)
def test_property_the_schema_agrees_with_the_engine(
    answers: dict[str, Any], channel: str | None
) -> None:
    record: dict[str, Any] = {"visit_id": "v1", "answers": answers}
    if channel is not None:
        record["channel"] = channel
    engine = STD.score(record).ok
    schema = VALIDATOR.is_valid(record)
    if schema and not engine:
        # Only a number given as text may pass the schema out of its range.
        errors = STD.score(record).errors  # type: ignore[union-attr]
        assert {e.code for e in errors} == {"out_of_range"}, (record, errors)
        assert all(isinstance(answers[e.item], str) for e in errors)
    else:
        assert schema == engine, (record, list(VALIDATOR.iter_errors(record)))


def test_the_schema_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json_schema(STD.model))
