"""A small hand-made `Report` with every chart kind, for the renderers' tests.

The reports of real sample waves come from `content.build`; this one exists so a
renderer can be tested on each chart kind and on awkward values (N/A, a key that needs
escaping, a card) without scoring anything."""

from __future__ import annotations

from sbm_engine.analytics.reporting.model import Card, Chart, Column, Report, Table, Topic

POINTS = ("MSK-01", "MSK-02", "SPB <1>")
ITEMS = ("Поприветствовал", "Выявил потребность", "Предложил продукт")


def _coefficients() -> Topic:
    rows = (
        {"title": "Посещение в целом", "mean": 0.734, "target": 0.85, "gap": -0.116, "n": 294},
        {"title": "Соблюдение стандартов", "mean": 0.792, "target": 0.9, "gap": -0.108, "n": 294},
        {"title": "Субъективная оценка", "mean": 0.801, "target": None, "gap": None, "n": 265},
    )
    cols = (
        Column("title", "Коэффициент"),
        Column("mean", "Среднее", "score"),
        Column("target", "Цель", "score"),
        Column("gap", "Отклонение", "change"),
        Column("n", "Визитов", "count"),
    )
    return Topic(
        "coefficients",
        "Коэффициенты сети и цели",
        "Средние по визитам; риска — цель.",
        Table(cols, rows),
        Chart("bars", x="mean", y="title", target="target", domain=(0.0, 1.0)),
    )


def _trend() -> Topic:
    rows = tuple(
        {"wave": w, "title": c, "mean": m, "n": 290}
        for w, c, m in (
            ("2026-02", "Посещение в целом", 0.70),
            ("2026-03", "Посещение в целом", 0.734),
            ("2026-02", "Соблюдение стандартов", 0.77),
            ("2026-03", "Соблюдение стандартов", 0.792),
        )
    )
    cols = (
        Column("wave", "Волна"),
        Column("title", "Коэффициент"),
        Column("mean", "Среднее", "score"),
        Column("n", "Визитов", "count"),
    )
    return Topic(
        "trend",
        "Динамика по волнам",
        "",
        Table(cols, rows),
        Chart("line", x="wave", y="mean", color="title"),
    )


def _heatmap() -> Topic:
    rows = []
    for i, p in enumerate(POINTS):
        for j, it in enumerate(ITEMS):
            n = 2 if (i, j) == (2, 2) else 10 + i
            rows.append({"point": p, "item": it, "rate": 0.5 + 0.1 * i + 0.05 * j, "n": n})
    rows[1]["rate"] = None  # an item N/A at every visit of a point
    rows[1]["n"] = 0
    cols = (
        Column("point", "Точка", card="point"),
        Column("item", "Вопрос"),
        Column("rate", "Выполнение", "share"),
        Column("n", "Визитов", "count"),
    )
    return Topic(
        "heatmap",
        "Выполнение вопросов по точкам",
        "Серым — меньше 5 визитов.",
        Table(cols, tuple(rows)),
        Chart("heatmap", x="point", y="item", value="rate", n="n", min_n=5),
        pivot=("item", "point", "rate"),
    )


def _funnel() -> Topic:
    rows = (
        {"point": "MSK-01", "n": 10, "mean": 0.70, "status": "within"},
        {"point": "MSK-02", "n": 40, "mean": 0.95, "status": "above"},
        {"point": "SPB <1>", "n": 25, "mean": 0.55, "status": "below"},
    )
    lines = Table(
        (
            Column("n", "n", "count"),
            Column("center", "Сеть", "score"),
            Column("low95", "95 % низ", "score"),
            Column("high95", "95 % верх", "score"),
            Column("low998", "99,8 % низ", "score"),
            Column("high998", "99,8 % верх", "score"),
        ),
        tuple(
            {
                "n": n,
                "center": 0.75,
                "low95": 0.75 - 0.3 / n**0.5,
                "high95": 0.75 + 0.3 / n**0.5,
                "low998": 0.75 - 0.46 / n**0.5,
                "high998": 0.75 + 0.46 / n**0.5,
            }
            for n in (5, 10, 20, 40)
        ),
    )
    cols = (
        Column("point", "Точка", card="point"),
        Column("n", "Визитов", "count"),
        Column("mean", "Посещение в целом", "score"),
        Column("status", "Положение"),
    )
    return Topic(
        "funnel",
        "Точки на воронке",
        "",
        Table(cols, rows),
        Chart("funnel", x="n", y="mean", label="point", color="status", lines=lines),
    )


