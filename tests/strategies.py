"""Hypothesis strategies: random but valid `.sbm` standards, and visits to score with them.

Why: the two backends (per-visit Python, batch numpy) and the reference
interpreter must agree on *every* standard, not only on the conformance case.
These strategies write standards the checker accepts, using every construct
whose semantics can differ between implementations (scales with aliases and
numeric labels, number ranges, `score =` formulas, `when` conditions on visit
fields and on other items, sections with weights including 0, tags, `critical`
and `critical if`, `bonus`, `unscored`, `repeat` blocks, `required`/`optional`,
coefficients over selections and weighted terms, `if`/`critical_failed`,
`clamp`/`min`/`max`/`coalesce`, bands, targets, rollup terms, multi-select items with
`selected`, `selected_count` and `points`), and visits that mix valid answers with
every kind of bad one (N/A tokens, nulls, missing keys, unknown labels, out-of-range
and non-numeric numbers, odd types, unknown answer keys, missing or duplicate visit
ids; in a multi-select's answer a label off the scale or chosen twice).

Usage::

    from strategies import standards, visits

    @given(data=st.data())
    def test_something(data):
        spec = data.draw(standards())
        std = sbm_engine.loads(spec.text)
        records = data.draw(visits(spec))

Self-contained: only hypothesis and the standard library. Names never collide
with keywords or with each other (items `i0…`, sections `s0…`, coefficients
`c0…`, tags `t0…`, band labels `top`, `mid`, `bottom`), so every drawn text
checks without errors (it may carry warnings, e.g. W0701 for a formula that can
leave [0, 1], which then rejects the visits where it does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

#: Scale labels written as identifiers (never keywords, reserved words or declared names).
WORDS = ("yes", "no", "good", "bad", "maybe", "high", "low", "full", "part")
#: Aliases, written as strings; some in Cyrillic, some differing only by case.
ALIASES = ("да", "нет", "Y", "N", "ok", "плохо", "+", "-", "так себе", "Good job")
#: Scores a scale may give (exactly representable and not).
SCORES = (0.0, 0.25, 0.5, 0.75, 1.0, 0.1, 0.3, 0.7, 0.2)
#: Points a points or penalty scale may give (whole and decimal: sums must stay exact).
POINTS = (0.0, 1.0, 2.0, 2.5, 5.0, 7.0, 28.0, 0.1, 0.2, 0.3)
NA_TOKENS = ("na", "N/A", " н/п ", "NA", None)
SCENARIOS = ("a", "b")
CHANNELS = ("web", "phone")
BANDS = ("top", "mid", "bottom")


@dataclass
class ScaleSpec:
    """A scale: entries are (label as written in the file, score, aliases, number or None)."""

    name: str | None  # None for an inline scale
    entries: list[tuple[str, float, tuple[str, ...], float | None]]
    #: "score", or "points" / "penalty" (then the numbers are points, not scores)
    kind: str = "score"

    @property
    def numeric(self) -> bool:
        return all(num is not None for *_, num in self.entries)

    def text(self) -> str:
        parts = []
        for label, score, aliases, _ in self.entries:
            alias = (" alias " + " ".join(_quote(a) for a in aliases)) if aliases else ""
            parts.append(f"{label} = {_num(score)}{alias}")
        body = "{ " + ", ".join(parts) + " }"
        return body if self.kind == "score" else f"{self.kind} {body}"

    def label_value(self, k: int) -> str:
        """The label as a comparison literal in a formula."""
        label, *_ = self.entries[k]
        return label


@dataclass
class ItemSpec:
    name: str
    kind: str  # "scale", "number", "text", "multi" (`answer any of SCALE`)
    scale: ScaleSpec | None = None
    low: float | None = None
    high: float | None = None
    formula: str | None = None
    section: str | None = None
    options: list[str] = field(default_factory=list)
    computed: str | None = None  # `value = EXPR`: never answered by a visit
    unscored: bool = False  # `unscored`: answered and checked, never scored

    @property
    def scored(self) -> bool:
        if self.unscored:
            return False
        if self.kind in ("scale", "multi"):
            return True
        if self.kind == "number":
            return self.formula is not None or self.low is not None
        return False

    def text(self) -> str:
        if self.kind in ("scale", "multi"):
            assert self.scale is not None
            answer = self.scale.name or self.scale.text()
            if self.kind == "multi":  # an inline scale's numbers are then points
                answer = "any of " + answer
        elif self.kind == "number":
            rng = f" {_num(self.low)}..{_num(self.high)}" if self.low is not None else ""
            answer = "number" + rng
        else:
            answer = "text"
        opts = " ".join(self.options)
        value = f" value = {self.computed}" if self.computed else ""
        score = f" score = {self.formula}" if self.formula else ""
        return f'item {self.name} "Вопрос {self.name}" answer {answer} {opts}{value}{score}'


@dataclass
class StandardSpec:
    """A drawn standard: its text and what visits need to know to answer it."""

    text: str
    items: list[ItemSpec]
    channel: bool  # a declared `field channel … one of { web, phone }`
    #: typed fields declared: `day date`, `arrived`/`left` datetime, `wait` duration
    typed: bool = False
    history: bool = False  # reads previous visits: visits get dates


def _num(x: float | None) -> str:
    assert x is not None
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- scales -------------------------------------------------------------------------------------


@st.composite
def scales(draw: st.DrawFn, name: str | None) -> ScaleSpec:
    kind = draw(st.sampled_from(["words", "numbers", "strings", "mixed"]))
    size = draw(st.integers(1, 4))
    used: set[str] = set()
    entries: list[tuple[str, float, tuple[str, ...], float | None]] = []
    if kind == "numbers":
        nums = draw(
            st.lists(
                st.sampled_from([0, 1, 2, 3, 4, 5, 10, 0.5, 1.5]),
                min_size=size,
                max_size=size,
                unique=True,
            )
        )
        labels = [(_num(n), float(n)) for n in nums]
    elif kind == "strings":
        words = draw(
            st.lists(
                st.sampled_from(["очень хорошо", "Так себе", "never", "1 раз"]),
                min_size=size,
                max_size=size,
                unique=True,
            )
        )
        labels = [(_quote(w), None) for w in words]
    else:
        words = draw(st.lists(st.sampled_from(WORDS), min_size=size, max_size=size, unique=True))
        labels = [(w, None) for w in words]
        if kind == "mixed":
            labels.append(("7", 7.0))
    for label, _ in labels:
        used.add(label.strip('"').casefold())
    for label, num in labels:
        score = draw(st.sampled_from(SCORES))
        aliases: list[str] = []
        for alias in draw(st.lists(st.sampled_from(ALIASES), max_size=2, unique=True)):
            if alias.strip().casefold() not in used:
                used.add(alias.strip().casefold())
                aliases.append(alias)
        entries.append((label, score, tuple(aliases), num if kind == "numbers" else None))
    if kind == "mixed":
        entries = [(lbl, s, a, None) for lbl, s, a, _ in entries]
    if name is not None and draw(st.integers(0, 2)) == 0:
        # points and penalty scales (named only: an inline scale has no kind)
        points = draw(
            st.lists(st.sampled_from(POINTS), min_size=len(entries), max_size=len(entries))
        )
        if max(points) == 0:
            points[0] = 5.0
        entries = [(lbl, p, a, num) for (lbl, _s, a, num), p in zip(entries, points, strict=True)]
        return ScaleSpec(name, entries, draw(st.sampled_from(["points", "penalty"])))
    return ScaleSpec(name, entries)


# -- expressions --------------------------------------------------------------------------------


@dataclass
class Ctx:
    """What an expression may refer to without creating a cycle."""

    items: list[ItemSpec]  # items it may read (earlier ones)
    sections: list[str] = field(default_factory=list)
    coefs: list[str] = field(default_factory=list)
    banded: dict[str, tuple[str, ...]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    value: ItemSpec | None = None  # inside this item's `score =`
    coefficient: bool = False  # whole-visit context: selections and critical_failed allowed
    channel: bool = False
    typed: bool = False
    #: history allowed: `previous(…)` of items, sections and coefficients, `repeated(…)`,
    #: `has_previous()` (`standards(history=True)`)
    history: bool = False
    #: every coefficient of the standard, earlier or later: `previous(c)` may read any
    all_coefs: list[str] = field(default_factory=list)


#: Formulas over the typed fields (`StandardSpec.typed`): numbers, and conditions.
TYPED_NUMBERS = (
    "visit.wait",
    "minutes_between(visit.arrived, visit.left)",
    "(visit.left - visit.arrived)",
    "(visit.day - visit.day)",
    "weekday(visit.day)",
    "weekday(visit.left)",
    "hour(visit.arrived)",
    "month(visit.day)",
    "year(visit.arrived)",
    'days_between(visit.day, "2026-03-10")',
)
TYPED_CONDITIONS = (
    "visit.left > visit.arrived",
    "visit.left == visit.arrived",
    'visit.day >= "2026-03-02"',
    'visit.day != "2026-03-01"',
    'visit.arrived < "2026-03-02T10:00:00"',
    'visit.arrived <= "2026-03-02T10:00:00+03:00"',
)
#: Values of the typed fields in records: readable, N/A, malformed, with and without offsets.
TYPED_VALUES = {
    "day": (
        "2026-03-02",
        "2026-03-01",
        " 2026-03-08",
        "2026-03-04T00:00:00",
        "na",
        "",
        "2026-13-01",
        "03.03.2026",
    ),
    "arrived": (
        "2026-03-02T09:15:00",
        "2026-03-02T09:15:00.5",
        "2026-03-02T06:15:00Z",
        "2026-03-02T10:00:00+03:00",
        "n/a",
        "2026-03-02",
        "later",
    ),
    "left": (
        "2026-03-02T09:40:00",
        "2026-03-02T09:15:00",
        "2026-03-02T07:00:00+00:00",
        "2026-03-01T23:59:59.999999",
        "",
        "2026-03-02 09:40",
    ),
    "wait": ("12", "4,5", "PT1H30M", "0:45", "1:02:30", "na", "soon", -3),
}


CONSTS = ("0", "1", "0.5", "2", "0.25", "3", "10")
#: Named constants every generated standard declares (`const k0 = 0.1`, …).
NAMED = {"k0": "0.1", "k1": "0.2", "k2": "7"}


def _scored(ctx: Ctx) -> list[str]:
    return [it.name for it in ctx.items if it.scored]


@st.composite
def num_exprs(draw: st.DrawFn, ctx: Ctx, depth: int = 2) -> str:
    leaves: list[str] = [*CONSTS, *NAMED]
    leaves += _scored(ctx) * 2
    leaves += [f"points({it.name})" for it in ctx.items if _has_points(it)]
    leaves += [f"answer({it.name})" for it in ctx.items if _numeric_answer(it)]
    leaves += [f"selected_count({it.name})" for it in ctx.items if it.kind == "multi"]
    if ctx.value is not None and (_numeric_answer(ctx.value) or ctx.value.kind == "multi"):
        leaves += ["value"] * 3
    if ctx.typed:
        leaves += TYPED_NUMBERS
    if ctx.coefficient:
        leaves += ctx.sections + ctx.coefs * 2
    if ctx.history:
        leaves += [f"previous({name})" for name in _scored(ctx)]
        leaves += [f"previous({name})" for name in [*ctx.sections, *ctx.all_coefs]]
        if ctx.coefficient:
            leaves += ["repeated(items)", *(f"repeated(tagged {t})" for t in ctx.tags)]
    if depth <= 0:
        return draw(st.sampled_from(leaves))
    choices = ["leaf", "leaf", "arith", "if", "clamp", "minmax", "coalesce", "neg"]
    if ctx.coefficient:
        choices += ["selection", "selection", "terms"]
    choice = draw(st.sampled_from(choices))
    sub = num_exprs(ctx, depth - 1)
    if choice == "leaf":
        return draw(st.sampled_from(leaves))
    if choice == "arith":
        op = draw(st.sampled_from(["+", "-", "*", "/"]))
        return f"({draw(sub)} {op} {draw(sub)})"
    if choice == "if":
        return f"(if {draw(conditions(ctx, depth - 1))} then {draw(sub)} else {draw(sub)})"
    if choice == "clamp":
        return f"clamp({draw(sub)}, 0, 1)"
    if choice == "minmax":
        fn = draw(st.sampled_from(["min", "max", "mean", "sum"]))
        args = draw(st.lists(sub, min_size=1, max_size=3))
        return f"{fn}({', '.join(args)})"
    if choice == "coalesce":
        return f"coalesce({draw(sub)}, {draw(sub)})"
    if choice == "neg":
        return f"(-{draw(sub)})"
    if choice == "terms":
        args = draw(
            st.lists(
                st.tuples(sub, st.sampled_from(["0.4", "0.3", "1", "2"])), min_size=1, max_size=3
            )
        )
        return "weighted_mean(" + ", ".join(f"{e}: {w}" for e, w in args) + ")"
    fn = draw(
        st.sampled_from(
            ["weighted_mean", "earned", "possible", "lost", "count", "mean", "min", "max", "sum"]
        )
    )
    sels = ["items"] + [f"tagged {t}" for t in ctx.tags] + [f"in {s}" for s in ctx.sections]
    if fn in ("weighted_mean", "count", "mean", "min", "max", "sum"):
        sels.append("sections")
    sel = draw(st.sampled_from(sels))
    if sel != "sections" and draw(st.booleans()):
        extra = draw(st.sampled_from([s for s in sels if s != "sections"]))
        return f"{fn}({sel}, {extra})"
    return f"{fn}({sel})"


def _has_points(it: ItemSpec) -> bool:
    return it.kind == "multi" or (
        it.kind == "scale" and it.scale is not None and it.scale.kind != "score"
    )


def _numeric_answer(it: ItemSpec) -> bool:
    return it.kind == "number" or (it.kind == "scale" and it.scale is not None and it.scale.numeric)


def _label_answer(it: ItemSpec) -> bool:
    return it.kind == "scale" and it.scale is not None and not it.scale.numeric


@st.composite
def conditions(draw: st.DrawFn, ctx: Ctx, depth: int = 1) -> str:
    choices = ["cmp", "cmp", "scenario", "is_na"]
    if _scored(ctx):
        choices.append("failed")
    if any(_label_answer(it) for it in ctx.items) or (ctx.value and _label_answer(ctx.value)):
        choices += ["label", "label"]
    if ctx.channel:
        choices.append("channel")
    if ctx.typed:
        choices.append("typed")
    if any(it.kind == "multi" for it in ctx.items):
        choices += ["selected", "selected"]
    if ctx.history:
        choices += ["has_previous", "has_previous"]
    if ctx.coefficient:
        choices.append("critical")
        if ctx.banded:
            choices.append("band")
    if depth > 0:
        choices += ["not", "andor"]
    choice = draw(st.sampled_from(choices))
    sub_num = num_exprs(ctx, max(depth - 1, 0))
    if choice == "cmp":
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
        return f"{draw(sub_num)} {op} {draw(st.sampled_from(CONSTS))}"
    if choice == "scenario":
        op = draw(st.sampled_from(["==", "!="]))
        return f'visit.scenario {op} "{draw(st.sampled_from(SCENARIOS))}"'
    if choice == "channel":
        return f"visit.channel == {draw(st.sampled_from(CHANNELS))}"
    if choice == "typed":
        return draw(st.sampled_from(TYPED_CONDITIONS))
    if choice == "is_na":
        return f"is_na({draw(sub_num)})"
    if choice == "has_previous":
        return draw(st.sampled_from(["has_previous()", "not has_previous()"]))
    if choice == "failed":
        return f"failed({draw(st.sampled_from(_scored(ctx)))})"
    if choice == "label":
        options = [it for it in ctx.items if _label_answer(it)]
        if ctx.value is not None and _label_answer(ctx.value):
            options.append(ctx.value)
        it = draw(st.sampled_from(options))
        assert it.scale is not None
        label = it.scale.label_value(draw(st.integers(0, len(it.scale.entries) - 1)))
        subject = "value" if it is ctx.value else f"answer({it.name})"
        return f"{subject} {draw(st.sampled_from(['==', '!=']))} {label}"
    if choice == "selected":
        it = draw(st.sampled_from([it for it in ctx.items if it.kind == "multi"]))
        assert it.scale is not None
        label, _score, aliases, _ = draw(st.sampled_from(it.scale.entries))
        written = draw(st.sampled_from([label, *(_quote(a) for a in aliases)]))
        return f"selected({it.name}, {written})"
    if choice == "critical":
        if ctx.tags and draw(st.booleans()):
            return f"critical_failed(tagged {draw(st.sampled_from(ctx.tags))})"
        return "critical_failed"
    if choice == "band":
        coef = draw(st.sampled_from(sorted(ctx.banded)))
        return f"band({coef}) == {draw(st.sampled_from(ctx.banded[coef]))}"
    if choice == "not":
        return f"not ({draw(conditions(ctx, depth - 1))})"
    op = draw(st.sampled_from(["and", "or"]))
    return f"({draw(conditions(ctx, depth - 1))}) {op} ({draw(conditions(ctx, depth - 1))})"


@st.composite
def formulas(draw: st.DrawFn, it: ItemSpec, ctx: Ctx) -> str:
    """A `score =` formula, mostly inside [0, 1] (sometimes not: such visits are rejected)."""
    kind = draw(st.integers(0, 9))
    if it.kind == "number" and it.low is not None and kind < 4:
        lo, hi = it.low, it.high
        assert hi is not None
        cut = draw(st.sampled_from([lo, (lo + hi) / 2, hi, lo + (hi - lo) / 3]))
        return f"if value <= {_num(cut)} then 1 else if value <= {_num(hi)} then 0.5 else 0"
    if it.kind == "number" and it.low is not None and kind < 6:
        return f"clamp((value - {_num(it.low)}) / {_num(it.high - it.low)}, 0, 1)"  # type: ignore[operator]
    if it.kind == "multi" and kind < 5:
        assert it.scale is not None
        label = it.scale.label_value(draw(st.integers(0, len(it.scale.entries) - 1)))
        return f"if selected({it.name}, {label}) then 1 else clamp(value, 0, 1)"
    if it.kind == "scale" and _label_answer(it) and kind < 5:
        assert it.scale is not None
        label = it.scale.label_value(draw(st.integers(0, len(it.scale.entries) - 1)))
        return f"if value == {label} then 1 else {draw(st.sampled_from(['0', '0.5']))}"
    inner = draw(num_exprs(ctx, 2))
    if kind < 9:
        return f"clamp({inner}, 0, 1)"
    return inner


# -- standards ------------------------------------------------------------------------------


@st.composite
def standards(draw: st.DrawFn, max_items: int = 8, history: bool = False) -> StandardSpec:
    """A random valid standard (see the module docstring); with `history`, its
    coefficients read the point's previous visit too (`previous`, `has_previous`,
    `repeated`, a coefficient that reads its own previous value and a label's)."""
    lines = ['standard gen.test "Случайный стандарт" {', '    version "1"']
    lines += [f"    const {k} = {v}" for k, v in NAMED.items()]
    n_scales = draw(st.integers(0, 2))
    named = [draw(scales(f"sc{i}")) for i in range(n_scales)]
    for sc in named:
        lines.append(f"    scale {sc.name} {sc.text()}")
    channel = draw(st.booleans())
    if channel:
        lines.append('    field channel "Канал" one of { web, phone }')
    typed = draw(st.booleans())
    if typed:
        required = " required" if draw(st.booleans()) else ""
        lines.append(f"    field day date{required}")
        lines.append('    field arrived "Пришёл" datetime')
        lines.append("    field left datetime")
        lines.append("    field wait duration")
    sections = [f"s{i}" for i in range(draw(st.integers(0, 3)))]
    tags_pool = ["t0", "t1", "t2"]
    items: list[ItemSpec] = []
    used_tags: set[str] = set()
    for i in range(draw(st.integers(1, max_items))):
        name = f"i{i}"
        kind = draw(
            st.sampled_from(["scale", "scale", "scale", "number", "number", "text", "multi"])
        )
        it = ItemSpec(name, kind)
        if kind == "multi":
            # a named scale whose options give something, or inline options (points)
            usable = [sc for sc in named if any(score > 0 for _, score, *_ in sc.entries)]
            if usable and draw(st.booleans()):
                it.scale = draw(st.sampled_from(usable))
            else:
                inline = draw(scales(None))
                points = draw(
                    st.lists(
                        st.sampled_from(POINTS),
                        min_size=len(inline.entries),
                        max_size=len(inline.entries),
                    )
                )
                if max(points) == 0:
                    points[0] = 2.5
                inline.entries = [
                    (lbl, p, a, num)
                    for (lbl, _s, a, num), p in zip(inline.entries, points, strict=True)
                ]
                it.scale = inline
        elif kind == "scale":
            if named and draw(st.booleans()):
                it.scale = draw(st.sampled_from(named))
            else:
                it.scale = draw(scales(None))
        elif kind == "number" and draw(st.integers(0, 4)) > 0:
            it.low = float(draw(st.sampled_from([0, 1, -5, 0.5])))
            it.high = it.low + float(draw(st.sampled_from([1, 4, 10, 240, 2.5])))
        it.section = draw(st.sampled_from([None, *sections])) if sections else None
        ctx = Ctx(items=list(items), value=it, channel=channel, typed=typed)
        if kind == "number" and (it.low is None or draw(st.integers(0, 2)) == 0):
            if it.low is not None or draw(st.booleans()):
                it.formula = draw(formulas(it, ctx))
        elif kind == "scale" and not _has_points(it) and draw(st.integers(0, 5)) == 0:
            it.formula = draw(formulas(it, ctx))
        elif (
            kind == "multi"
            and it.scale is not None
            and it.scale.name is not None
            and it.scale.kind == "score"
            and draw(st.integers(0, 3)) == 0
        ):  # a formula on a multi-select of scores (`value` is the points P)
            it.formula = draw(formulas(it, ctx))
        numbers = [x for x in items if _numeric_answer(x)]
        if kind == "number" and it.low is not None and numbers and draw(st.integers(0, 3)) == 0:
            # a computed item: from earlier numeric answers (values beyond the range reject)
            a, b = draw(st.sampled_from(numbers)), draw(st.sampled_from(numbers))
            op = draw(st.sampled_from(["+", "-", "*"]))
            it.computed = f"answer({a.name}) {op} answer({b.name})"
        opts = []
        if it.scored and it.formula is None and draw(st.integers(0, 5)) == 0:
            it.unscored = True
            opts.append("unscored")
        if it.scored and draw(st.booleans()):
            opts.append(f"weight {draw(st.sampled_from(['1', '2', '3', '0.5']))}")
        tags = draw(st.lists(st.sampled_from(tags_pool), max_size=2, unique=True))
        if tags and it.scored:
            used_tags.update(tags)
            opts.append("tags " + " ".join(tags))
        presence = draw(st.sampled_from(["", "", "required", "optional", "optional"]))
        if presence and it.computed is None:  # a computed item is neither
            opts.append(presence)
        if it.scored and draw(st.integers(0, 4)) == 0:
            if draw(st.booleans()):
                opts.append("critical")
            else:  # critical on the visits where a condition holds
                cond = draw(conditions(Ctx(items=list(items), channel=channel), 1))
                opts.append("critical if " + cond)
        if it.scored and draw(st.integers(0, 7)) == 0:
            opts.append("bonus")
        if draw(st.integers(0, 3)) == 0:
            opts.append(
                "when " + draw(conditions(Ctx(items=list(items), channel=channel, typed=typed), 1))
            )
        it.options = opts
        items.append(it)
    by_section: dict[str | None, list[ItemSpec]] = {}
    for it in items:
        by_section.setdefault(it.section, []).append(it)
    for s in sections:
        opts = ""
        if draw(st.booleans()):
            opts += f" weight {draw(st.sampled_from(['0', '1', '2', '0.5']))}"
        if draw(st.integers(0, 3)) == 0:
            opts += f' when visit.scenario == "{draw(st.sampled_from(SCENARIOS))}"'
        lines.append(f'    section {s} "Этап {s}"{opts} {{')
        for it in by_section.get(s, []):
            lines.append("        " + it.text())
        lines.append("    }")
    for it in by_section.get(None, []):
        lines.append("    " + it.text())
    if draw(st.integers(0, 3)) == 0:
        # a block repeated per key: items `rq_KEY` and `rw_KEY`, `rw` reading its own copy
        keys = draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=3, unique=True))
        scale = draw(scales(None))
        lines.append("    repeat rp in { " + ", ".join(f'{k} "Копия {k}"' for k in keys) + " } {")
        lines.append(f'        item rq "Вопрос {{rp}}" answer {scale.text()}')
        lines.append('        item rw "Оценка {rp}" answer number 0..10 optional when rq > 0')
        lines.append("    }")
        for k in keys:
            items.append(ItemSpec(f"rq_{k}", "scale", scale=scale))
            items.append(ItemSpec(f"rw_{k}", "number", low=0.0, high=10.0, options=["optional"]))
    coefs: list[str] = []
    banded: dict[str, tuple[str, ...]] = {}
    n_coefs = draw(st.integers(1, 5))
    for k in range(n_coefs):
        ctx = Ctx(
            items=items,
            sections=sections,
            coefs=list(coefs),
            banded=dict(banded),
            tags=sorted(used_tags),
            coefficient=True,
            channel=channel,
            typed=typed,
            history=history,
            all_coefs=[f"c{j}" for j in range(n_coefs)],
        )
        shape = draw(st.integers(0, 5))
        if shape == 0 and coefs:
            others = draw(st.lists(st.sampled_from(coefs), min_size=1, max_size=3, unique=True))
            expr = (
                "if critical_failed then 0 else weighted_mean("
                + ", ".join(
                    f"{c}: {draw(st.sampled_from(['0.4', '0.3', '0.2', '1']))}" for c in others
                )
                + ")"
            )
        elif shape == 1 and used_tags:
            expr = f"weighted_mean(tagged {draw(st.sampled_from(sorted(used_tags)))})"
        elif shape == 2:
            expr = "weighted_mean(sections)" if sections else "weighted_mean(items)"
        else:
            expr = draw(num_exprs(ctx, 3))
        name = f"c{k}"
        lines.append(f'    coefficient {name} "Коэффициент {k}" = {expr}')
        coefs.append(name)
        if draw(st.booleans()):
            hi = draw(st.sampled_from([0.9, 0.8, 0.75]))
            lo = draw(st.sampled_from([0.5, 0.6, 0.25]))
            when = ""
            if draw(st.integers(0, 2)) == 0:  # a band with a condition
                when = " when " + draw(conditions(ctx, 1))
            if draw(st.booleans()):
                lines.append(f"    bands {name} {{ top >= {hi}{when}, mid >= {lo}, bottom }}")
            else:  # lower is better
                lines.append(f"    bands {name} {{ top <= {lo}{when}, mid <= {hi}, bottom }}")
            banded[name] = BANDS
        if draw(st.booleans()):
            lines.append(f"    target {name} {draw(st.sampled_from(['0.85', '0.5', '1']))}")
    if draw(st.booleans()):  # coefficients that give a label, and one that reads them
        ctx = Ctx(items=items, sections=sections, coefs=list(coefs), coefficient=True)
        cond = draw(conditions(ctx, 1))
        lines.append(f'    coefficient lab0 "Метка" = if {cond} then "да" else "нет"')
        labelled = [it for it in items if _label_answer(it)]
        if labelled:
            lines.append(f"    coefficient lab1 = answer({draw(st.sampled_from(labelled)).name})")
        lines.append('    coefficient from_label = if lab0 == "да" then 1 else 0')
        if history:
            lines.append('    coefficient lab_was = if previous(lab0) == "да" then 1 else 0')
    if history:  # how many earlier visits the point had: each visit reads the one before
        lines.append("    coefficient seq = if has_previous() then previous(seq) + 1 else 0")
        lines.append(
            '    coefficient streak = if not has_previous() then "new" '
            'else if previous(streak) == "new" then "second" else "later"'
        )
    if draw(st.booleans()):
        ctx = Ctx(
            items=items,
            sections=sections,
            coefs=coefs,
            tags=sorted(used_tags),
            coefficient=True,
            channel=channel,
            typed=typed,
        )
        cond = draw(conditions(ctx, 1))
        lines.append(f"    rollup r0 = 100 * share({cond}) + avg({draw(num_exprs(ctx, 1))})")
    lines.append("}")
    return StandardSpec("\n".join(lines) + "\n", items, channel, typed=typed, history=history)


