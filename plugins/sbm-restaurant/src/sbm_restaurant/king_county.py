"""Reader that turns King County (WA) food-safety inspection tables into SBM visit records.

Public Health - Seattle & King County publishes, per establishment, its inspections (type,
date, score, result) and, per inspection, the violations it cited. The realdata copy of those
pages is two CSV tables (see ``docs/king_county_analysis.md`` for every number quoted here):

* ``kc_inspections.csv``: ``file, business, insp_no, type, date, score, result``;
* ``kc_violations.csv``: ``file, business, insp_no, color, desc, points``, joined to the
  inspections on ``(file, business, insp_no)``.

Division of labour, and why the reader ignores the ``points`` and ``color`` columns: the
reader only states *which* violation codes an inspection cited; the standard
``standards/king_county.sbm`` decides what a citation costs (points, red/blue, the point table
in force on the inspection date). Reading the published points here would make the
reproduction of the published score circular and would hide exactly the cases the standard
has to get right (the 2013 change of the point table).

Record shape (the engine's JSONL visit record)::

    {"visit_id": "kc_clair3st_2016-1020",          # <file stem>-<insp_no>, unique and stable
     "point": "STARBUCKS COFFEE #3298",            # business name as published
     "date": "2014-03-14",                         # ISO date
     "scenario": "Routine Inspection/Field Review", # inspection type
     "published_score": 5,                         # int, or None where the page shows "N/A"
     "published_result": "Satisfactory",           # as published
     "answers": {"v0100": "ok", ..., "v2120": "violation", ...}}

``answers`` holds one key per known violation code (``v`` + the four digits, e.g. ``v1600``),
``"ok"`` when the inspection did not cite it and ``"violation"`` when it did. Anything the
standard cannot score is passed on visibly rather than dropped, so that the engine rejects
that one visit with a precise error ("nothing is lost"):

* a code cited more than once in one inspection (never seen in the data: the county form
  lists each code at most once) is answered ``"violation x2"``, which no scale label matches;
* a four-digit code the reader does not know is answered under its own key ``v<code>``,
  which the standard does not declare;
* a description without a code that matches no known code text goes to the key
  ``unrecognised_violation`` with the text as value.

Violation rows that join no inspection (in the realdata: the 664 rows of
``kc_apklock_mashup_2015.html`` with an empty business and ``insp_no`` 0, whose inspection
headers the conversion lost) belong to no visit; they are skipped and counted in
:class:`ReadStats`.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

__all__ = [
    "CODE_TEXTS",
    "KNOWN_CODES",
    "OK",
    "UNRECOGNISED_KEY",
    "VIOLATION",
    "ReadStats",
    "code_of",
    "item_name",
    "read_king_county",
]

#: Answer given to an item whose violation the inspection did not cite.
OK = "ok"
#: Answer given to an item whose violation the inspection cited (once).
VIOLATION = "violation"
#: Answer key for a code-less description that matches no known code.
UNRECOGNISED_KEY = "unrecognised_violation"

INSPECTIONS_COLUMNS = ("file", "business", "insp_no", "type", "date", "score", "result")
VIOLATIONS_COLUMNS = ("file", "business", "insp_no", "color", "desc", "points")

#: Every description the county pages show for each code, longest first. The reader needs
#: them only to identify the code of rows published without one (inspections before 2009
#: list the text alone); points and colour are the standard's business, not the reader's.
CODE_TEXTS: dict[str, tuple[str, ...]] = {
    "0100": ("PIC certified by accredited program or compliance with code, or correct answers",),
    "0200": (
        "Food Worker Cards current for all food workers; new food workers trained",
        "Food Worker Cards current for all food...",
    ),
    "0400": ("Hands washed as required",),
    "0500": (
        "Proper barriers used to prevent bare hand contact with ready to eat foods.",
        "Proper methods used to prevent bare hand...",
    ),
    "0600": ("Adequate handwashing facilities",),
    "0700": ("Food obtained from approved source",),
    "0800": ("Water supply, ice from approved source",),
    "0900": ("Proper washing of fruits and vegetables",),
    "1000": (
        "Food in good condition, safe and unadulterated; approved additives",
        "Food in good condition, safe and unadulterat...",
    ),
    "1100": ("Proper disposition of returned, previously served, unsafe, or contaminated food",),
    "1200": ("Proper shellstock ID; wild mushroom ID; parasite destruction procedures for fish",),
    "1300": (
        "Food contact surfaces and utensils used for raw meat thoroughly cleaned and "
        "sanitized. no ..",
    ),
    "1400": (
        "Raw meats below and away from ready to eat food; species separated",
        "Raw meats below and away from RTE food",
    ),
    "1500": ("Proper handling of pooled eggs",),
    "1600": ("Proper cooling procedure",),
    "1710": (
        "Proper hot holding temperatures (less than 130 degrees F )",
        "Proper hot holding temperatures (less than130 degrees)",
    ),
    "1720": (
        "Proper hot holding temperatures; between 130 degrees F to 134 degrees F",
        "Proper hot holding temperatures; between 130 degrees F...",
    ),
    "1800": (
        "Proper cooking time and temperature; proper use of non-continuous cooking",
        "Proper cooking time and temperature",
    ),
    "1900": ("No room temperature storage; proper use of time...",),
    "2000": ("Proper reheating procedures for hot holding",),
    "2110": ("Proper cold holding temperatures (greater than 45 degrees F)",),
    "2120": ("Proper cold holding temperatures ( 42 degrees F to 45 degrees F)",),
    "2200": ("Accurate thermometer provided and used ...",),
    "2300": ("Proper Consumer Advisory posted for raw ...",),
    "2500": ("Toxic substances properly identified,...",),
    "2600": (
        "Compliance with risk control plans, variances, plan of operation; valid permit; "
        "appr procedur",
    ),
    "2700": ("Variance obtained for specialized processing ...",),
    "2900": ("Adequate equipment for temperature control",),
    "3000": ("Proper thawing methods used",),
    "3100": ("Proper labeling, signage",),
    "3200": (
        "Insects, rodents, animals not present; entrance controlled.",
        "Insects, rodents, animals not present; entrance...",
    ),
    "3300": (
        "Potential food contamination prevented during delivery, preparation, storage, display",
        "Potential food contamination prevented during ...",
    ),
    "3400": (
        "Wiping cloths properly used, stored, proper sanitizer",
        "Wiping cloths properly used, stored",
    ),
    "3500": ("Employee cleanliness and hygiene",),
    "3600": ("Proper eating, tasting, drinking, or tobacco use",),
    "3700": ("In-use utensils properly stored",),
    "3800": ("Utensils, equipment, linens properly stored,...",),
    "3900": ("Single use and single service articles properly...",),
    "4000": ("Food and non-food surfaces properly used and...",),
    "4100": ("Warewashing facilities properly installed,...",),
    "4200": ("Food-contact surfaces maintained, clean, sanitized",),
    "4300": ("Non-food contact surfaces maintained and clean",),
    "4400": ("Plumbing properly sized, installed,...",),
    "4500": ("Sewage, waste water properly disposed",),
    "4600": (
        "Toilet facilities properly constructed, supplied, cleaned",
        "Toilet facilities properly constructed, supplil...",
    ),
    "4700": ("Garbage, refuse properly disposed; facilities...",),
    "4800": ("Physical facilities properly installed,...",),
    "4900": ("Adequate ventilation; lighting; designated area...",),
    "5000": ("Posting of permit; mobile establishment name...",),
}

#: The codes the standard declares an item for, in item order. The reader answers each of
#: them on every visit, so that possible/earned points cover the whole checklist.
KNOWN_CODES: tuple[str, ...] = tuple(sorted(CODE_TEXTS))

_CODE_PREFIX = re.compile(r"^\s*(\d{4})\s+-\s+")
_TRUNCATION = re.compile(r"(\s*(\.\.+|…)\s*)+$")


def item_name(code: str) -> str:
    """Item name for a violation code: ``v`` + the four digits (``1600`` -> ``v1600``).

    A prefix is needed because DSL identifiers cannot start with a digit; keeping the code
    verbatim keeps the item traceable to the county's list.
    """
    return f"v{code}"


def _normalise(text: str) -> str:
    """Compare texts as the pages show them: case, spacing and truncation marks ignored."""
    text = _TRUNCATION.sub("", " ".join(text.split()))
    return text.casefold()


_NORMALISED_TEXTS: dict[str, tuple[str, ...]] = {
    code: tuple(_normalise(t) for t in texts) for code, texts in CODE_TEXTS.items()
}


def code_of(desc: str) -> str | None:
    """The four-digit code of a violation description, or None when it cannot be told.

    Rows since 2009 read ``"1600 - Proper cooling procedure"``; older rows carry the text
    alone, often truncated by the page (``"Food Worker Cards current for all food..."``).
    Those are matched against the known texts of each code: equal, or one a prefix of the
    other. A match must name exactly one code; an ambiguous or unknown text gives None, so
    that the visit is rejected rather than scored on a guess.
    """
    match = _CODE_PREFIX.match(desc)
    if match:
        return match.group(1)
    text = _normalise(desc)
    if not text:
        return None
    candidates = {
        code
        for code, texts in _NORMALISED_TEXTS.items()
        for known in texts
        if known == text or known.startswith(text) or text.startswith(known)
    }
    return candidates.pop() if len(candidates) == 1 else None


@dataclass
class ReadStats:
    """What the reader saw, for the run summary: nothing it skips goes unreported."""

    inspections: int = 0
    violation_rows: int = 0
    joined_rows: int = 0
    orphan_rows: int = 0
    orphan_keys: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    coded_by_text: int = 0
    unrecognised_rows: int = 0
    repeated_citations: int = 0


def _iso_date(raw: str) -> str:
    """``MM/DD/YYYY`` as the pages print it -> ISO ``YYYY-MM-DD``; other text is kept as is.

    Keeping an unparsable value (instead of raising) lets the engine reject that one visit.
    """
    try:
        return datetime.strptime(raw.strip(), "%m/%d/%Y").date().isoformat()
    except ValueError:
        return raw


def _published_score(raw: str) -> int | str | None:
    """The page's score: an integer, None for ``N/A`` (consultations), else the raw text."""
    value = raw.strip()
    if value.upper() in {"N/A", "NA", ""}:
        return None
    try:
        return int(value)
    except ValueError:
        return value


