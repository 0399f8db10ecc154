"""`sbm_engine.analytics.stats` beyond the spec's worked examples: more published
values (Shrout & Fleiss 1979, Krippendorff 2011), independent implementations from
the definitions (brute force), statsmodels and scipy as oracles, and the promises
about degenerate and bad inputs (NaN and a note, or a clear ValueError; never a
ZeroDivisionError or a numpy warning)."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

S = pytest.importorskip("sbm_engine.analytics.stats")

#: Shrout & Fleiss (1979), Table 2: six targets rated by four judges, and Table 4's ICCs.
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]
SHROUT_FLEISS_ICC = {"1,1": 0.17, "2,1": 0.29, "3,1": 0.71, "1,k": 0.44, "2,k": 0.62, "3,k": 0.91}

#: Krippendorff (2011), "Computing Krippendorff's alpha-reliability", example C: four
#: observers, twelve units, missing values (also R irr::kripp.alpha's example `nmm`).
KRIPPENDORFF_C = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ],
    dtype=float,
)
KRIPPENDORFF_C_ALPHA = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}


@pytest.fixture(autouse=True)
def _no_warnings() -> Iterator[None]:
    """Every test here fails on any warning (numpy's divide by zero above all)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# -- published values -----------------------------------------------------------------------------


@pytest.mark.parametrize("form", sorted(SHROUT_FLEISS_ICC))
def test_icc_shrout_fleiss_table(form: str) -> None:
    assert S.icc(SHROUT_FLEISS, form) == pytest.approx(SHROUT_FLEISS_ICC[form], abs=0.005)


def test_icc_accepts_the_number_of_judges_for_k() -> None:
    assert S.icc(SHROUT_FLEISS, "2,4") == S.icc(SHROUT_FLEISS, "2,k")
    with pytest.raises(ValueError, match="number of judges"):
        S.icc(SHROUT_FLEISS, "2,3")


@pytest.mark.parametrize("level", sorted(KRIPPENDORFF_C_ALPHA))
def test_krippendorff_2011_example_c(level: str) -> None:
    got = S.krippendorff_alpha(KRIPPENDORFF_C, level)
    assert got == pytest.approx(KRIPPENDORFF_C_ALPHA[level], abs=0.0005)


def test_cohen_wikipedia_ac1_and_pabak_by_hand() -> None:
    """Wikipedia's 50 proposals: p_o = .7; π_yes = (25 + 30)/100 = .55, so
    p_e(AC1) = 2·.55·.45 = .495 and AC1 = .205/.505; PABAK = 2·.7 − 1 = .4."""
    table = [[20, 5], [10, 15]]
    assert S.gwet_ac1(table) == pytest.approx(0.205 / 0.505, abs=1e-12)
    assert S.pabak(table) == pytest.approx(0.4, abs=1e-12)


def test_pabak_three_categories() -> None:
    table = [[5, 1, 0], [0, 3, 1], [0, 0, 10]]  # p_o = 18/20
    assert S.pabak(table) == pytest.approx((3 * 0.9 - 1) / 2, abs=1e-12)


def test_mde_formula() -> None:
    """(z_.975 + z_.8) = 1.959964 + 0.841621 = 2.801585 standard errors."""
    se = math.sqrt(0.04 / 100 + 0.09 / 50)
    assert S.mde_means(0.04, 100, 0.09, 50) == pytest.approx(2.801585 * se, rel=1e-6)
    se_p = math.sqrt(0.3 * 0.7 / 200 + 0.4 * 0.6 / 150)
    assert S.mde_proportions(0.3, 200, 0.4, 150) == pytest.approx(2.801585 * se_p, rel=1e-6)


def test_wilson_interval_published() -> None:
    """Newcombe (1998), Table I: 81/263 → 0.2553 to 0.3662 (Wilson, no correction)."""
    low, high = S.wilson_interval(81, 263)
    assert (low, high) == pytest.approx((0.2553, 0.3662), abs=5e-5)


# -- independent implementations from the definitions ---------------------------------------------


def _alpha_brute(data: np.ndarray, level: str) -> float:
    """Krippendorff's alpha by the book: every ordered pair of values within a unit."""
    pairs: list[tuple[float, float, float]] = []  # (c, k, weight 1/(m_u − 1))
    for unit in data.T:
        vals = [v for v in unit if not math.isnan(v)]
        m = len(vals)
        if m < 2:
            continue
        for i, j in itertools.permutations(range(m), 2):
            pairs.append((vals[i], vals[j], 1.0 / (m - 1)))
    values = sorted({c for c, _, _ in pairs})
    o = {(c, k): 0.0 for c in values for k in values}
    for c, k, w in pairs:
        o[c, k] += w
    n_c = {c: sum(o[c, k] for k in values) for c in values}
    n = sum(n_c.values())

    def delta2(c: float, k: float) -> float:
        if level == "nominal":
            return 0.0 if c == k else 1.0
        if level == "interval":
            return (c - k) ** 2
        if level == "ratio":
            return 0.0 if c + k == 0 else ((c - k) / (c + k)) ** 2
        lo, hi = min(c, k), max(c, k)
        between = sum(n_c[g] for g in values if lo <= g <= hi)
        return (between - (n_c[c] + n_c[k]) / 2) ** 2

    observed = sum(o[c, k] * delta2(c, k) for c in values for k in values)
    expected = sum(n_c[c] * n_c[k] * delta2(c, k) for c in values for k in values)
    return 1.0 - (n - 1) * observed / expected


def _random_ratings(seed: int, coders: int = 4, units: int = 30, values: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, values, size=units)
    data = truth + rng.integers(-1, 2, size=(coders, units)) * (rng.random((coders, units)) < 0.4)
    data = np.clip(data, 0, values - 1).astype(float)
    data[rng.random((coders, units)) < 0.2] = np.nan
    return data


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_krippendorff_matches_brute_force(seed: int, level: str) -> None:
    data = _random_ratings(seed)
    assert S.krippendorff_alpha(data, level) == pytest.approx(_alpha_brute(data, level), abs=1e-12)


def test_krippendorff_matches_statsmodels_when_it_has_it() -> None:
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    oracle = getattr(inter_rater, "krippendorff_alpha", None)
    if oracle is None:
        pytest.skip("this statsmodels has no krippendorff_alpha (added in 0.15.1)")
    for level in ("nominal", "ordinal", "interval", "ratio"):
        data = _random_ratings(7)
        assert S.krippendorff_alpha(data, level) == pytest.approx(
            oracle(data.T, level=level), abs=1e-10
        )


def _r2(x: np.ndarray, y: np.ndarray) -> float:
    if x.shape[1] == 0:
        return 0.0
    design = np.column_stack([np.ones(len(y)), x])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ beta
    return float(1 - resid @ resid / np.sum((y - y.mean()) ** 2))


def test_shapley_matches_averaging_over_all_orders() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 4))
    x[:, 1] += 0.8 * x[:, 0]
    y = x @ [1.0, 0.5, -0.7, 0.0] + rng.normal(size=60)
    want = np.zeros(4)
    orders = list(itertools.permutations(range(4)))
    for order in orders:
        for pos, j in enumerate(order):
            before = list(order[:pos])
            want[j] += _r2(x[:, [*before, j]], y) - _r2(x[:, before], y)
    want /= len(orders)
    got = S.shapley_r2(x, y)
    assert got == pytest.approx(want, abs=1e-10)
    assert got.sum() == pytest.approx(_r2(x, y), abs=1e-12)
    assert S.relative_weights(x, y).sum() == pytest.approx(_r2(x, y), abs=1e-12)
    assert S.r_squared(x, y) == pytest.approx(_r2(x, y), abs=1e-12)