# -- visits ------------------------------------------------------------------------------------


@st.composite
def answers_for(draw: st.DrawFn, it: ItemSpec) -> Any:
    """One raw answer (or `ABSENT`) for an item: mostly valid, sometimes every kind of bad."""
    roll = draw(st.integers(0, 99))
    if roll < 8:
        return draw(st.sampled_from(NA_TOKENS))
    if roll < 12:
        return ABSENT
    if roll < 16:
        return draw(st.sampled_from(["zzz", "", "  ", True, [1], 1e400 * 0, "yes!", -7, 99999]))
    if it.kind == "multi":
        return draw(multi_answers(it))
    if it.kind == "scale":
        assert it.scale is not None
        label, _score, aliases, num = draw(st.sampled_from(it.scale.entries))
        plain = label.strip('"')
        if num is not None:
            return draw(
                st.sampled_from(
                    [num, int(num) if num.is_integer() else num, plain, f" {plain} ", float(num)]
                )
            )
        variants = [plain, plain.upper(), f"  {plain} ", plain.capitalize(), *aliases]
        return draw(st.sampled_from(variants))
    if it.kind == "number":
        if it.low is None:
            return draw(
                st.one_of(
                    st.integers(-100, 100),
                    st.floats(-1e6, 1e6),
                    st.sampled_from(["3", "4,5", " 7.25 ", "abc"]),
                )
            )
        lo, hi = it.low, it.high
        assert hi is not None
        if roll < 22:
            return draw(st.sampled_from([lo - 1, hi + 0.5, f"{hi + 1}", "n", float("inf")]))
        if roll < 30:
            return draw(
                st.sampled_from(
                    [str(_num(lo)), f" {_num(hi)} ", _num((lo + hi) / 2).replace(".", ","), lo, hi]
                )
            )
        value = draw(st.floats(lo, hi, allow_nan=False))
        if draw(st.booleans()) and float(round(value)) >= lo and round(value) <= hi:
            return round(value)
        return value
    return draw(st.sampled_from(["свободный текст", "", 5, "na", "ok"]))


