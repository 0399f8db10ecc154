"""Weighted item sums, added up while the items are scored: Σ w·score and Σ w in one
complex array.

Why: every section and every `weighted_mean(tagged …)` (or `earned`, `possible`,
`lost`) sums w·score and w over its items, N/A left out. Summed selection by
selection, each item is gathered and added once per selection it belongs to, in
separate passes for the numerator and the denominator, and the gathered arrays are
kept for the next selection. Here each item, right after it is scored, adds
w·score + i·w (0 where N/A; no i·w for a bonus item) to the accumulator of every
selection it is in: one gather per item and weight, one complex add per selection,
nothing kept. The real and imaginary parts of a complex sum are two independent
float sums, so the numerator and denominator are exactly the two float sums they
were; a selection is summed this way only if its items are scored in its own order,
so the additions happen in the per-visit code's order too and no result changes by
a bit. Any other selection is summed as before (`BatchCompiler._accumulate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import pairwise

import numpy as np

from ..model import ItemModel, SectionModel, SelectedItem, StandardModel, expressions

Selection = tuple[SelectedItem, ...]

#: Functions whose argument is an item selection summed as Σ w·score and Σ w.
WEIGHTED = ("weighted_mean", "earned", "possible", "lost")


def section_selection(items: Mapping[str, ItemModel], section: SectionModel) -> Selection:
    """A section's scored items, as its mean sums them."""
    return tuple(
        SelectedItem(i, items[i].weight, items[i].bonus) for i in section.items if items[i].scored
    )


def item_selections(model: StandardModel) -> list[Selection]:
    """Every item selection that is summed with weights: each section's scored items,
    and the selections of the weighted functions anywhere in the standard."""
    items = {it.name: it for it in model.items}
    out = [section_selection(items, s) for s in model.sections]
    for b in expressions(model):
        for node in b.walk():
            if node.op == "call" and node.data[0] in WEIGHTED and node.data[1][0] == "items":
                out.append(node.data[1][1])
    return out


class SumPlan:
    """Which accumulators each item adds to, and with which weight."""

    def __init__(self, model: StandardModel, selections: Iterable[Selection]) -> None:
        position = {name: i for i, (kind, name) in enumerate(model.order) if kind == "item"}
        self.index: dict[Selection, int] = {}
        adds: dict[str, dict[tuple[float, bool], list[int]]] = {}
        for sel in selections:
            if not sel or sel in self.index:
                continue
            order = [position[x.name] for x in sel]
            if any(a >= b for a, b in pairwise(order)):
                continue  # scored in another order than it is summed: summed as before
            g = self.index[sel] = len(self.index)
            for x in sel:
                adds.setdefault(x.name, {}).setdefault((float(x.weight), x.bonus), []).append(g)
        #: item -> ((weight, bonus, accumulators), …)
        self.adds: dict[str, tuple[tuple[float, bool, tuple[int, ...]], ...]] = {
            name: tuple((w, bonus, tuple(gs)) for (w, bonus), gs in by_weight.items())
            for name, by_weight in adds.items()
        }

    def accumulators(self, m: int) -> np.ndarray | None:
        """Zeroed accumulators for a chunk of m rows (one row per selection)."""
        return np.zeros((len(self.index), m), dtype=complex) if self.index else None


def weighted_table(table: np.ndarray, w: float, bonus: bool) -> np.ndarray:
    """w·score + i·w per distinct answer of a coded item (0 for N/A; no i·w for a bonus)."""
    valid = ~np.isnan(table)
    out = np.zeros(len(table), dtype=complex)
    out.real[valid] = table[valid] * w
    if not bonus:
        out.imag[valid] = w
    return out


def weighted_rows(s: np.ndarray, w: float, bonus: bool) -> np.ndarray:
    """w·score + i·w per row of an item's scores (0 where N/A; no i·w for a bonus)."""
    valid = ~np.isnan(s)
    out = np.empty(len(s), dtype=complex)
    # Plain `where`s: a masked multiply and a boolean assignment take numpy's slow
    # paths. The products are the same, and N/A rows are +0.0 as before.
    out.real = np.where(valid, s * w, 0.0)
    out.imag = 0.0 if bonus else np.where(valid, w, 0.0)
    return out
