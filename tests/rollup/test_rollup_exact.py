"""Rollup formulas are computed exactly and rounded once: a formula that is one
aggregate or a whole number times a share is computed without fractions (one
division of two integers, correctly rounded), and must give the very float the
exact fractions give."""

from __future__ import annotations

import random

import sbm_engine
from sbm_engine.rollup import _NOT_PLAIN, Rollup, _RollupEval

STANDARD = """
standard demo.exact {
    scale yn { yes = 1, no = 0 }
    item a "A" answer yn
    item c "C" answer number 0..10
    coefficient total = weighted_mean(items)
    coefficient g = if total == 1 then "A" else "B"
    bands total { low <= 0.5, high }
    rollup r1 = 100 * share(total >= 0.5)
    rollup r2 = avg(total)
    rollup r3 = share(answer(c) >= 9) * 7
    rollup r4 = total(total)
    rollup r5 = avg(answer(c))
    rollup r6 = share(g == "A")
    rollup r7 = r1 - r6 * 100
    rollup r8 = median(total)
    rollup r9 = mode(band(total))
    rollup r10 = total(1)
    rollup r11 = -3 * share(answer(c) <= 6)
}
"""


def test_plain_formulas_give_the_exact_float():
    std = sbm_engine.loads(STANDARD, "exact.sbm")
    rnd = random.Random(7)
    records = [
        {
            "visit_id": str(i),
            "point": f"P{i % 40}",
            "answers": {"a": rnd.choice(["yes", "no"]), "c": rnd.randint(0, 10)},
        }
        for i in range(700)
    ]
    roll = Rollup(std.model, "point").add_many(std.score_many(records))
    plain_seen = set()
    for group in roll.groups.values():
        fast = _RollupEval(std.model, group)
        slow = _RollupEval(std.model, group)
        for name in fast.by_name:
            if fast._plain(fast.by_name[name].expr) is not _NOT_PLAIN:
                plain_seen.add(name)
            slow._exact(name)
            got, want = fast.rollup(name), slow.values[name]
            assert got == want and type(got) is type(want), (name, got, want)
    # every formula but r7 (arithmetic on rollups) takes the plain way
    assert plain_seen == {f"r{k}" for k in range(1, 12)} - {"r7"}
