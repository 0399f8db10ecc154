"""The workload's computation written by hand: the yardsticks for the engine's speed.

Why: "fast" means "close to what a competent engineer would write for this one
standard without an engine". Two such programs, both knowing the standard only
through `workload.criteria()`:

* `python_scorer()`: pure Python, one visit (a dict of answers) at a time: a loop
  over the criteria with dict lookups, weighted sums per section and tag, the
  coefficients, band, gap, critical list and the NPS inputs. Invalid visits give
  None (the engine rejects them).
* `score_numpy(table)`: numpy over the batch from the same pyarrow Table the
  engine's batch path reads, a cache-sized slice of rows at a time: dictionary-encoded
  answers mapped through lookup tables (score, w·score, w), section and tag sums as
  in-place adds.

`verify(n)` checks that both agree with the engine (per-visit and batch) on n
visits; `run.py` calls it before timing anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import workload as wl

Scorer = Callable[[dict[str, Any]], dict[str, Any] | None]


def python_scorer(crit: Sequence[wl.Criterion] | None = None) -> Scorer:
    """A hand-written per-visit scorer for the workload standard.

    Written the way a careful engineer would for speed: everything precomputed
    into index lists, scores in a list, sums in local variables, no per-visit
    allocation beyond the result dicts.
    """
    crit = tuple(crit or wl.criteria())
    yes_no = {"yes": 1.0, "no": 0.0}
    grade = {1: 0.0, 2: 0.25, 3: 0.5, 4: 0.75, 5: 1.0}
    names = [c.name for c in crit] + ["rating"]
    plan = []
    for c in crit:
        table = yes_no if c.kind == "yes_no" else grade if c.kind == "grade5" else None
        plan.append((c.name, table, c.deposit_only, c.limits))
    index = {name: j for j, name in enumerate(names)}
    section_plan = [
        (s, [(index[c.name], float(c.weight)) for c in crit if c.section == s])
        for s, *_ in wl.SECTIONS
    ]
    tag_plan = [
        (t, [(index[c.name], float(c.weight)) for c in crit if c.tag == t])
        for t in (*wl.TAGS, "premises")
    ]
    section_weights = [(s, float(w)) for s, _t, w, _n in wl.SECTIONS]
    critical = [(c.name, index[c.name]) for c in crit if c.critical]
    visit_terms = list(wl.VISIT_TERMS.items())
    bands = wl.BANDS
    target = wl.TARGET

    def wsum(scores: list[float | None], pairs: list[tuple[int, float]]) -> float | None:
        num = den = 0.0
        for j, w in pairs:
            v = scores[j]
            if v is not None:
                num += w * v
                den += w
        return num / den if den else None

    def score(record: dict[str, Any]) -> dict[str, Any] | None:
        get = record["answers"].get
        deposit = record.get("scenario") == "deposit"
        scores: list[float | None] = []
        add = scores.append
        for name, table, deposit_only, limits in plan:
            if deposit_only and not deposit:
                add(None)
                continue
            a = get(name)
            if table is None:  # waiting time, optional
                if a is None:
                    add(None)
                elif not 0 <= a <= limits[0]:
                    return None
                else:
                    add(1.0 if a <= limits[1] else 0.5 if a <= limits[2] else 0.0)
            elif a == "na":
                add(None)
            else:
                v = table.get(a)
                if v is None:
                    return None
                add(v)
        rating = get("rating")
        add(None if rating is None else rating / 10)
        sections = {s: wsum(scores, pairs) for s, pairs in section_plan}
        coefs = {t: wsum(scores, pairs) for t, pairs in tag_plan}
        point = coefs.pop("premises")
        num = den = 0.0
        for t, w in visit_terms:
            v = coefs[t]
            if v is not None:
                num += w * v
                den += w
        specialist = num / den if den else None
        subjective = scores[-1]
        failed = [name for name, j in critical if scores[j] == 0]
        if failed:
            visit: float | None = 0.0
        else:
            num = den = 0.0
            for v, w in ((specialist, 0.7), (point, 0.1), (subjective, 0.2)):
                if v is not None:
                    num += w * v
                    den += w
            visit = num / den if den else None
        num = den = 0.0
        for s, w in section_weights:
            v = sections[s]
            if v is not None:
                num += w * v
                den += w
        coefs["specialist"] = specialist
        coefs["point"] = point
        coefs["subjective"] = subjective
        coefs["visit"] = visit
        coefs["stages"] = num / den if den else None
        band = None
        if visit is not None:
            for label, t in bands:
                if t is None or visit >= t:
                    band = label
                    break
        return {
            "items": dict(zip(names, scores, strict=True)),
            "sections": sections,
            "coefficients": coefs,
            "band": band,
            "gap": None if visit is None else visit - target,
            "critical": failed,
            "nps": (None, None) if rating is None else (rating >= 9, rating <= 6),
        }

    return score


#: Rows per slice of `score_numpy`: every intermediate array of a slice stays in cache.
NUMPY_CHUNK = 1 << 14

_LABELS: dict[str, dict[Any, float]] = {
    "yes_no": {"yes": 1.0, "no": 0.0, "na": np.nan},
    "grade5": {"1": 0.0, "2": 0.25, "3": 0.5, "4": 0.75, "5": 1.0, "na": np.nan},
}


def score_numpy(
    table: Any, crit: Sequence[wl.Criterion] | None = None, chunk: int = NUMPY_CHUNK
) -> dict[str, Any]:
    """Hand-written numpy over the batch (the pyarrow Table of the workload).

    Written for speed as a competent engineer would: the table is taken a slice of
    `chunk` rows at a time so every intermediate array stays in cache; each answer
    column is dictionary encoded (free for dictionary input) and its distinct labels
    are looked up once per slice, giving three tables per criterion (score, w·score
    with N/A as 0, w where answered); the slice's scores, section and tag sums are
    then gathers and in-place adds, column by column. Outputs are whole columns."""
    crit = tuple(crit or wl.criteria())
    n = table.num_rows
    k = len(crit) + 1
    items = np.empty((n, k), order="F")
    section_names = [s for s, *_ in wl.SECTIONS]
    tag_names = [*wl.TAGS, "premises"]
    sections = {s: np.empty(n) for s in section_names}
    tags = {t: np.empty(n) for t in tag_names}
    bad = np.zeros(n, dtype=bool)
    crit_idx = [j for j, c in enumerate(crit) if c.critical]
    failed = np.zeros((n, len(crit_idx)), dtype=bool)
    rating = table.column("rating").to_numpy(zero_copy_only=False).astype(float)
    luts: dict[tuple[str, tuple[Any, ...], float], tuple[np.ndarray, ...]] = {}

    def tables(c: wl.Criterion, values: list[Any]) -> tuple[np.ndarray, ...]:
        key = (c.kind, tuple(values), float(c.weight))
        hit = luts.get(key)
        if hit is None:
            known = _LABELS[c.kind]
            score = np.array([known.get(v, np.nan) for v in values] + [np.nan])
            answered = ~np.isnan(score)
            hit = luts[key] = (
                score,
                np.where(answered, score * c.weight, 0.0),
                answered * float(c.weight),
                np.array([v not in known for v in values] + [True]),
            )
        return hit

    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        part = table.slice(start, stop - start)
        m = stop - start
        deposit = part.column("scenario").to_numpy(zero_copy_only=False) == "deposit"
        num = {g: np.zeros(m) for g in (*section_names, *tag_names)}
        den = {g: np.zeros(m) for g in (*section_names, *tag_names)}
        for j, c in enumerate(crit):
            col = part.column(c.name).combine_chunks()
            if c.kind == "number":
                x = col.to_numpy(zero_copy_only=False)
                high, full, half = c.limits  # type: ignore[misc]
                bad[start:stop] |= (x < 0) | (x > high)
                s = np.where(x <= full, 1.0, np.where(x <= half, 0.5, 0.0))
                answered = ~np.isnan(x)
                s[~answered] = np.nan
                wz = np.where(answered, s * c.weight, 0.0)
                wv = answered * float(c.weight)
            else:
                enc = col if hasattr(col, "indices") else col.dictionary_encode()
                values = enc.dictionary.to_pylist()
                score, wz_t, wv_t, invalid = tables(c, values)
                codes = enc.indices.fill_null(len(values)).to_numpy(zero_copy_only=False)
                s = score.take(codes)
                wz = wz_t.take(codes)
                wv = wv_t.take(codes)
                wrong = invalid.take(codes)
                if c.deposit_only:
                    wrong &= deposit
                    other = ~deposit
                    s[other] = np.nan
                    wz[other] = 0.0
                    wv[other] = 0.0
                if c.critical:
                    wrong |= np.isnan(s)  # required: N/A is an error too
                bad[start:stop] |= wrong
            items[start:stop, j] = s
            for g in (c.section, c.tag):
                num[g] += wz
                den[g] += wv
        with np.errstate(invalid="ignore", divide="ignore"):
            for g, out in (*sections.items(), *tags.items()):
                out[start:stop] = num[g] / den[g]  # 0/0 is NaN: no item answered
        for i, j in enumerate(crit_idx):
            failed[start:stop, i] = items[start:stop, j] == 0.0
    bad |= (rating < 0) | (rating > 10)
    items[:, -1] = rating / 10

    def terms(parts: list[tuple[np.ndarray, float]]) -> np.ndarray:
        num = np.zeros(n)
        den = np.zeros(n)
        for x, w in parts:
            ok = ~np.isnan(x)
            num += np.where(ok, x * w, 0.0)
            den += ok * w
        with np.errstate(invalid="ignore", divide="ignore"):
            return num / den

    coefs = {t: tags[t] for t in wl.TAGS}
    coefs["specialist"] = terms([(tags[t], w) for t, w in wl.VISIT_TERMS.items()])
    coefs["point"] = tags["premises"]
    coefs["subjective"] = items[:, -1]
    top = terms([(coefs[t], w) for t, w in wl.TOP_TERMS.items()])
    coefs["visit"] = np.where(failed.any(axis=1), 0.0, top)
    coefs["stages"] = terms([(sections[s], float(w)) for s, _t, w, _n in wl.SECTIONS])
    visit = coefs["visit"]
    thresholds = np.array([t for _, t in wl.BANDS[:-1]])
    band = np.searchsorted(-thresholds, -visit, side="left")  # index into wl.BANDS
    band = np.where(np.isnan(visit), -1, band)
    return {
        "items": items,
        "sections": sections,
        "coefficients": coefs,
        "band": band,
        "gap": visit - wl.TARGET,
        "critical": failed,
        "nps": (
            np.where(np.isnan(rating), np.nan, rating >= 9),
            np.where(np.isnan(rating), np.nan, rating <= 6),
        ),
        "rejected": bad,
    }


# -- agreement -------------------------------------------------------------------------------


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return (a is None) and (b is None or (isinstance(b, float) and math.isnan(b)))
    return abs(a - b) <= 1e-9


def verify(std: Any, n: int = 10_000) -> None:
    """Assert the engine (both paths) and both baselines agree on n workload visits."""
    from sbm_engine.batch import BatchEvaluator, evaluate_table

    crit = wl.criteria()
    cols = wl.columns(n, crit=crit)
    records = wl.records(cols, crit)
    table = wl.table(cols, crit)
    engine = [std.score(r) for r in records]
    assert all(o.ok for o in engine), "the workload has only valid visits"
    ev = BatchEvaluator(std)
    batch = evaluate_table(ev, table)
    assert not batch.suspect.any()
    hand_py = python_scorer(crit)
    hand_np = score_numpy(table, crit)
    assert not hand_np["rejected"].any()
    names = [c.name for c in crit] + ["rating"]
    band_labels = [label for label, _ in wl.BANDS]
    for i, (o, rec) in enumerate(zip(engine, records, strict=True)):
        p = hand_py(rec)
        assert p is not None
        for c in std.coefficient_names:
            want = o.coefficients[c]
            assert _close(want, p["coefficients"][c]), (i, c, "python")
            assert _close(want, float(hand_np["coefficients"][c][i])), (i, c, "numpy")
            got = float(batch.coefficients[c][i])
            assert (want is None and math.isnan(got)) or want == got, (i, c, "batch")
        for s in std.section_names:
            assert _close(o.sections[s], p["sections"][s])
            assert _close(o.sections[s], float(hand_np["sections"][s][i]))
        for j, name in enumerate(names):
            assert _close(o.items[name], p["items"][name])
            assert _close(o.items[name], float(hand_np["items"][i, j]))
        visit = o.coefficients["visit"]
        near = visit is not None and any(
            t is not None and abs(visit - t) < 1e-9 for _, t in wl.BANDS
        )
        assert o.bands["visit"] == p["band"]
        if not near:  # matrix products may round a boundary value the other way
            k = int(hand_np["band"][i])
            assert o.bands["visit"] == (None if k < 0 else band_labels[k])
        assert list(o.critical) == p["critical"]
        assert list(o.critical) == [
            c.name
            for j, c in enumerate([c for c in crit if c.critical])
            if hand_np["critical"][i, j]
        ]
        assert (o.rollup_inputs["nps.1"], o.rollup_inputs["nps.2"]) == p["nps"]
    # Dictionary-encoded input (as `sbm score` reads files) gives the same figures.
    coded = wl.dictionary_table(table)
    batch_coded = evaluate_table(ev, coded)
    for c in std.coefficient_names:
        assert np.array_equal(batch.coefficients[c], batch_coded.coefficients[c], equal_nan=True)
    hand_coded = score_numpy(coded, crit)
    assert np.array_equal(hand_np["items"], hand_coded["items"], equal_nan=True)