def _check_columns(path: Path, found: list[str] | None, expected: tuple[str, ...]) -> None:
    """Fail early on a table of another shape: every later step relies on these names."""
    if found is None or tuple(found) != expected:
        raise ValueError(f"{path}: expected columns {', '.join(expected)}; found {found}")


def _violations_by_inspection(
    violations_csv: Path, stats: ReadStats
) -> dict[tuple[str, str, str], list[str]]:
    """Group violation descriptions by the join key ``(file, business, insp_no)``."""
    grouped: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    with violations_csv.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        _check_columns(violations_csv, reader.fieldnames, VIOLATIONS_COLUMNS)
        for row in reader:
            stats.violation_rows += 1
            grouped[(row["file"], row["business"], row["insp_no"])].append(row["desc"])
    return grouped


def _answers(descs: list[str], stats: ReadStats) -> dict[str, str]:
    """One answer per known code, plus visible keys for whatever cannot be scored."""
    cited: Counter[str] = Counter()
    unrecognised: list[str] = []
    for desc in descs:
        code = code_of(desc)
        if code is None:
            unrecognised.append(desc)
            stats.unrecognised_rows += 1
            continue
        if not _CODE_PREFIX.match(desc):
            stats.coded_by_text += 1
        cited[code] += 1
    answers = {item_name(code): OK for code in KNOWN_CODES}
    for code in sorted(cited):
        count = cited[code]
        if count > 1:
            stats.repeated_citations += 1
        answers[item_name(code)] = VIOLATION if count == 1 else f"{VIOLATION} x{count}"
    if unrecognised:
        answers[UNRECOGNISED_KEY] = " | ".join(unrecognised)
    return answers


