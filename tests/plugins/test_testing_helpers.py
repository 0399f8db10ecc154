"""The helpers `sbm_engine.testing` gives pack authors besides its basic fixtures: the
conftest fixtures, scoring a sample wave, the batch checks, the metadata and listing
checks, and the sample generators' checks. Exercised on the template pack's plugin."""

from __future__ import annotations

import importlib
import math
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import sbm_engine
from sbm_engine import sample_waves
from sbm_engine.testing import (
    SPEC_COEFFICIENTS,
    assert_batch_agrees,
    assert_forms_agree,
    assert_spec_coefficients,
    check_pack_metadata,
    check_sample_command,
    check_seeded,
    plugin_row,
    rejected,
    score_sample_wave,
)

pytest_plugins = ["pytester"]

TEMPLATE = Path(__file__).parents[2] / "plugins" / "template"
Failed = pytest.fail.Exception


@pytest.fixture
def example(
    monkeypatch: pytest.MonkeyPatch, sbm_plugin_manager: Callable[..., Any]
) -> Iterator[types.ModuleType]:
    """The template pack's plugin module, registered alone (as `example`)."""
    monkeypatch.syspath_prepend(str(TEMPLATE / "src"))
    for name in [m for m in sys.modules if m == "sbm_example" or m.startswith("sbm_example.")]:
        monkeypatch.delitem(sys.modules, name)
    module = importlib.import_module("sbm_example.plugin")
    sbm_plugin_manager(example=module)
    yield module
    for name in [m for m in sys.modules if m == "sbm_example" or m.startswith("sbm_example.")]:
        del sys.modules[name]


def visit(vid: str, **answers: Any) -> dict[str, Any]:
    return {"visit_id": vid, "answers": {"greeted": "yes", "wait": 3, "thanked": "yes", **answers}}


# -- the conftest fixtures -----------------------------------------------------------------------


