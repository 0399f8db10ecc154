"""The statistics of SBM analytics, as plain functions over numbers.

Inputs are lists or numpy arrays; a missing value is ``None`` or NaN. Every
function is checked against published worked examples (tests/analytics). Written
with numpy and scipy only (scipy for the t and normal distributions).

What a result cannot say, it says so instead of guessing: degenerate inputs
(fewer than two observations, zero variance, a single category, raters who agree
in a way that makes a formula 0/0) give NaN (floats) or None (lists), and result
objects carry a ``note`` that explains why. Bad shapes or types raise
``ValueError`` with a message naming the argument. No function raises
``ZeroDivisionError`` or lets numpy print a warning.

Which to use:

- agreement of raters on categories: `cohen_kappa` (two fixed raters, a k × k
  table), `fleiss_kappa` (any raters, equal number per subject), `gwet_ac1` and
  `pabak` (stay meaningful when one category dominates, where kappa collapses),
  `krippendorff_alpha` (any raters, missing ratings, nominal to ratio data);
- agreement on numbers: `icc` (complete targets × judges matrix) and interval
  `krippendorff_alpha` (missing allowed);
- what drives an outcome: `relative_weights` (Johnson 2000, any number of
  predictors) and `shapley_r2` (exact LMG, up to 15 predictors);
- differences between waves: `welch` / `welch_from_stats` (means),
  `two_proportions` (pass rates), `benjamini_hochberg` (many rows at once),
  `mde_means` / `mde_proportions` (what a sample could have detected),
  `wilson_interval`, `t_interval`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse as _sparse
from scipy import special as _special

# The distributions through scipy.special's ufuncs, not scipy.stats' distribution
# objects: the same functions (Cephes) without the per-call argument checking and
# broadcasting, which dominated `compare` (it tests tens of thousands of rows).


def _norm_sf(x: float) -> float:
    return float(_special.ndtr(-x))


def _norm_ppf(q: float) -> float:
    return float(_special.ndtri(q))


def _t_sf(x: float, df: float) -> float:
    return float(_special.stdtr(df, -x))


def _t_ppf(q: float, df: float) -> float:
    return float(_special.stdtrit(df, q))


__all__ = [
    "KappaResult",
    "MeanInterval",
    "ProportionsResult",
    "WelchResult",
    "benjamini_hochberg",
    "cohen_kappa",
    "fleiss_kappa",
    "gwet_ac1",
    "gwet_ac1_counts",
    "icc",
    "krippendorff_alpha",
    "mde_means",
    "mde_proportions",
    "observed_agreement",
    "pabak",
    "pabak_counts",
    "r_squared",
    "relative_weights",
    "shapley_r2",
    "t_interval",
    "two_proportions",
    "welch",
    "welch_from_stats",
    "wilson_interval",
]

NAN = math.nan
Level = Literal["nominal", "ordinal", "interval", "ratio"]
#: Numbers in a list (of lists) or an array; None or NaN is a missing value.
Values = npt.ArrayLike | Sequence[float | None] | Sequence[Sequence[float | None]]
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")
ICC_FORMS: tuple[str, ...] = ("1,1", "2,1", "3,1", "1,k", "2,k", "3,k")
#: The largest number of predictors `shapley_r2` decomposes exactly (2**15 subsets).
SHAPLEY_MAX_PREDICTORS = 15
#: A denominator this close to 0 (relative to the scale of its terms) is taken as 0.
_TINY = 1e-12


# -- input checking -----------------------------------------------------------------------------


def _floats(data: Values, name: str, ndim: int) -> npt.NDArray[np.float64]:
    """`data` as a float array of `ndim` dimensions, None turned into NaN."""
    if not (isinstance(data, np.ndarray) and data.dtype.kind in "biuf"):
        _no_text(data, name)
    try:
        arr = np.array(data, dtype=np.float64)  # None becomes NaN
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"{name} must be numbers (None or NaN for missing) in a regular "
            f"{ndim}-dimensional array: {err}"
        ) from None
    if arr.ndim != ndim:
        shape = "a list of numbers" if ndim == 1 else f"{ndim}-dimensional (rows × columns)"
        raise ValueError(f"{name} must be {shape}, got an array of shape {arr.shape}")
    if np.isinf(arr).any():
        raise ValueError(f"{name} holds an infinite value")
    return arr


def _no_text(data: object, name: str) -> None:
    """numpy would read "1.5" as a number: text is refused, whatever it says."""
    if isinstance(data, str | bytes):
        raise ValueError(f"{name} must be numbers, got text")
    if isinstance(data, np.ndarray):
        if data.dtype.kind in "USO" and any(isinstance(v, str | bytes) for v in data.flat):
            raise ValueError(f"{name} must be numbers, got text")
        return
    if isinstance(data, Sequence):
        for value in data:
            _no_text(value, name)


def _counts(table: Values, name: str) -> npt.NDArray[np.float64]:
    """A 2-D array of non-negative finite counts (no missing values)."""
    arr = _floats(table, name, 2)
    if np.isnan(arr).any():
        raise ValueError(f"{name} holds a missing value; counts cannot be missing (use 0)")
    if (arr < 0).any():
        raise ValueError(f"{name} holds a negative count")
    return arr


def _square(table: npt.ArrayLike, name: str = "table") -> npt.NDArray[np.float64]:
    arr = _counts(table, name)
    if arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(
            f"{name} must be a square k × k contingency table (rater 1's category × "
            f"rater 2's), got shape {arr.shape}"
        )
    return arr


def _sample(values: Values, name: str) -> npt.NDArray[np.float64]:
    """A 1-D sample with the missing values dropped."""
    arr = _floats(values, name, 1)
    return arr[~np.isnan(arr)]


def _number(x: float, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a number, got {type(x).__name__}")
    value = float(x)
    if math.isinf(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _f(x: float | np.floating) -> float:
    """A plain Python float (numpy scalars print as np.float64(...) and are not JSON)."""
    return float(x)


# -- Krippendorff's alpha -----------------------------------------------------------------------


def krippendorff_alpha(data: Values, level: str = "nominal") -> float:
    """Krippendorff's alpha of `data`, coders × units, missing values allowed.

    The coincidence-matrix method (Krippendorff 2011, "Computing Krippendorff's
    alpha-reliability"). Only units with two or more values are pairable; with
    ``m_u`` values in unit u, each ordered pair of values (c, k) from different
    coders adds ``1 / (m_u − 1)`` to ``o_ck``; ``n_c = Σ_k o_ck``, ``n = Σ_c n_c``::

        alpha = 1 − D_o / D_e = 1 − (n − 1) · Σ o_ck δ²_ck / Σ n_c n_k δ²_ck

    with the difference function of the `level`:

    - ``nominal``: δ² = 0 when c = k, else 1 (categories without order: yes/no);
    - ``ordinal``: δ²_ck = (Σ_{g=c..k} n_g − (n_c + n_k)/2)², values ranked by
      size, using the marginal counts n_g (graded scales: 1–5, yes/partly/no);
    - ``interval``: δ² = (c − k)² (numbers whose differences mean something);
    - ``ratio``: δ² = ((c − k)/(c + k))² (non-negative numbers with a true zero).

    Use it for any number of coders, missing ratings and any level of measurement;
    the conventional reading: ≥ 0.8 reliable, ≥ 0.667 tentative, below that not.

    Returns NaN when no unit has two values, or when all pairable values are the
    same (no variation: D_e = 0, alpha undefined). Identical coders with variation
    give exactly 1. Nominal and interval are computed in closed form (memory linear
    in the values); ordinal and ratio build the V × V coincidence matrix of the V
    distinct values.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    x = _floats(data, "data", 2)
    if level == "ratio" and (x[~np.isnan(x)] < 0).any():
        raise ValueError("ratio level needs non-negative values")
    present = ~np.isnan(x)
    per_unit = present.sum(axis=0)
    keep = per_unit >= 2
    if not keep.any():
        return NAN
    x, present, m_u = x[:, keep], present[:, keep], per_unit[keep].astype(np.float64)
    units = np.broadcast_to(np.arange(x.shape[1]), x.shape)[present]
    values = x[present]
    n = float(values.size)
    with np.errstate(all="ignore"):
        if level == "interval":
            return _interval_alpha(values, units, m_u, n)
        distinct, codes = np.unique(values, return_inverse=True)
        if distinct.size < 2:
            return NAN
        if level == "nominal":
            return _nominal_alpha(codes, units, m_u, n, distinct.size)
        return _matrix_alpha(codes, units, m_u, distinct, level)


def _interval_alpha(
    values: npt.NDArray[np.float64],
    units: npt.NDArray[np.intp],
    m_u: npt.NDArray[np.float64],
    n: float,
) -> float:
    """Interval alpha in closed form: Σ_{i≠j in u} (x_i − x_j)² = 2·m_u·SS_u, so
    Σ o_ck δ² = Σ_u 2·m_u·SS_u/(m_u − 1) and Σ n_c n_k δ² = 2·n·SS."""
    centred = values - values.mean()
    total_ss = float(np.sum(centred**2))
    if total_ss <= _TINY * max(1.0, float(np.sum(values**2))):
        return NAN
    sums = np.bincount(units, weights=centred, minlength=m_u.size)
    means = sums / m_u
    ss_u = np.bincount(units, weights=(centred - means[units]) ** 2, minlength=m_u.size)
    observed = float(np.sum(m_u * ss_u / (m_u - 1)))
    return _f(1.0 - (n - 1.0) * observed / (n * total_ss))


def _nominal_alpha(
    codes: npt.NDArray[np.intp],
    units: npt.NDArray[np.intp],
    m_u: npt.NDArray[np.float64],
    n: float,
    v: int,
) -> float:
    """Nominal alpha from the diagonal of the coincidence matrix only:
    alpha = 1 − (n − 1)(n − Σ o_cc)/(n² − Σ n_c²)."""
    pair, n_uc = np.unique(units.astype(np.int64) * v + codes, return_counts=True)
    unit_of = pair // v
    o_diag = float(np.sum(n_uc * (n_uc - 1) / (m_u[unit_of] - 1)))
    n_c = np.bincount(codes, minlength=v).astype(np.float64)
    expected = n * n - float(np.sum(n_c**2))
    if expected <= 0:
        return NAN
    return _f(1.0 - (n - 1.0) * (n - o_diag) / expected)


def _matrix_alpha(
    codes: npt.NDArray[np.intp],
    units: npt.NDArray[np.intp],
    m_u: npt.NDArray[np.float64],
    distinct: npt.NDArray[np.float64],
    level: str,
) -> float:
    """Alpha through the full coincidence matrix o = Nᵀ W N − diag(Nᵀ w), with N the
    units × values counts and W = diag(1/(m_u − 1))."""
    v = distinct.size
    counts = _sparse.csr_matrix(
        (np.ones(codes.size), (units, codes)), shape=(m_u.size, v)
    )  # duplicates summed
    w = 1.0 / (m_u - 1.0)
    weighted = _sparse.diags(w) @ counts
    o = np.asarray((counts.T @ weighted).todense(), dtype=np.float64)
    o -= np.diag(np.asarray(weighted.sum(axis=0)).ravel())
    n_c = o.sum(axis=1)
    n = float(n_c.sum())
    delta2 = _delta2(distinct, n_c, level)
    observed = float(np.sum(o * delta2))
    expected = float(np.sum(np.outer(n_c, n_c) * delta2))
    if expected <= 0:
        return NAN
    return _f(1.0 - (n - 1.0) * observed / expected)


def _delta2(
    distinct: npt.NDArray[np.float64], n_c: npt.NDArray[np.float64], level: str
) -> npt.NDArray[np.float64]:
    c, k = np.meshgrid(distinct, distinct, indexing="ij")
    if level == "ratio":
        total = c + k
        return np.where(total == 0, 0.0, ((c - k) / np.where(total == 0, 1.0, total)) ** 2)
    if level == "interval":
        return np.asarray((c - k) ** 2, dtype=np.float64)
    # ordinal: values sorted by np.unique; sum of marginals from the lower to the higher
    idx = np.arange(distinct.size)
    lo, hi = np.minimum.outer(idx, idx), np.maximum.outer(idx, idx)
    cum = np.concatenate([[0.0], np.cumsum(n_c)])
    between = cum[hi + 1] - cum[lo]
    return np.asarray((between - (n_c[lo] + n_c[hi]) / 2.0) ** 2, dtype=np.float64)


# -- kappa and its relatives --------------------------------------------------------------------


def fleiss_kappa(counts: npt.ArrayLike) -> float:
    """Fleiss' kappa of `counts`, subjects × categories (how many raters put each
    subject in each category), the same number of raters n for every subject::

        P_i = (Σ_j n_ij² − n) / (n(n − 1)),  P̄ = mean P_i
        p_j = Σ_i n_ij / (N·n),              P_e = Σ_j p_j²
        kappa = (P̄ − P_e) / (1 − P_e)

    Use it for three or more raters (or pairs of raters that change from subject to
    subject); with two fixed raters, `cohen_kappa`. Raises ValueError when subjects
    have different numbers of raters. Returns NaN with no subjects, fewer than two
    raters, or a single category used throughout (P_e = 1: kappa is 0/0; see
    `gwet_ac1_counts`, which stays defined).
    """
    c = _counts(counts, "counts")
    if c.shape[0] == 0 or c.shape[1] == 0:
        return NAN
    raters = c.sum(axis=1)
    n = float(raters[0])
    if not np.allclose(raters, n, rtol=0, atol=1e-9):
        raise ValueError(
            "fleiss_kappa needs the same number of raters for every subject; rows of "
            f"counts sum to {sorted({float(r) for r in raters})[:5]}"
        )
    if n < 2:
        return NAN
    with np.errstate(all="ignore"):
        p_j = c.sum(axis=0) / (c.shape[0] * n)
        p_i = (np.sum(c * c, axis=1) - n) / (n * (n - 1))
        p_bar = float(p_i.mean())
        p_e = float(np.sum(p_j**2))
        if 1.0 - p_e <= _TINY:
            return NAN
        return _f((p_bar - p_e) / (1.0 - p_e))


@dataclass(frozen=True, slots=True)
class KappaResult:
    """Cohen's kappa (weighted or not) with SAS PROC FREQ's standard errors.

    `ase`: the asymptotic standard error (Fleiss, Cohen & Everitt 1969), for the
    interval ``ci_low``/``ci_high`` = kappa ∓ 1.96·ase; `ase0`: the standard error
    under H0 (kappa = 0), for ``z`` = kappa / ase0 and its two-sided ``p``; `n`: the
    number of rated subjects; `p_o`, `p_e`: the (weighted) observed and chance
    agreement. Fields that cannot be computed are NaN and `note` says why.
    """

    kappa: float
    ase: float
    ci_low: float
    ci_high: float
    z: float
    p: float
    n: float
    p_o: float
    p_e: float
    ase0: float
    weights: str | None = None
    note: str | None = None


Z95 = 1.959963984540054  # the normal quantile of 0.975 (SAS prints kappa ± 1.96 · ase)


def _agreement_weights(k: int, weights: str | None) -> npt.NDArray[np.float64]:
    if weights is None:
        return np.eye(k)
    if weights not in ("linear", "quadratic"):
        raise ValueError(f"weights must be None, 'linear' or 'quadratic'; got {weights!r}")
    if k < 2:
        return np.ones((1, 1))
    i, j = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    d = np.abs(i - j) / (k - 1)
    return np.asarray(1.0 - (d if weights == "linear" else d**2), dtype=np.float64)


def cohen_kappa(table: npt.ArrayLike, weights: str | None = None) -> KappaResult:
    """Cohen's kappa of a k × k `table` (rows: rater 1's category, columns: rater 2's,
    categories in the same order), unweighted or with agreement weights w_ij::

        p_o = Σ w_ij p_ij,  p_e = Σ w_ij p_i. p_.j,  kappa = (p_o − p_e)/(1 − p_e)

    ``weights``: None (w = identity; categories without order), ``"linear"``
    (Cicchetti–Allison, w_ij = 1 − |i − j|/(k − 1)) or ``"quadratic"``
    (Fleiss–Cohen, w_ij = 1 − (i − j)²/(k − 1)²), scores 1..k, for ordered
    categories where near misses count as partial agreement.

    Standard errors as SAS PROC FREQ computes them (Fleiss, Cohen & Everitt 1969),
    with w̄_i. = Σ_j p_.j w_ij and w̄_.j = Σ_i p_i. w_ij::

        var  = [Σ p_ij (w_ij − (w̄_i. + w̄_.j)(1 − κ))² − (κ − p_e(1 − κ))²] / ((1 − p_e)² n)
        var0 = [Σ p_i. p_.j (w_ij − (w̄_i. + w̄_.j))² − p_e²] / ((1 − p_e)² n)

    Use it for two fixed raters. Chance agreement of 1 (a single category used by
    both) makes kappa 0/0: NaN fields and a note; see `gwet_ac1`, `pabak`.
    """
    t = _square(table)
    k = t.shape[0]
    w = _agreement_weights(k, weights)
    n = float(t.sum())
    nan_result = KappaResult(NAN, NAN, NAN, NAN, NAN, NAN, n, NAN, NAN, NAN, weights)
    if n <= 0:
        return replace(nan_result, note="no rated subjects (n = 0)")
    with np.errstate(all="ignore"):
        p = t / n
        row, col = p.sum(axis=1), p.sum(axis=0)
        p_o = float(np.sum(w * p))
        p_e = float(np.sum(w * np.outer(row, col)))
        if 1.0 - p_e <= _TINY:
            return KappaResult(
                NAN, NAN, NAN, NAN, NAN, NAN, n, p_o, p_e, NAN, weights,
                "chance agreement is 1 (one category used by both raters): kappa is 0/0",
            )  # fmt: skip
        kappa = (p_o - p_e) / (1.0 - p_e)
        w_row = w @ col  # w̄_i.
        w_col = row @ w  # w̄_.j
        both = w_row[:, None] + w_col[None, :]
        scale = (1.0 - p_e) ** 2 * n
        var = (
            float(np.sum(p * (w - both * (1.0 - kappa)) ** 2)) - (kappa - p_e * (1.0 - kappa)) ** 2
        ) / scale
        var0 = (float(np.sum(np.outer(row, col) * (w - both) ** 2)) - p_e**2) / scale
        ase = math.sqrt(max(var, 0.0))
        ase0 = math.sqrt(max(var0, 0.0))
        z = kappa / ase0 if ase0 > 0 else NAN
        p_value = _f(2.0 * _norm_sf(abs(z))) if not math.isnan(z) else NAN
    note = None if ase0 > 0 else "standard error under H0 is 0: no z test"
    return KappaResult(
        _f(kappa), ase, _f(kappa - Z95 * ase), _f(kappa + Z95 * ase), _f(z), p_value, n,
        p_o, p_e, ase0, weights, note,
    )  # fmt: skip


def gwet_ac1(table: npt.ArrayLike) -> float:
    """Gwet's AC1 of a k × k `table` of two raters (Gwet 2008)::

        p_o = Σ p_ii,  π_q = (p_q. + p_.q)/2,  p_e = Σ π_q(1 − π_q)/(k − 1)
        AC1 = (p_o − p_e)/(1 − p_e)

    Use it beside kappa when one category dominates (95 % "yes"): kappa collapses
    there although raters agree, AC1 does not. NaN for an empty table or k < 2.
    """
    t = _square(table)
    n, k = float(t.sum()), t.shape[0]
    if n <= 0 or k < 2:
        return NAN
    with np.errstate(all="ignore"):
        p = t / n
        p_o = float(np.trace(p))
        pi = (p.sum(axis=1) + p.sum(axis=0)) / 2.0
        p_e = float(np.sum(pi * (1.0 - pi))) / (k - 1)
        return _f((p_o - p_e) / (1.0 - p_e))


def pabak(table: npt.ArrayLike) -> float:
    """Prevalence- and bias-adjusted kappa of a k × k `table`: (k·p_o − 1)/(k − 1),
    where p_o = Σ p_ii (Byrt, Bishop & Carlin 1993; 2·p_o − 1 for two categories).

    Kappa as if categories were equally likely and raters unbiased: a rescaled
    observed agreement, 1 for full agreement and 0 at the agreement of uniform
    chance. NaN for an empty table or k < 2.
    """
    t = _square(table)
    n, k = float(t.sum()), t.shape[0]
    if n <= 0 or k < 2:
        return NAN
    return _f((k * float(np.trace(t)) / n - 1.0) / (k - 1))


def _pairable(counts: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    c = _counts(counts, "counts")
    r = c.sum(axis=1)
    keep = r >= 2
    return c[keep], r[keep]


def observed_agreement(counts: npt.ArrayLike) -> float:
    """The observed agreement of `counts`, subjects × categories, any number of raters
    per subject: the share of agreeing pairs of raters, averaged over the subjects with
    two or more ratings (the others are skipped)::

        p_o = mean_i Σ_q r_iq (r_iq − 1) / (r_i (r_i − 1))

    With two raters, the share of subjects they put in the same category. NaN when
    no subject has two ratings.
    """
    c, r = _pairable(counts)
    if r.size == 0:
        return NAN
    return _f(np.mean(np.sum(c * (c - 1.0), axis=1) / (r * (r - 1.0))))


def gwet_ac1_counts(counts: npt.ArrayLike) -> float:
    """Gwet's AC1 for any number of raters per subject, from `counts`, subjects ×
    categories (every possible category a column, used or not: K is their number)::

        p_o = observed_agreement(counts)
        π_q = mean_i r_iq / r_i,  p_e = Σ_q π_q(1 − π_q)/(K − 1)
        AC1 = (p_o − p_e)/(1 − p_e)

    over the subjects with two or more ratings. With two raters per subject it equals
    `gwet_ac1` of their table. NaN when no subject has two ratings or K < 2.
    """
    c, r = _pairable(counts)
    k = c.shape[1]
    if r.size == 0 or k < 2:
        return NAN
    with np.errstate(all="ignore"):
        p_o = float(np.mean(np.sum(c * (c - 1.0), axis=1) / (r * (r - 1.0))))
        pi = np.mean(c / r[:, None], axis=0)
        p_e = float(np.sum(pi * (1.0 - pi))) / (k - 1)
        return _f((p_o - p_e) / (1.0 - p_e))


def pabak_counts(counts: npt.ArrayLike) -> float:
    """PABAK for any number of raters: (K·p_o − 1)/(K − 1) with p_o the
    `observed_agreement` and K the number of category columns. NaN as p_o, or K < 2."""
    c = _counts(counts, "counts")
    k = c.shape[1]
    p_o = observed_agreement(c)
    if k < 2 or math.isnan(p_o):
        return NAN
    return _f((k * p_o - 1.0) / (k - 1))


# -- intraclass correlation ---------------------------------------------------------------------


def icc(matrix: Values, form: str = "2,1") -> float:
    """The intraclass correlation of `matrix`, n targets × k judges (Shrout & Fleiss
    1979). From the two-way ANOVA mean squares BMS (between targets), WMS (within
    targets), JMS (between judges) and EMS (residual)::

        ICC(1,1) = (BMS − WMS) / (BMS + (k − 1) WMS)
        ICC(2,1) = (BMS − EMS) / (BMS + (k − 1) EMS + k (JMS − EMS)/n)
        ICC(3,1) = (BMS − EMS) / (BMS + (k − 1) EMS)
        ICC(1,k) = (BMS − WMS) / BMS
        ICC(2,k) = (BMS − EMS) / (BMS + (JMS − EMS)/n)
        ICC(3,k) = (BMS − EMS) / BMS

    Which: 1 — each target rated by different judges; 2 — the same random sample of
    judges rates all targets, absolute agreement (what calibration of evaluators
    asks: do they give the same scores?); 3 — the same fixed judges, consistency
    only (a judge always 0.1 higher does not count against it). ",1" is the
    reliability of one judge, ",k" that of the mean of the k judges. `form` may
    also name k itself ("2,4" for four judges).

    Rows with a missing value are dropped (complete cases). NaN with fewer than two
    complete targets or two judges, or when the formula is 0/0 (all values equal).
    """
    x = _floats(matrix, "matrix", 2)
    parts = form.replace(" ", "").split(",")
    if len(parts) != 2 or parts[0] not in ("1", "2", "3") or not parts[1]:
        raise ValueError(f"form must be one of {', '.join(ICC_FORMS)}; got {form!r}")
    kind, single = parts[0], parts[1]
    k = x.shape[1]
    if single not in ("1", "k") and not (single.isdigit() and int(single) == k):
        raise ValueError(f"form {form!r}: the second part is 1, k or the number of judges ({k})")
    single_rater = single == "1"
    x = x[~np.isnan(x).any(axis=1)]
    n = x.shape[0]
    if n < 2 or k < 2:
        return NAN
    with np.errstate(all="ignore"):
        grand = x.mean()
        row_means, col_means = x.mean(axis=1), x.mean(axis=0)
        bms = k * float(np.sum((row_means - grand) ** 2)) / (n - 1)
        wms = float(np.sum((x - row_means[:, None]) ** 2)) / (n * (k - 1))
        jms = n * float(np.sum((col_means - grand) ** 2)) / (k - 1)
        resid = x - row_means[:, None] - col_means[None, :] + grand
        ems = float(np.sum(resid**2)) / ((n - 1) * (k - 1))
        if kind == "1":
            num = bms - wms
            den = (bms + (k - 1) * wms) if single_rater else bms
        elif kind == "2":
            num = bms - ems
            den = (
                (bms + (k - 1) * ems + k * (jms - ems) / n)
                if single_rater
                else (bms + (jms - ems) / n)
            )
        else:
            num = bms - ems
            den = (bms + (k - 1) * ems) if single_rater else bms
        # 0/0 (no variation at all) shows as rounding noise: judged against the data's size
        scale = float(np.mean(x * x)) + 1e-300
        if np.ptp(x) == 0 or abs(den) <= _TINY * scale:
            return NAN
        return _f(num / den)


# -- importance of predictors -------------------------------------------------------------------


def _regression(
    x: Values, y: Values
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_], bool]:
    """(correlations among the varying predictors, their correlations with y, which
    predictors vary, whether anything can be computed); rows with a missing value
    dropped."""
    xa = _floats(x, "X", 2)
    ya = _floats(y, "y", 1)
    if xa.shape[0] != ya.shape[0]:
        raise ValueError(f"X has {xa.shape[0]} rows but y has {ya.shape[0]} values")
    if xa.shape[1] == 0:
        raise ValueError("X has no columns (predictors)")
    keep = ~(np.isnan(xa).any(axis=1) | np.isnan(ya))
    xa, ya = xa[keep], ya[keep]
    p = xa.shape[1]
    empty = np.zeros((0, 0)), np.zeros(0), np.zeros(p, dtype=bool)
    if xa.shape[0] < 3:
        return (*empty, False)
    with np.errstate(all="ignore"):
        xc = xa - xa.mean(axis=0)
        yc = ya - ya.mean()
        sx = np.sqrt(np.sum(xc**2, axis=0))
        sy = math.sqrt(float(np.sum(yc**2)))
        scale_x = np.sqrt(np.sum(xa**2, axis=0)) + 1e-300
        varies = sx > 1e-12 * scale_x
        if sy <= 1e-12 * (math.sqrt(float(np.sum(ya**2))) + 1e-300):
            return (*empty, False)
        z = xc[:, varies] / sx[varies]
        rxx = z.T @ z
        rxy = z.T @ (yc / sy)
    return rxx, rxy, varies, True


def r_squared(x: Values, y: Values) -> float:
    """R² of the least-squares regression of y on the columns of X with an intercept
    (rxyᵀ Rxx⁺ rxy from correlations; collinear predictors are fine). NaN with fewer
    than three complete rows or a constant y."""
    rxx, rxy, _, ok = _regression(x, y)
    if not ok:
        return NAN
    if rxy.size == 0:
        return 0.0
    return float(rxy @ np.linalg.pinv(rxx, rcond=1e-10, hermitian=True) @ rxy)


def relative_weights(x: Values, y: Values) -> npt.NDArray[np.float64]:
    """Johnson's (2000) relative weights: each predictor's share of R², raw (they sum
    to R²). With Rxx = P Λ Pᵀ the predictors' correlations and rxy their correlations
    with y::

        Λ* = P Λ^½ Pᵀ           (correlations of X with its orthogonal counterpart Z)
        β  = P Λ^-½ Pᵀ rxy      (regression of y on Z)
        ε_j = Σ_k (Λ*_jk)² β_k²

    Use it for many or correlated predictors (it approximates the Shapley/LMG
    decomposition closely at a tiny cost). Rows with a missing value are dropped;
    a constant predictor gets 0; collinear predictors share through the
    pseudo-inverse. All NaN with fewer than three complete rows or a constant y.
    """
    rxx, rxy, varies, ok = _regression(x, y)
    out = np.full(varies.size, NAN if not ok else 0.0)
    if not ok or rxy.size == 0:
        return out
    out[varies] = relative_weights_from_correlations(rxx, rxy)
    return out


def relative_weights_from_correlations(
    rxx: npt.ArrayLike, rxy: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Johnson's relative weights from the predictors' correlation matrix `rxx` and
    their correlations with the outcome `rxy` (what `relative_weights` computes once
    it has them; `sbm drivers` accumulates them without keeping the visits)."""
    rxx, rxy = np.asarray(rxx, dtype=np.float64), np.asarray(rxy, dtype=np.float64)
    evals, evecs = np.linalg.eigh(rxx)
    evals = np.clip(evals, 0.0, None)
    good = evals > 1e-10 * max(float(evals.max()), 1e-300)
    root = np.sqrt(evals)
    inv_root = np.where(good, 1.0 / np.where(good, root, 1.0), 0.0)
    lam = (evecs * root) @ evecs.T
    beta = (evecs * inv_root) @ evecs.T @ rxy
    return np.asarray((lam**2) @ (beta**2))


def shapley_r2(x: Values, y: Values) -> npt.NDArray[np.float64]:
    """The exact Shapley (LMG) decomposition of R²: each predictor's increase of R²
    when it joins a subset S of the others, averaged over all orders of entry::

        φ_j = Σ_{S ⊆ P∖{j}} |S|! (p − |S| − 1)! / p! · (R²(S ∪ {j}) − R²(S))

    The values sum to R². Exact over all 2^p subsets, so at most
    `SHAPLEY_MAX_PREDICTORS` (15) predictors: more raise ValueError (group them, or
    use `relative_weights`). Rows with a missing value are dropped; a constant
    predictor gets 0. All NaN with fewer than three complete rows or a constant y.
    """
    xa = _floats(x, "X", 2)
    if xa.shape[1] > SHAPLEY_MAX_PREDICTORS:
        raise ValueError(
            f"shapley_r2 is exact over all subsets and takes at most "
            f"{SHAPLEY_MAX_PREDICTORS} predictors, got {xa.shape[1]}; group them "
            "(sections) or use relative_weights"
        )
    rxx, rxy, varies, ok = _regression(xa, y)
    out = np.full(varies.size, NAN if not ok else 0.0)
    if not ok or rxy.size == 0:
        return out
    out[varies] = shapley_from_correlations(rxx, rxy)
    return out


def shapley_from_correlations(rxx: npt.ArrayLike, rxy: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The exact Shapley (LMG) shares of R² from the correlation matrices, as
    `shapley_r2` computes them once it has them (2^p subsets: keep p ≤ 15)."""
    rxx, rxy = np.asarray(rxx, dtype=np.float64), np.asarray(rxy, dtype=np.float64)
    p = rxy.size
    r2 = np.zeros(1 << p)
    bits = 1 << np.arange(p)
    for size in range(1, p + 1):
        combos = np.array(list(itertools.combinations(range(p), size)), dtype=np.intp)
        sub = rxx[combos[:, :, None], combos[:, None, :]]
        r = rxy[combos]
        inv = np.linalg.pinv(sub, rcond=1e-10, hermitian=True)
        r2[(bits[combos]).sum(axis=1)] = np.einsum("ci,cij,cj->c", r, inv, r)
    masks = np.arange(1 << p)
    sizes = np.array([int(m).bit_count() for m in masks])
    weight = np.array(
        [math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p) for s in range(p)]
    )
    phi = np.empty(p)
    for j in range(p):
        without = masks[(masks & (1 << j)) == 0]
        phi[j] = np.sum(weight[sizes[without]] * (r2[without | (1 << j)] - r2[without]))
    return phi


# -- means ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WelchResult:
    """Welch's t test of mean(a) − mean(b) (`diff`): the statistic `t`, the
    Welch–Satterthwaite `df`, the two-sided `p` and the interval ``ci_low``,
    ``ci_high`` (95 % unless asked otherwise); `se` is the standard error of `diff`.
    NaN fields when the test cannot be made; `note` says why."""

    t: float
    df: float
    p: float
    ci_low: float
    ci_high: float
    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    diff: float
    se: float
    note: str | None = None


def welch_from_stats(
    mean_a: float,
    var_a: float,
    n_a: int,
    mean_b: float,
    var_b: float,
    n_b: int,
    confidence: float = 0.95,
) -> WelchResult:
    """Welch's unequal-variance t test from summary statistics (sample variances,
    denominator n − 1)::

        se² = var_a/n_a + var_b/n_b,  t = (mean_a − mean_b)/se
        df  = se⁴ / ((var_a/n_a)²/(n_a − 1) + (var_b/n_b)²/(n_b − 1))
        p   = 2·P(T_df > |t|),  CI = (mean_a − mean_b) ± t_{df, (1+confidence)/2}·se

    Use it to compare means of two independent samples (visits of two waves) when
    the variances may differ. NaN t, df, p and interval when a sample has fewer than
    two values or both variances are 0 (`note` says which); the means as given.
    """
    ma, va, mb, vb = (
        _number(mean_a, "mean_a"),
        _number(var_a, "var_a"),
        _number(mean_b, "mean_b"),
        _number(var_b, "var_b"),
    )
    na, nb = _count(n_a, "n_a"), _count(n_b, "n_b")
    if va < 0 or vb < 0:
        raise ValueError("variances must not be negative")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    diff = ma - mb if na and nb else NAN
    if na < 2 or nb < 2:
        note = "n < 2"
        return WelchResult(NAN, NAN, NAN, NAN, NAN, na, nb, _m(ma, na), _m(mb, nb), diff, NAN, note)
    sa, sb = va / na, vb / nb
    se2 = sa + sb
    if se2 <= 0:
        return WelchResult(
            NAN, NAN, NAN, NAN, NAN, na, nb, ma, mb, diff, 0.0, "zero variance in both samples"
        )
    se = math.sqrt(se2)
    df = se2**2 / (sa**2 / (na - 1) + sb**2 / (nb - 1))
    t = diff / se
    p = _f(2.0 * _t_sf(abs(t), df))
    half = _f(_t_ppf((1.0 + confidence) / 2.0, df)) * se
    return WelchResult(t, df, min(p, 1.0), diff - half, diff + half, na, nb, ma, mb, diff, se)


def _m(mean: float, n: int) -> float:
    return mean if n else NAN


def _count(n: int, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer | float | np.floating):
        raise ValueError(f"{name} must be a count, got {type(n).__name__}")
    if not float(n).is_integer() or n < 0:
        raise ValueError(f"{name} must be a whole number ≥ 0, got {n}")
    return int(n)


def welch(a: Values, b: Values, confidence: float = 0.95) -> WelchResult:
    """Welch's t test of two samples (missing values dropped): `welch_from_stats`
    of their means and sample variances. Equal to
    ``scipy.stats.ttest_ind(a, b, equal_var=False)`` and R's ``t.test(a, b)``."""
    xa, xb = _sample(a, "a"), _sample(b, "b")
    na, nb = xa.size, xb.size
    ma = float(xa.mean()) if na else 0.0
    mb = float(xb.mean()) if nb else 0.0
    va = float(xa.var(ddof=1)) if na > 1 else 0.0
    vb = float(xb.var(ddof=1)) if nb > 1 else 0.0
    return welch_from_stats(ma, va, na, mb, vb, nb, confidence)


@dataclass(frozen=True, slots=True)
class MeanInterval:
    """A mean with its t interval: `n`, `mean`, `sd` (denominator n − 1) and
    ``ci_low``/``ci_high``; NaN where n is too small (`note`)."""

    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float
    note: str | None = None


def t_interval(values: Values, confidence: float = 0.95) -> MeanInterval:
    """The mean of `values` (missing dropped) with its Student t interval::

        mean ± t_{n−1, (1+confidence)/2} · sd/√n

    Use it for the average of a sample's deviations (an evaluator's leniency). With
    sd = 0 the interval is the mean itself (the sample leaves no doubt). NaN mean
    with no values; NaN sd and interval with one (note "n < 2").
    """
    x = _sample(values, "values")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    n = int(x.size)
    if n == 0:
        return MeanInterval(0, NAN, NAN, NAN, NAN, "n < 2")
    constant = bool(np.all(x == x[0]))
    mean = float(x[0]) if constant else float(x.mean())  # exact for a constant sample
    if n < 2:
        return MeanInterval(1, mean, NAN, NAN, NAN, "n < 2")
    sd = 0.0 if constant else float(x.std(ddof=1))
    half = _f(_t_ppf((1.0 + confidence) / 2.0, n - 1)) * sd / math.sqrt(n)
    return MeanInterval(n, mean, sd, mean - half, mean + half)


# -- proportions --------------------------------------------------------------------------------


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    return _f(_norm_ppf((1.0 + confidence) / 2.0))


def _successes(x: float, n: float, xname: str, nname: str) -> tuple[float, float]:
    xv, nv = _number(x, xname), _number(n, nname)
    if nv < 0 or xv < 0 or xv > nv:
        raise ValueError(f"need 0 ≤ {xname} ≤ {nname}, got {xname}={xv}, {nname}={nv}")
    return xv, nv


def wilson_interval(x: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for the proportion x/n (no continuity correction)::

        (x + z²/2)/(n + z²) ± z·√(x(n − x)/n + z²/4)/(n + z²)

    Use it for pass rates: unlike p ± z·√(p(1−p)/n) it stays inside [0, 1] and is
    honest at 0 % and 100 %. (NaN, NaN) when n = 0.
    """
    xv, nv = _successes(x, n, "x", "n")
    z = _z(confidence)
    if nv == 0:
        return NAN, NAN
    z2 = z * z
    centre = (xv + z2 / 2.0) / (nv + z2)
    half = z * math.sqrt(xv * (nv - xv) / nv + z2 / 4.0) / (nv + z2)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class ProportionsResult:
    """Two proportions compared: `p1` − `p2` (`diff`), the pooled z test (`z`, two-sided
    `p`) and Newcombe's hybrid score interval of the difference (``ci_low``,
    ``ci_high``). NaN fields when not computable; `note` says why."""

    z: float
    p: float
    ci_low: float
    ci_high: float
    p1: float
    p2: float
    diff: float
    n1: float
    n2: float
    note: str | None = None


def two_proportions(
    x1: float, n1: float, x2: float, n2: float, confidence: float = 0.95
) -> ProportionsResult:
    """Compare x1/n1 with x2/n2 (pass rates of an item in two waves).

    z test with the pooled proportion p̄ = (x1 + x2)/(n1 + n2), as statsmodels'
    ``proportions_ztest``::

        z = (p1 − p2) / √(p̄(1 − p̄)(1/n1 + 1/n2)),  p = 2·P(Z > |z|)

    Interval of p1 − p2: Newcombe's hybrid score interval (method 10 of Newcombe
    1998), from the Wilson intervals (l1, u1), (l2, u2)::

        [d − √((p1 − l1)² + (u2 − p2)²),  d + √((u1 − p1)² + (p2 − l2)²)]

    which keeps its coverage for small samples and rates near 0 or 1. NaN everywhere
    when a sample is empty; z and p NaN when p̄ is 0 or 1 (no variation to test).
    """
    a, na = _successes(x1, n1, "x1", "n1")
    b, nb = _successes(x2, n2, "x2", "n2")
    _z(confidence)  # checks it
    if na == 0 or nb == 0:
        p1 = a / na if na else NAN
        p2 = b / nb if nb else NAN
        return ProportionsResult(NAN, NAN, NAN, NAN, p1, p2, NAN, na, nb, "an empty sample (n = 0)")
    p1, p2 = a / na, b / nb
    diff = p1 - p2
    l1, u1 = wilson_interval(a, na, confidence)
    l2, u2 = wilson_interval(b, nb, confidence)
    low = diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    pooled = (a + b) / (na + nb)
    var = pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)
    if var <= 0:
        return ProportionsResult(
            NAN, NAN, low, high, p1, p2, diff, na, nb, "no variation (pooled proportion 0 or 1)"
        )
    z = diff / math.sqrt(var)
    p = _f(2.0 * _norm_sf(abs(z)))
    return ProportionsResult(z, p, low, high, p1, p2, diff, na, nb)


# -- many tests, detectable effects --------------------------------------------------------------


def benjamini_hochberg(pvalues: Values) -> list[float | None]:
    """Benjamini–Hochberg adjusted p-values (false discovery rate), in the input's
    order; None or NaN entries are passed through as None and not counted::

        p_adj(i) = min(1, min_{j ≥ i} m · p_(j) / j)    (p_(1) ≤ … ≤ p_(m))

    Use it when a table tests many rows at once (every group × measure): a row is
    significant when its adjusted p < 0.05, which keeps the expected share of false
    discoveries at 5 %. Same as statsmodels ``multipletests(method="fdr_bh")``.
    """
    p = _floats(pvalues, "pvalues", 1)
    known = ~np.isnan(p)
    if ((p[known] < 0) | (p[known] > 1)).any():
        raise ValueError("p-values must lie in [0, 1]")
    out: list[float | None] = [None] * p.size
    m = int(known.sum())
    if m == 0:
        return out
    idx = np.flatnonzero(known)
    order = np.argsort(p[idx], kind="mergesort")
    raw = p[idx][order]
    ranked = raw * m / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    adjusted = np.maximum(adjusted, raw)  # p·m/m can round below p by one unit
    for position, value in zip(idx[order], adjusted, strict=True):
        out[int(position)] = float(value)
    return out


def _power_z(alpha: float, power: float) -> float:
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must lie in (0, 1), got {alpha}, {power}")
    return _f(_norm_ppf(1.0 - alpha / 2.0) + _norm_ppf(power))


def mde_means(
    var_a: float, n_a: int, var_b: float, n_b: int, alpha: float = 0.05, power: float = 0.8
) -> float:
    """The minimum detectable difference of two means (two-sided test at `alpha` with
    `power`), normal approximation::

        MDE = (z_{1−α/2} + z_{power}) · √(var_a/n_a + var_b/n_b)

    (2.80 standard errors at the defaults). Use it beside a non-significant change:
    "no change bigger than MDE went unnoticed". NaN when a sample has fewer than two
    values or both variances are 0 (the sample says nothing about its noise).
    """
    va, vb = _number(var_a, "var_a"), _number(var_b, "var_b")
    na, nb = _count(n_a, "n_a"), _count(n_b, "n_b")
    if va < 0 or vb < 0:
        raise ValueError("variances must not be negative")
    z = _power_z(alpha, power)
    if na < 2 or nb < 2 or va + vb <= 0:
        return NAN
    return _f(z * math.sqrt(va / na + vb / nb))


def mde_proportions(
    p_a: float, n_a: int, p_b: float, n_b: int, alpha: float = 0.05, power: float = 0.8
) -> float:
    """The minimum detectable difference of two proportions, normal approximation
    with the observed proportions::

        MDE = (z_{1−α/2} + z_{power}) · √(p_a(1 − p_a)/n_a + p_b(1 − p_b)/n_b)

    NaN when a sample is empty or both proportions are 0 or 1 (the approximation
    says nothing there).
    """
    pa, pb = _number(p_a, "p_a"), _number(p_b, "p_b")
    if not (0 <= pa <= 1 and 0 <= pb <= 1):
        raise ValueError("proportions must lie in [0, 1]")
    na, nb = _count(n_a, "n_a"), _count(n_b, "n_b")
    z = _power_z(alpha, power)
    if na == 0 or nb == 0:
        return NAN
    var = pa * (1 - pa) / na + pb * (1 - pb) / nb
    if var <= 0:
        return NAN
    return _f(z * math.sqrt(var))