@st.composite
def multi_answers(draw: st.DrawFn, it: ItemSpec) -> Any:
    """A multi-select's answer: a list of labels (aliases, other cases, numbers), the
    same as a text separated by `;`, nothing chosen (`[]`, "[]"); now and then a label
    off the scale or one chosen twice (a reject)."""
    assert it.scale is not None
    spellings = []
    for label, _score, aliases, num in it.scale.entries:
        plain = label.strip('"')
        ways = [plain, plain.upper(), f" {plain} ", *aliases]
        if num is not None:
            ways += [num, int(num) if num.is_integer() else num]
        spellings.append(ways)
    chosen = draw(st.lists(st.integers(0, len(spellings) - 1), unique=True))
    labels = [draw(st.sampled_from(spellings[k])) for k in chosen]
    roll = draw(st.integers(0, 9))
    if roll == 0 and labels:
        labels.append(labels[0])  # the same label twice
    elif roll == 1:
        labels.append("zzz")
    if draw(st.booleans()) and all(isinstance(x, str) and ";" not in x for x in labels):
        return "; ".join(labels) if labels else draw(st.sampled_from(["[]", " [] "]))
    return labels


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


#: Marks an answer left out of the record (a missing key).
ABSENT: Any = _Absent()


#: Dates of visits: some equal (the visit_id then orders them), some absent.
DATES = ("2026-01-05", "2026-02-10", "2026-02-10", "2026-03-01", "2025-12-31", None)