def test_the_conftest_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        f"""
        import sys
        sys.path.insert(0, {str(TEMPLATE / "src")!r})

        from sbm_example import plugin
        from sbm_engine.testing import pack_fixture, standard_fixture

        only_this_pack = pack_fixture(example=plugin)
        service = standard_fixture("example.service")
        """
    )
    pytester.makepyfile(
        test_pack="""
        from sbm_engine.plugins import describe_plugins

        def test_the_pack_alone(only_this_pack):
            names = [r["name"] for r in describe_plugins()]
            assert names == ["builtin", "example"]
            assert only_this_pack.get_plugin("example") is not None

        def test_the_standard(service):
            assert service.id == "example.service"
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_batch_spy_counts_the_rows_of_each_call(
    example: types.ModuleType, sbm_batch_spy: Callable[..., dict[str, list[int]]]
) -> None:
    pytest.importorskip("numpy")
    calls = sbm_batch_spy(example=example)
    std = sbm_engine.load("example.service")  # the other hooks are the pack's own
    outcomes = assert_batch_agrees(std, [visit("a"), visit("b", wait=10), visit("c", wait=30)])
    assert calls == {"wait_score": [3]}
    assert [o.coefficients["speed"] for o in outcomes] == [1.0, 0.5, 0.0]


def test_rejected_returns_the_errors(example: types.ModuleType) -> None:
    (err,) = rejected("example.service", visit("a", greeted="maybe"))
    assert (err.item, err.code) == ("greeted", "not_in_scale") and "maybe" in err.message
    with pytest.raises(Failed, match="a was scored, not rejected"):
        rejected("example.service", visit("a"))


# -- a sample wave -------------------------------------------------------------------------------


def test_score_sample_wave_passes_exactly_the_planted_rejects(example: types.ModuleType) -> None:
    wave = sample_waves.SampleWave(
        [visit("a"), visit("b", greeted="maybe"), visit("c", extra="yes")],
        {"b": "bad_answer", "c": "typo"},
    )
    codes = {"bad_answer": "not_in_scale", "typo": "unknown_item"}
    outcomes = score_sample_wave("example.service", wave, codes)
    assert [o.ok for o in outcomes] == [True, False, False]
    # the other shape, a `Wave`
    same = sample_waves.Wave(list(wave), dict(wave.defects))
    assert len(score_sample_wave("example.service", same, codes)) == 3


@pytest.mark.parametrize(
    ("records", "planted", "says"),
    [
        ([visit("a"), visit("b")], {"b": "bad_answer"}, "b was scored, but 'bad_answer'"),
        ([visit("a", greeted="?"), visit("b")], {}, "a was rejected, but nothing was planted"),
        ([visit("a", extra="x")], {"a": "bad_answer"}, "not 'not_in_scale'"),
    ],
)
def test_score_sample_wave_fails_on_what_was_not_planted(
    example: types.ModuleType, records: list[dict[str, Any]], planted: dict[str, str], says: str
) -> None:
    wave = sample_waves.SampleWave(records, planted)
    with pytest.raises(Failed, match=says):
        score_sample_wave("example.service", wave, {"bad_answer": "not_in_scale"})


def test_score_sample_wave_fails_on_warnings(sbm_standard: Callable[..., Any]) -> None:
    std = sbm_standard(
        text="""
        standard t.warn "Т" {
            item ok "Да?" answer { yes = 1, no = 0 }
            item extra "Ещё" answer { yes = 1, no = 0 } optional when visit.scenario == "a"
            coefficient c = ok
        }
        """
    )
    record = {"visit_id": "v", "scenario": "b", "answers": {"ok": "yes", "extra": "yes"}}
    with pytest.raises(Failed, match="v was scored with warnings"):
        score_sample_wave(std, sample_waves.SampleWave([record], {}), {})


def test_the_batch_evaluator_check_fails_on_a_difference(
    example: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("numpy")
    std = sbm_engine.load("example.service")
    records = [visit("a"), visit("b", wait=10)]
    outcomes = list(std.score_many(records))
    assert assert_batch_agrees(std, records, outcomes) == outcomes
    wrong = [std.score(visit("a")), std.score(visit("b", wait=30))]
    with pytest.raises(Failed, match=r"record 1 \(b\)"):
        assert_batch_agrees(std, records, wrong)


# -- scalar and batch forms ----------------------------------------------------------------------


def test_forms_agree(example: types.ModuleType) -> None:
    np = pytest.importorskip("numpy")
    minutes = np.array([0, 5, 10, 15, math.nan])
    out = assert_forms_agree(example.wait_score, example.wait_score_batch, minutes, 5.0)
    assert out.tolist()[:4] == [1.0, 1.0, 0.5, 0.0] and math.isnan(out[4])


def test_forms_that_disagree_fail_naming_the_row(example: types.ModuleType) -> None:
    np = pytest.importorskip("numpy")

    def off_by_one(minutes: Any, limit: Any) -> Any:
        return example.wait_score_batch(minutes, limit) + np.array([0.0, 1.0])

    with pytest.raises(Failed, match=r"row 1 \(10.0, 5.0\): scalar 0.5, batch 1.5"):
        assert_forms_agree(example.wait_score, off_by_one, np.array([0.0, 10.0]), 5.0)
    with pytest.raises(Failed, match="2 rows in, 1 out"):
        assert_forms_agree(example.wait_score, lambda m, lim: m[:1], np.array([0.0, 1.0]), 5.0)
    with pytest.raises(TypeError, match="a column of values"):
        assert_forms_agree(example.wait_score, example.wait_score_batch, 1.0, 5.0)


def test_forms_na_bool_and_approx() -> None:
    np = pytest.importorskip("numpy")
    seen: list[Any] = []

    def scalar(a: Any, b: Any) -> bool | None:
        seen.append(a)
        return None if a == "na" else a < b

    def batch(a: Any, b: Any) -> Any:
        return np.array([None if x in (None, "na") else x < b for x in a], dtype=object)

    # N/A arguments (None, NaN, NaT) give N/A without the scalar form ...
    out = assert_forms_agree(scalar, batch, [1, None, "na", 5], 3)
    assert out.tolist() == [True, None, None, False] and seen == [1, "na", 5]
    # ... unless asked to call it there too
    called: list[Any] = []

    def handles_na(a: Any, b: Any) -> bool | None:
        called.append(a)
        return None if a is None else a < b

    assert_forms_agree(handles_na, batch, [1, None], 3, call_with_na=True)
    assert called == [1, None]
    stamps = np.array(["2026-03-14T10:00", "NaT"], dtype="datetime64[m]")
    assert_forms_agree(lambda t: 1.0, lambda t: np.where(np.isnat(t), np.nan, 1.0), stamps)
    with pytest.raises(Failed):
        assert_forms_agree(lambda x: x / 3, lambda x: x / 3 + 1e-12, np.array([1.0]))
    assert_forms_agree(lambda x: x / 3, lambda x: x / 3 + 1e-12, np.array([1.0]), approx=True)


# -- the pack's metadata and listing -------------------------------------------------------------


def test_the_template_metadata_passes() -> None:
    meta = check_pack_metadata(TEMPLATE, "example", "sbm_example.plugin")
    assert meta["project"]["name"] == "sbm-example"


def test_metadata_problems_are_listed(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [project]
            name = "sbm-x"
            dependencies = ["numpy"]
            [project.entry-points.sbm]
            x = "sbm_x.hooks"
            [tool.hatch.build.targets.wheel]
            packages = ["src/other"]
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(Failed) as info:
        check_pack_metadata(tmp_path, "x", "sbm_x.plugin")
    message = str(info.value)
    assert "entry-points.sbm" in message and "sbm-engine" in message and "src/sbm_x" in message


def test_plugin_row(example: types.ModuleType) -> None:
    row = plugin_row("example")
    assert row["standards"] == ["example.service"] and row["functions"] == ["wait_score"]
    with pytest.raises(Failed, match="no plugin 'bank'"):
        plugin_row("bank")


def test_spec_coefficients(example: types.ModuleType, sbm_standard: Callable[..., Any]) -> None:
    with pytest.raises(Failed, match="compliance"):
        assert_spec_coefficients("example.service")
    lines = "\n".join(f"coefficient {name} = ok" for name in SPEC_COEFFICIENTS)
    body = f'item ok "Да?" answer {{ yes = 1, no = 0 }}\n{lines}'
    std = sbm_standard(text=f'standard t.full "Т" {{\n{body}\n}}')
    assert_spec_coefficients(std)
    with pytest.raises(Failed, match="speed"):
        assert_spec_coefficients(std, "speed")


# -- sample generators ---------------------------------------------------------------------------


def _generate(n: int, seed: int) -> sample_waves.SampleWave:
    return sample_waves.SampleWave([{"visit_id": f"v{i}", "seed": seed} for i in range(n)], {})


def test_check_seeded() -> None:
    check_seeded(_generate)
    with pytest.raises(Failed, match="the same"):
        check_seeded(lambda n, seed: _generate(n, 0))
    counter = iter(range(100))
    with pytest.raises(Failed, match="differ"):
        check_seeded(lambda n, seed: _generate(n, next(counter)))


def test_check_sample_command() -> None:
    def main(argv: Any) -> int:
        return sample_waves.main(
            argv,
            prog="x-sample",
            what="of tests",
            points="points",
            seed=1,
            wave1=_generate,
            wave2=_generate,
            calibration=lambda n, seed: {},
            treated=(),
        )

    assert check_sample_command(main, _generate, 4, 9).startswith("4 visits, 0 bad")
    with pytest.raises(Failed, match="not the 4 of generate"):
        check_sample_command(main, lambda n, seed: _generate(n + 1, seed), 3, 9)
    with pytest.raises(Failed, match="exited with 1"):
        check_sample_command(lambda argv: 1, _generate)