def test_gwet_ac1_counts_equals_the_table_form_for_two_raters() -> None:
    table = np.array([[30, 4, 1], [2, 20, 3], [0, 5, 35]])
    counts = []
    for i, j in itertools.product(range(3), repeat=2):
        row = [0, 0, 0]
        row[i] += 1
        row[j] += 1
        counts += [row] * int(table[i, j])
    assert S.gwet_ac1_counts(counts) == pytest.approx(S.gwet_ac1(table), abs=1e-12)
    assert S.pabak_counts(counts) == pytest.approx(S.pabak(table), abs=1e-12)
    assert S.observed_agreement(counts) == pytest.approx(np.trace(table) / table.sum())


# -- statsmodels and scipy as oracles -------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_fleiss_matches_statsmodels(seed: int) -> None:
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(6, rng.dirichlet(np.ones(4)), size=25)
    assert S.fleiss_kappa(counts) == pytest.approx(inter_rater.fleiss_kappa(counts), abs=1e-12)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@pytest.mark.parametrize("seed", range(4))
def test_cohen_matches_statsmodels(weights: str | None, seed: int) -> None:
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    rng = np.random.default_rng(seed)
    table = rng.integers(0, 12, size=(4, 4)) + np.diag(rng.integers(5, 30, size=4))
    got = S.cohen_kappa(table, weights=weights)
    want = inter_rater.cohens_kappa(table, wt=weights)
    assert got.kappa == pytest.approx(want["kappa"], abs=1e-12)
    assert got.ase == pytest.approx(want["std_kappa"], abs=1e-12)
    assert got.ase0 == pytest.approx(want["std_kappa0"], abs=1e-12)
    assert got.z == pytest.approx(want["z_value"], abs=1e-9)
    assert got.ci_low == pytest.approx(got.kappa - 1.959963984540054 * got.ase)
    assert got.n == table.sum()


