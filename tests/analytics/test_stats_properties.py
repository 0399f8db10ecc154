"""Properties of `sbm_engine.analytics.stats` that must hold for any data (hypothesis,
with the profiles of tests/conftest.py): agreement is 1 among identical raters where
it is defined and does not depend on the order of raters or units; a sample
compared with itself shows no difference; swapping two proportions negates
everything; importances add up to R² whatever the order of the rows; adjusted
p-values never fall below the raw ones and keep their order."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

S = pytest.importorskip("sbm_engine.analytics.stats")


@pytest.fixture(autouse=True)
def _no_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def ratings(coders: int = 4, units: int = 12, values: int = 5) -> st.SearchStrategy[np.ndarray]:
    """Coders × units of small whole values, about a fifth missing."""
    cell = st.one_of(st.integers(0, values - 1).map(float), st.just(math.nan))
    return st.builds(
        lambda c, u, data: np.array(data[: c * u], dtype=float).reshape(c, u),
        st.integers(2, coders),
        st.integers(2, units),
        st.lists(cell, min_size=coders * units, max_size=coders * units),
    )


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-9)


LEVELS = ["nominal", "ordinal", "interval", "ratio"]
#: Seeds of the shuffles (drawn by hypothesis, so a failure replays).
SEEDS = st.integers(0, 2**32 - 1)

# -- agreement ------------------------------------------------------------------------------------


@given(
    st.lists(st.integers(0, 4), min_size=2, max_size=20), st.integers(2, 5), st.sampled_from(LEVELS)
)
def test_alpha_is_1_for_identical_coders(truth: list[int], coders: int, level: str) -> None:
    assume(len(set(truth)) > 1)
    data = np.tile(np.array(truth, dtype=float), (coders, 1))
    assert S.krippendorff_alpha(data, level) == pytest.approx(1.0, abs=1e-12)


@given(ratings(), st.sampled_from(LEVELS), SEEDS)
def test_alpha_ignores_the_order_of_coders_and_units(
    data: np.ndarray, level: str, shuffle: int
) -> None:
    rng = np.random.default_rng(shuffle)
    shuffled = data[rng.permutation(data.shape[0])][:, rng.permutation(data.shape[1])]
    assert same(S.krippendorff_alpha(data, level), S.krippendorff_alpha(shuffled, level))


@given(st.lists(st.integers(0, 3), min_size=2, max_size=20), st.integers(2, 6))
def test_fleiss_is_1_for_identical_raters(truth: list[int], raters: int) -> None:
    assume(len(set(truth)) > 1)
    counts = np.zeros((len(truth), 4))
    counts[np.arange(len(truth)), truth] = raters
    assert S.fleiss_kappa(counts) == pytest.approx(1.0)
    assert S.gwet_ac1_counts(counts) == pytest.approx(1.0)
    assert S.pabak_counts(counts) == pytest.approx(1.0)
    assert S.observed_agreement(counts) == 1.0


@given(
    st.lists(st.lists(st.integers(0, 4), min_size=3, max_size=3), min_size=2, max_size=15),
    SEEDS,
)
def test_fleiss_ignores_the_order_of_subjects(rows: list[list[int]], shuffle: int) -> None:
    counts = np.array(rows)
    counts[:, 2] = 6 - counts[:, 0] - np.minimum(counts[:, 1], 6 - counts[:, 0])
    counts[:, 1] = 6 - counts[:, 0] - counts[:, 2]
    rng = np.random.default_rng(shuffle)
    assert same(S.fleiss_kappa(counts), S.fleiss_kappa(counts[rng.permutation(len(counts))]))


@given(
    st.lists(st.integers(0, 20), min_size=2, max_size=5),
    st.sampled_from([None, "linear", "quadratic"]),
)
def test_cohen_ac1_pabak_are_1_for_identical_raters(diag: list[int], weights: str | None) -> None:
    assume(sum(1 for d in diag if d) >= 2)
    table = np.diag(diag)
    result = S.cohen_kappa(table, weights=weights)
    assert result.kappa == pytest.approx(1.0)
    assert result.ase == pytest.approx(0.0, abs=1e-7)
    assert S.gwet_ac1(table) == pytest.approx(1.0)
    assert S.pabak(table) == pytest.approx(1.0)


@given(
    st.integers(2, 4).flatmap(
        lambda k: st.lists(
            st.lists(st.integers(0, 9), min_size=k, max_size=k), min_size=k, max_size=k
        )
    ),
    st.sampled_from([None, "linear", "quadratic"]),
)
def test_cohen_does_not_depend_on_which_rater_is_first(
    rows: list[list[int]], weights: str | None
) -> None:
    table = np.array(rows)
    a, b = S.cohen_kappa(table, weights), S.cohen_kappa(table.T, weights)
    for field in ("kappa", "ase", "z"):
        assert same(getattr(a, field), getattr(b, field))
    assert same(S.gwet_ac1(table), S.gwet_ac1(table.T))
    assert same(S.pabak(table), S.pabak(table.T))


@given(
    st.lists(st.floats(0, 1, allow_nan=False), min_size=2, max_size=15),
    st.integers(2, 5),
    st.sampled_from(["1,1", "2,1", "3,1", "1,k", "2,k", "3,k"]),
)
def test_icc_is_1_for_identical_judges(truth: list[float], judges: int, form: str) -> None:
    assume(max(truth) - min(truth) > 1e-3)
    matrix = np.tile(np.array(truth)[:, None], (1, judges))
    assert S.icc(matrix, form) == pytest.approx(1.0, abs=1e-9)


@given(
    st.lists(st.lists(st.integers(0, 4), min_size=3, max_size=3), min_size=2, max_size=12),
    st.sampled_from(["1,1", "2,1", "3,1", "1,k", "2,k", "3,k"]),
    SEEDS,
)
def test_icc_ignores_the_order_of_targets_and_judges(
    rows: list[list[int]], form: str, shuffle: int
) -> None:
    matrix = np.array(rows, dtype=float)
    rng = np.random.default_rng(shuffle)
    shuffled = matrix[rng.permutation(len(rows))][:, rng.permutation(3)]
    assert same(S.icc(matrix, form), S.icc(shuffled, form))


# -- tests of differences ------------------------------------------------------------------------


@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=30))
def test_welch_of_a_sample_with_itself(sample: list[float]) -> None:
    assume(np.var(sample) > 1e-6)
    result = S.welch(sample, sample)
    assert result.t == 0.0 and result.p == 1.0
    assert result.ci_low <= 0.0 <= result.ci_high
    assert result.ci_low == pytest.approx(-result.ci_high)


@given(st.integers(0, 50), st.integers(0, 50), st.integers(1, 60), st.integers(1, 60))
def test_two_proportions_is_symmetric(x1: int, x2: int, n1: int, n2: int) -> None:
    assume(x1 <= n1 and x2 <= n2)
    ab, ba = S.two_proportions(x1, n1, x2, n2), S.two_proportions(x2, n2, x1, n1)
    assert same(ab.z, -ba.z) and same(ab.p, ba.p)
    assert same(ab.ci_low, -ba.ci_high) and same(ab.ci_high, -ba.ci_low)
    assert ab.ci_low <= ab.diff <= ab.ci_high


@given(st.lists(st.one_of(st.floats(0, 1), st.none()), max_size=40))
def test_benjamini_hochberg_is_above_raw_and_monotone(p: list[float | None]) -> None:
    adjusted = S.benjamini_hochberg(p)
    assert [a is None for a in adjusted] == [q is None for q in p]
    pairs = sorted((q, a) for q, a in zip(p, adjusted, strict=True) if q is not None)
    for q, a in pairs:
        assert a is not None and q <= a <= 1.0
    values = [a for _, a in pairs]
    assert all(a1 <= a2 for a1, a2 in itertools.pairwise(values))  # type: ignore[operator]


# -- importance of predictors ---------------------------------------------------------------------


@given(
    st.integers(1, 5),
    st.integers(8, 30),
    st.integers(0, 2**32 - 1),
    SEEDS,
)
def test_importances_sum_to_r2_whatever_the_row_order(
    p: int, n: int, seed: int, shuffle: int
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    if p > 1:
        x[:, 1] += rng.normal() * x[:, 0]  # correlated predictors
    y = x @ rng.normal(size=p) + rng.normal(size=n)
    r2 = S.r_squared(x, y)
    order = np.random.default_rng(shuffle).permutation(n)
    for fn in (S.relative_weights, S.shapley_r2):
        weights = fn(x, y)
        assert weights.sum() == pytest.approx(r2, abs=1e-9)
        assert (weights >= -1e-12).all()
        assert fn(x[order], y[order]) == pytest.approx(weights, abs=1e-9)