def read_king_county(
    inspections_csv: Path,
    violations_csv: Path,
    *,
    stats: ReadStats | None = None,
) -> Iterator[tuple[str, dict]]:
    """Yield ``(source, record)`` for every inspection, in the order of the inspections table.

    ``source`` is ``"<inspections file name>:<line>"`` (line 1 is the header), so that a
    rejected visit points back to the row it came from. ``record`` has the shape shown in
    the module docstring. Pass a :class:`ReadStats` to learn how many violation rows joined
    no inspection (they are skipped: they belong to no visit).
    """
    inspections_csv = Path(inspections_csv)
    violations_csv = Path(violations_csv)
    stats = stats if stats is not None else ReadStats()
    grouped = _violations_by_inspection(violations_csv, stats)
    joined: set[tuple[str, str, str]] = set()
    records: list[tuple[str, dict]] = []
    with inspections_csv.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        _check_columns(inspections_csv, reader.fieldnames, INSPECTIONS_COLUMNS)
        line = reader.line_num  # the header's last line
        for row in reader:
            start, line = line + 1, reader.line_num
            key = (row["file"], row["business"], row["insp_no"])
            descs = grouped.get(key, [])
            joined.add(key)
            stats.inspections += 1
            stats.joined_rows += len(descs)
            record = {
                "visit_id": f"{Path(row['file']).stem}-{row['insp_no']}",
                "point": row["business"],
                "date": _iso_date(row["date"]),
                "scenario": row["type"],
                "published_score": _published_score(row["score"]),
                "published_result": row["result"],
                "answers": _answers(descs, stats),
            }
            records.append((f"{inspections_csv.name}:{start}", record))
    # Orphans are counted before the first yield so that a caller who stops early still
    # gets a complete picture of what was skipped.
    for key, descs in grouped.items():
        if key not in joined:
            stats.orphan_rows += len(descs)
            stats.orphan_keys[key] += len(descs)
    yield from records