def test_benjamini_hochberg_matches_statsmodels() -> None:
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(5)
    p = np.concatenate([rng.random(30) * 0.05, rng.random(30)])
    rng.shuffle(p)
    _, want, _, _ = multitest.multipletests(p, method="fdr_bh")
    assert S.benjamini_hochberg(p) == pytest.approx(list(want), abs=1e-15)
    with_gaps: list[float | None] = [*p[:5].tolist(), None, math.nan]
    got = S.benjamini_hochberg(with_gaps)
    assert got[5:] == [None, None]
    _, want5, _, _ = multitest.multipletests(p[:5], method="fdr_bh")
    assert got[:5] == pytest.approx(list(want5), abs=1e-15)


@pytest.mark.parametrize(
    "args", [(5, 83, 12, 99), (0, 40, 3, 50), (30, 30, 25, 31), (7, 10, 3, 12), (1, 1, 0, 2)]
)
def test_two_proportions_matches_statsmodels(args: tuple[int, int, int, int]) -> None:
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    x1, n1, x2, n2 = args
    got = S.two_proportions(*args)
    z, p = proportion.proportions_ztest([x1, x2], [n1, n2])
    low, high = proportion.confint_proportions_2indep(x1, n1, x2, n2, method="newcomb")
    assert (got.z, got.p) == pytest.approx((z, p), abs=1e-12)
    assert (got.ci_low, got.ci_high) == pytest.approx((low, high), abs=1e-12)


@pytest.mark.parametrize("x,n", [(0, 10), (3, 10), (10, 10), (81, 263), (1, 1)])
def test_wilson_matches_statsmodels(x: int, n: int) -> None:
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    want = proportion.proportion_confint(x, n, method="wilson")
    assert S.wilson_interval(x, n) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_welch_matches_scipy(seed: int) -> None:
    from scipy import stats as sps

    rng = np.random.default_rng(seed)
    a = rng.normal(0.7, 0.1, size=rng.integers(3, 40))
    b = rng.normal(0.72, 0.2, size=rng.integers(3, 40))
    got = S.welch(a, b)
    want = sps.ttest_ind(a, b, equal_var=False)
    ci = want.confidence_interval()
    assert (got.t, got.p, got.df) == pytest.approx((want.statistic, want.pvalue, want.df))
    assert (got.ci_low, got.ci_high) == pytest.approx((ci.low, ci.high))
    assert (got.n_a, got.n_b, got.mean_a, got.mean_b) == (len(a), len(b), a.mean(), b.mean())
    again = S.welch_from_stats(a.mean(), a.var(ddof=1), len(a), b.mean(), b.var(ddof=1), len(b))
    assert again.t == pytest.approx(got.t, rel=1e-12)