@st.composite
def visit_records(draw: st.DrawFn, spec: StandardSpec, index: int) -> Any:
    roll = draw(st.integers(0, 99))
    if roll == 0:
        return draw(
            st.sampled_from([["not", "a", "record"], {"visit_id": f"v{index}", "answers": [1, 2]}])
        )
    record: dict[str, Any] = {}
    vid_roll = draw(st.integers(0, 49))
    if vid_roll == 0:
        pass  # no visit_id at all
    elif vid_roll == 1:
        record["visit_id"] = draw(st.sampled_from([None, "", "   "]))
    elif vid_roll == 2:
        record["visit_id"] = "v0"  # likely a duplicate
    else:
        record["visit_id"] = f"v{index}"
    point = draw(st.sampled_from(["P1", "P2", "P1", "P2", "", None]))  # "": an empty cell
    if point is not None:
        record["point"] = point
    if spec.history:
        date = draw(st.sampled_from(DATES))
        if date is not None:
            record["date"] = date
    scenario = draw(st.sampled_from([*SCENARIOS, *SCENARIOS, "A", None, " a", 1, "c"]))
    if scenario is not None or draw(st.booleans()):
        record["scenario"] = scenario
    if spec.channel:
        channel = draw(st.sampled_from([*CHANNELS, *CHANNELS, "WEB", " phone", "mail", None]))
        if channel is not None:
            record["channel"] = channel
    if spec.typed:
        for key, values in TYPED_VALUES.items():
            value = draw(st.sampled_from([*values, None]))
            if value is not None:
                record[key] = value
    answers: dict[str, Any] = {}
    for it in spec.items:
        if it.computed is not None and draw(st.integers(0, 19)):
            continue  # worked out by the standard (now and then answered: a reject)
        value = draw(answers_for(it))
        if value is not ABSENT:
            answers[it.name] = value
    if draw(st.integers(0, 29)) == 0:
        answers[draw(st.sampled_from(["zz", "i99", "I0"]))] = "yes"
    if draw(st.integers(0, 29)) or answers:
        record["answers"] = answers
    return record


@st.composite
def visits(draw: st.DrawFn, spec: StandardSpec, max_size: int = 25) -> list[Any]:
    """A batch of visit records (JSON shape) for a drawn standard."""
    n = draw(st.integers(1, max_size))
    return [draw(visit_records(spec, i)) for i in range(n)]