# ---- the reader hook -------------------------------------------------------------------------

#: A manifest names the county's two tables, so that one input path stands for both:
#:
#:     # wave.kc
#:     inspections = "kc_inspections.csv"
#:     violations = "kc_violations.csv"
#:
#: Paths are relative to the manifest. `sbm score restaurant.king_county wave.kc -o out.jsonl`
#: (the extension is the pack's, `plugin.MANIFEST_EXTENSION`).


def read_manifest(path: Path, visit_fields: object = (), **options: object) -> Iterator[object]:
    """The `sbm_readers` reader for `.kc` manifests: every inspection as a `SourceRecord`.

    Called by the engine as `reader(path, visit_fields=..., **options)`; the options
    (CSV encoding, delimiter…) do not apply, the county's tables having one format.
    """
    import tomllib

    from sbm_engine.io import InputError, SourceRecord

    path = Path(path)
    try:
        manifest = tomllib.loads(path.read_text(encoding="utf-8"))
        tables = {key: path.parent / str(manifest[key]) for key in ("inspections", "violations")}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise InputError(
            f"{path}: not a King County manifest ({exc}); it needs "
            'inspections = "…csv" and violations = "…csv"'
        ) from None
    for table in tables.values():
        if not table.is_file():
            raise InputError(f"{path}: table {table} not found")
    for source, record in read_king_county(tables["inspections"], tables["violations"]):
        yield SourceRecord(source, record, record)