def test_welch_drops_missing_values() -> None:
    assert S.welch([1, 2, None, 3, math.nan], [2, 4, 6]) == S.welch([1, 2, 3], [2, 4, 6])


# -- degenerate inputs: NaN and a note, never an exception or a warning ---------------------------


def _nan(x: float) -> bool:
    return isinstance(x, float) and math.isnan(x)


def test_degenerate_agreement() -> None:
    assert _nan(S.krippendorff_alpha([[1, 1, 1], [1, 1, 1]]))  # no variation
    assert _nan(S.krippendorff_alpha([[1, None], [None, 2]]))  # nothing pairable
    assert _nan(S.krippendorff_alpha([[1, 1, 1], [1, 1, 1]], "interval"))
    assert _nan(S.krippendorff_alpha([[1, 1, 1], [1, 1, 1]], "ordinal"))
    assert _nan(S.fleiss_kappa([[3, 0], [3, 0]]))  # one category: P_e = 1
    assert _nan(S.fleiss_kappa([[1, 0], [0, 1]]))  # one rater
    one = S.cohen_kappa([[10, 0], [0, 0]])
    assert _nan(one.kappa) and _nan(one.ase) and one.note and one.p_o == 1.0
    empty = S.cohen_kappa([[0, 0], [0, 0]])
    assert _nan(empty.kappa) and empty.note and empty.n == 0
    assert S.gwet_ac1([[10, 0], [0, 0]]) == 1.0  # AC1 stays defined where kappa is 0/0
    assert S.pabak([[10, 0], [0, 0]]) == 1.0
    assert _nan(S.gwet_ac1([[4]])) and _nan(S.pabak([[4]]))
    assert _nan(S.gwet_ac1_counts([[1, 0], [0, 1]]))  # nobody rated twice
    assert _nan(S.observed_agreement(np.zeros((0, 2))))


def test_degenerate_icc_and_importance() -> None:
    assert _nan(S.icc([[1, 1], [1, 1], [1, 1]]))  # 0/0
    assert _nan(S.icc([[1, 2]]))  # one target
    assert _nan(S.icc([[1], [2]]))  # one judge
    assert S.icc([[1, 1], [2, 2], [3, 3]]) == pytest.approx(1.0)
    assert _nan(S.icc([[1, None], [2, 3]]))  # one complete target
    x = [[1, 5], [2, 5], [3, 5], [4, 5]]
    assert list(S.relative_weights(x, [1, 1, 1, 1])) == pytest.approx([math.nan] * 2, nan_ok=True)
    weights = S.relative_weights(x, [1, 2, 2, 5])  # a constant predictor explains nothing
    assert weights[1] == 0.0 and weights.sum() == pytest.approx(S.r_squared(x, [1, 2, 2, 5]))
    assert S.shapley_r2(x, [1, 2, 2, 5])[1] == 0.0
    assert np.isnan(S.shapley_r2([[1], [2]], [1, 2])).all()  # fewer than three rows
    collinear = [[1, 2], [2, 4], [3, 6], [4, 8.0]]
    both = S.shapley_r2(collinear, [1, 2, 4, 3])
    assert both[0] == pytest.approx(both[1]) and both.sum() == pytest.approx(0.64)


