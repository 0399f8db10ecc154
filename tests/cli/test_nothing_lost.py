"""Property: every input record of `sbm score` ends in exactly one output, and the
summary counts agree (read = scored + rejected), whatever the mix of good and bad
records, duplicates and unreadable lines."""

from __future__ import annotations

import json

from click.testing import CliRunner
from demo import DEMO, GOOD
from hypothesis import given
from hypothesis import strategies as st

from sbm_engine.cli import cli

STANDARD = DEMO

answer_values = st.sampled_from(["yes", "no", "да", "na", None, 3, 5, 300, "maybe", [], {"x": 1}])


@st.composite
def line(draw: st.DrawFn, index: int) -> str:
    kind = draw(st.sampled_from(["good", "mutated", "duplicate", "broken", "array", "no_id"]))
    vid = f"v{index}" if kind != "duplicate" else f"v{draw(st.integers(0, max(index - 1, 0)))}"
    if kind == "broken":
        return '{"visit_id": "' + vid + '", "answers": {'
    if kind == "array":
        return "[1, 2, 3]"
    answers = dict(GOOD)
    if kind == "mutated":
        for key in draw(st.lists(st.sampled_from([*GOOD, "gretted"]), max_size=3)):
            answers[key] = draw(answer_values)
        if draw(st.booleans()):
            answers.pop(draw(st.sampled_from(list(GOOD))))
    record = {"scenario": draw(st.sampled_from(["deposit", "loan"])), "answers": answers}
    if kind != "no_id":
        record["visit_id"] = vid
    return json.dumps(record, ensure_ascii=False)


@st.composite
def batch(draw: st.DrawFn) -> list[str]:
    n = draw(st.integers(0, 30))
    return [draw(line(i)) for i in range(n)]


@given(lines=batch(), out_ext=st.sampled_from([".jsonl", ".csv", ".parquet"]))
def test_read_equals_scored_plus_rejected(tmp_path_factory, lines: list[str], out_ext: str) -> None:
    tmp = tmp_path_factory.mktemp("lost")
    src = tmp / "wave.jsonl"
    src.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    out, bad = tmp / f"out{out_ext}", tmp / "bad.jsonl"
    result = CliRunner().invoke(
        cli,
        [
            "score",
            str(STANDARD),
            str(src),
            "-o",
            str(out),
            "--rejects",
            str(bad),
            "--format",
            "json",
        ],
    )
    summary = json.loads(result.stdout)
    assert summary["read"] == len(lines) == summary["scored"] + summary["rejected"]
    assert result.exit_code == (1 if summary["rejected"] else 0)
    rejects = [json.loads(x) for x in bad.read_text(encoding="utf-8").splitlines()]
    assert len(rejects) == summary["rejected"]
    sources = sorted(int(r["source"].rsplit(":", 1)[1]) for r in rejects)
    if out_ext == ".jsonl":
        scored = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
        assert len(scored) == summary["scored"]
        ids = [s["visit_id"] for s in scored]
        assert len(ids) == len(set(ids)), "a visit_id scored twice"
        rejected_ids = {r["visit_id"] for r in rejects if r["visit_id"] is not None}
        assert not (set(ids) & rejected_ids) or all(
            any(e["code"] == "duplicate_visit" for e in r["errors"])
            for r in rejects
            if r["visit_id"] in set(ids)
        )
    assert len(set(sources)) == len(sources), "an input line rejected twice"