def _bands() -> Topic:
    rows = (
        {"band": "отлично", "visits": 40, "share": 40 / 294},
        {"band": "хорошо", "visits": 120, "share": 120 / 294},
        {"band": "удовлетворительно", "visits": 100, "share": 100 / 294},
        {"band": "плохо", "visits": 34, "share": 34 / 294},
    )
    cols = (
        Column("band", "Уровень"),
        Column("visits", "Визитов", "count"),
        Column("share", "Доля", "share"),
    )
    return Topic(
        "bands", "Визиты по уровням", "", Table(cols, rows), Chart("columns", x="band", y="visits")
    )


def _drivers() -> Topic:
    rows = (
        {
            "title": "Поприветствовал",
            "importance": 0.21,
            "performance": 0.89,
            "quadrant": "keep up",
        },
        {
            "title": "Предложил продукт",
            "importance": 0.19,
            "performance": 0.70,
            "quadrant": "concentrate",
        },
        {
            "title": "Чистота",
            "importance": 0.02,
            "performance": 0.95,
            "quadrant": "possible overkill",
        },
    )
    cols = (
        Column("title", "Вопрос"),
        Column("importance", "Важность", "share"),
        Column("performance", "Выполнение", "share"),
        Column("quadrant", "Квадрант"),
    )
    return Topic(
        "drivers",
        "Что движет оценкой клиента",
        "",
        Table(cols, rows),
        Chart(
            "scatter",
            x="importance",
            y="performance",
            label="title",
            color="quadrant",
            x_ref=0.1,
            y_ref=0.8,
        ),
    )


def _changes() -> Topic:
    rows = (
        {
            "title": "Посещение в целом",
            "change": 0.045,
            "ci_low": 0.021,
            "ci_high": 0.069,
            "p": 0.00002,
            "significant": True,
        },
        {
            "title": "Соблюдение стандартов",
            "change": -0.01,
            "ci_low": -0.04,
            "ci_high": 0.02,
            "p": 0.43,
            "significant": False,
        },
    )
    cols = (
        Column("title", "Показатель"),
        Column("change", "Изменение", "change"),
        Column("ci_low", "95 % от", "change"),
        Column("ci_high", "95 % до", "change"),
        Column("p", "p", "p"),
        Column("significant", "Значимо", "flag"),
    )
    return Topic(
        "changes",
        "Изменения между волнами",
        "",
        Table(cols, rows),
        Chart("interval", y="title", x="change", low="ci_low", high="ci_high", color="significant"),
    )


def _plan() -> Topic:
    rows = (
        {"point": "MSK-01", "cost": 132000.0, "current": 0.73, "expected": 0.86, "reaches": True},
        {"point": "SPB <1>", "cost": 450000.0, "current": 0.61, "expected": 0.80, "reaches": False},
    )
    cols = (
        Column("point", "Точка", card="point"),
        Column("cost", "Затраты, ₽", "money"),
        Column("current", "Сейчас", "score"),
        Column("expected", "Ожидается", "score"),
        Column("reaches", "Достигает цели", "flag"),
    )
    return Topic(
        "plan", "План инвестиций", "", Table(cols, rows), Chart("bars", x="cost", y="point")
    )


def _card(level: str, key: str) -> Card:
    coef = _coefficients()
    return Card(
        level,
        key,
        f"Точка {key}" if level == "point" else f"Специалист {key}",
        (
            ("Визитов", 38, "count"),
            ("Посещение в целом", 0.734, "score"),
            ("Место", "3 из 12", "text"),
        ),
        (coef, Topic("weakest", "Слабые вопросы", "", _bands().table)),
    )


def sample_report() -> Report:
    """Every chart kind once, three points' cards and one specialist's."""
    return Report(
        lang="ru",
        title="Обслуживание в отделении — отчёт",
        facts=(("Стандарт", "bank.branch 2026.1", "text"), ("Визитов", 294, "count")),
        topics=(
            _coefficients(),
            _trend(),
            _heatmap(),
            _funnel(),
            _bands(),
            _drivers(),
            _changes(),
            _plan(),
        ),
        cards=(*tuple(_card("point", p) for p in POINTS), _card("specialist", "MSK-01-S1")),
        ui={
            "contents": "Содержание",
            "table": "Таблица",
            "chart": "График",
            "cards": "Карточки",
            "points": "Точки",
            "specialists": "Специалисты",
            "back": "К отчёту",
            "print": "Печать",
            "yes": "да",
            "no": "нет",
            "na": "—",
            "too_few": "меньше 5 визитов",
            "generated": "Построено 7 декабря 2026 г., SBM engine 0.1.0",
            "visits": "визитов",
            "card_of_point": "Карточка точки",
            "card_of_specialist": "Карточка специалиста",
        },
        currency="RUB",
    )