def test_degenerate_tests() -> None:
    small = S.welch([1.0], [1.0, 2.0])
    assert _nan(small.t) and _nan(small.p) and small.note == "n < 2" and small.n_a == 1
    flat = S.welch([1, 1, 1], [2, 2])
    assert _nan(flat.t) and _nan(flat.ci_low) and flat.note and flat.diff == -1
    assert _nan(S.welch([], []).diff)
    same = S.two_proportions(0, 10, 0, 20)
    assert _nan(same.z) and _nan(same.p) and same.note and same.ci_high > 0 > same.ci_low
    empty = S.two_proportions(0, 0, 1, 2)
    assert _nan(empty.z) and _nan(empty.ci_low) and empty.note
    assert S.wilson_interval(0, 0) == pytest.approx((math.nan, math.nan), nan_ok=True)
    assert _nan(S.mde_means(0, 10, 0, 10)) and _nan(S.mde_means(1, 1, 1, 10))
    assert _nan(S.mde_proportions(0, 10, 1, 10)) and _nan(S.mde_proportions(0.5, 0, 0.5, 10))
    one = S.t_interval([0.3])
    assert one.mean == 0.3 and _nan(one.ci_low) and one.note == "n < 2"
    exact = S.t_interval([0.2, 0.2, 0.2])
    assert (exact.ci_low, exact.ci_high, exact.sd) == (0.2, 0.2, 0.0)
    assert S.benjamini_hochberg([]) == [] and S.benjamini_hochberg([None]) == [None]


# -- bad inputs: ValueError with a clear message --------------------------------------------------

BAD: list[tuple[Any, Any, str]] = [
    (S.krippendorff_alpha, ([1, 2, 3],), "2-dimensional"),
    (S.krippendorff_alpha, ([[1, 2], [1]],), "regular"),
    (S.krippendorff_alpha, ([["a", "b"], ["a", "b"]],), "numbers"),
    (S.krippendorff_alpha, ([[1, 2], [1, 2]], "nominalish"), "level must be"),
    (S.krippendorff_alpha, ([[1, -2], [1, 2]], "ratio"), "non-negative"),
    (S.krippendorff_alpha, ([[1, math.inf], [1, 2]],), "infinite"),
    (S.fleiss_kappa, ([[1, 2], [2, 0]],), "same number of raters"),
    (S.fleiss_kappa, ([[1, -1], [0, 0]],), "negative"),
    (S.fleiss_kappa, ([[1, None], [0, 1]],), "missing"),
    (S.cohen_kappa, ([[1, 2, 3], [1, 2, 3]],), "square"),
    (S.cohen_kappa, ([[1, 2], [3, 4]], "cubic"), "weights"),
    (S.gwet_ac1, ([1, 2],), "2-dimensional"),
    (S.icc, (SHROUT_FLEISS, "4,1"), "form"),
    (S.icc, (SHROUT_FLEISS, "21"), "form"),
    (S.relative_weights, ([[1], [2], [3]], [1, 2]), "rows"),
    (S.relative_weights, (np.zeros((3, 0)), [1, 2, 3]), "no columns"),
    (S.shapley_r2, (np.zeros((20, 16)), np.arange(20)), "at most 15"),
    (S.welch, ([[1, 2]], [1, 2]), "list of numbers"),
    (S.welch_from_stats, (1, -1, 5, 1, 1, 5), "negative"),
    (S.welch_from_stats, (1, 1, 2.5, 1, 1, 5), "whole number"),
    (S.welch_from_stats, ("1", 1, 2, 1, 1, 5), "number"),
    (S.two_proportions, (5, 3, 1, 2), "x1"),
    (S.two_proportions, (1, 3, 1, 2, 1.5), "confidence"),
    (S.wilson_interval, (-1, 3), "0 ≤ x"),
    (S.benjamini_hochberg, ([0.5, 1.5],), r"\[0, 1\]"),
    (S.mde_means, (1, 10, 1, 10, 0.05, 1.0), "power"),
    (S.mde_proportions, (1.2, 10, 0.5, 10), "proportions"),
]


@pytest.mark.parametrize(("fn", "args", "message"), BAD, ids=lambda v: getattr(v, "__name__", ""))
def test_bad_inputs_raise_value_error(fn: Any, args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fn(*args)


def test_results_are_frozen_and_plain() -> None:
    result = S.cohen_kappa([[20, 5], [10, 15]])
    with pytest.raises(AttributeError):
        result.kappa = 1.0  # type: ignore[misc]
    for value in (result.kappa, result.z, S.welch([1, 2, 3], [2, 3, 5]).p, S.icc(SHROUT_FLEISS)):
        assert type(value) is float
