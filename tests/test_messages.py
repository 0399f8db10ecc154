"""The message catalogue: every message in English and Russian, every id the code uses
in it (and none it does not), the language chosen by `--lang`, `SBM_LANG` or the
locale, and Russian plurals.

The code is scanned, not run: an AST walk finds every `message("id", key=…)` call, so a
message shown only on a rare path is checked as well as a common one.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sbm_engine import messages
from sbm_engine.cli import cli
from sbm_engine.messages import (
    PLURAL_FORMS,
    catalogue,
    fill,
    language,
    language_from_environment,
    message,
    placeholders,
    plural,
    set_language,
)

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "sbm_engine"

EN, RU = catalogue("en"), catalogue("ru")


# ---- the catalogue itself ---------------------------------------------------------------------


def test_every_message_exists_in_both_languages() -> None:
    assert sorted(set(EN) - set(RU)) == [], "no Russian for these"
    assert sorted(set(RU) - set(EN)) == [], "no English for these"


@pytest.mark.parametrize("msgid", sorted(EN))
def test_both_languages_show_the_same_values(msgid: str) -> None:
    (en_shown, en_agree), (ru_shown, ru_agree) = placeholders(EN[msgid]), placeholders(RU[msgid])
    assert en_shown == ru_shown, f"{msgid}: English shows {en_shown}, Russian {ru_shown}"
    # A word agreeing with a number lists that language's forms (a number a word agrees
    # with may be used by one language only: English "is/are", Russian adjective endings).
    assert all(n == PLURAL_FORMS["en"] for n in en_agree.values()), (msgid, en_agree)
    assert all(n == PLURAL_FORMS["ru"] for n in ru_agree.values()), (msgid, ru_agree)


#: Texts that read the same in both languages: formats around values, and symbols.
SAME_IN_BOTH = {"E0606.unreadable.message", "visit.formula_error", "results.problem", "compare.n"}


def test_russian_is_translated() -> None:
    same = {k for k in EN if EN[k] == RU[k]}
    assert same == SAME_IN_BOTH
    cyrillic = {k for k in RU if any("\u0400" <= c <= "\u04ff" for c in RU[k])}
    latin_only = set(RU) - cyrillic - SAME_IN_BOTH
    # Texts without a Russian word are symbols and code: `+` или `-` has one, `{count} МиБ` too.
    assert latin_only == set(), sorted(latin_only)


# ---- the code against the catalogue -----------------------------------------------------------


def _calls() -> list[tuple[str, int, str, set[str] | None]]:
    """Every `message(...)` and `deferred(...)` call in the package: (file, line, id,
    keywords or None if it passes `**params`). Fails on an id that is not a string
    literal."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "messages.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        imported = any(  # `from ..messages import message` (at the top or in a function)
            isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[-1] == "messages"
            and any(
                alias.name in ("message", "deferred") and alias.asname is None
                for alias in node.names
            )
            for node in ast.walk(tree)
        )
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if not (
                (imported and isinstance(func, ast.Name) and func.id in ("message", "deferred"))
                or (
                    isinstance(func, ast.Attribute)
                    and func.attr in ("message", "deferred")
                    and isinstance(func.value, ast.Name)
                    and func.value.id == "messages"
                )
            ):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            assert node.args and isinstance(node.args[0], ast.Constant), (
                f"{where}: the message id must be a string literal, so it can be checked"
            )
            msgid = node.args[0].value
            assert isinstance(msgid, str), where
            keywords = {k.arg for k in node.keywords}
            found.append((where, node.lineno, msgid, None if None in keywords else keywords))
    return found


CALLS = _calls()


def test_the_code_uses_messages() -> None:
    assert len(CALLS) > 300


def test_every_id_in_the_code_is_in_the_catalogue() -> None:
    missing = [f"{where}: {msgid}" for where, _, msgid, _ in CALLS if msgid not in EN]
    assert missing == []


def test_every_message_is_used() -> None:
    used = {msgid for _, _, msgid, _ in CALLS}
    assert sorted(set(EN) - used) == []


def test_every_call_gives_exactly_the_values_its_message_needs() -> None:
    wrong = []
    for where, _, msgid, keywords in CALLS:
        if keywords is None or msgid not in EN:
            continue
        needed: set[str] = set()
        for text in (EN[msgid], RU[msgid]):
            shown, agree = placeholders(text)
            needed |= shown | set(agree)
        if keywords != needed:
            wrong.append(f"{where}: {msgid} needs {sorted(needed)}, given {sorted(keywords)}")
    assert wrong == []


# ---- filling in -------------------------------------------------------------------------------


def test_fill_replaces_names_and_leaves_other_braces() -> None:
    text = "declare `bands {coefficient} { … }` or `one of { }`"
    assert fill(text, {"coefficient": "visit"}) == "declare `bands visit { … }` or `one of { }`"
    assert fill("the `{` at {where}", {"where": "a.sbm:1:2"}) == "the `{` at a.sbm:1:2"


def test_fill_agrees_words_with_numbers() -> None:
    text = "{n} {n|пункт|пункта|пунктов}"
    assert [fill(text, {"n": n}, "ru") for n in (1, 3, 11)] == ["1 пункт", "3 пункта", "11 пунктов"]
    assert fill("{n} {n|item|items}", {"n": 1}, "en") == "1 item"


def test_an_unknown_id_or_a_missing_value_is_an_error() -> None:
    with pytest.raises(KeyError):
        message("no.such.message")
    with pytest.raises(KeyError):
        message("E0201.unknown_name.message")


# ---- plurals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "word"),
    [
        (0, "пунктов"),
        (1, "пункт"),
        (2, "пункта"),
        (4, "пункта"),
        (5, "пунктов"),
        (11, "пунктов"),
        (12, "пунктов"),
        (14, "пунктов"),
        (21, "пункт"),
        (22, "пункта"),
        (25, "пунктов"),
        (101, "пункт"),
        (111, "пунктов"),
        (1.5, "пункта"),
        (2.0, "пункта"),
    ],
)
def test_russian_plural(n: float, word: str) -> None:
    assert plural(n, "пункт", "пункта", "пунктов", lang="ru") == word


def test_english_plural() -> None:
    assert [plural(n, "item", "items", lang="en") for n in (0, 1, 2, 1.5)] == [
        "items",
        "item",
        "items",
        "items",
    ]


def test_plural_follows_the_current_language() -> None:
    set_language("ru")
    assert plural(5, "пункт", "пункта", "пунктов") == "пунктов"
    assert message("diag.count", errors=1, warnings=5) == "1 ошибка, 5 предупреждений"
    set_language("en")
    assert message("diag.count", errors=1, warnings=5) == "1 error, 5 warnings"


# ---- the language -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "lang"),
    [
        ({}, "en"),
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "ru_RU.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "ru_RU.UTF-8"}, "ru"),
        ({"LC_MESSAGES": "en_US.UTF-8", "LC_ALL": "ru_RU.UTF-8"}, "ru"),
        ({"LC_ALL": "ru_RU.UTF-8", "SBM_LANG": "en"}, "en"),
        ({"LANG": "en_US.UTF-8", "SBM_LANG": "ru"}, "ru"),
        ({"LANG": "ru_RU.UTF-8", "SBM_LANG": ""}, "ru"),
    ],
)
def test_language_from_the_environment(env: dict[str, str], lang: str) -> None:
    assert language_from_environment(env) == lang


def test_set_language_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SBM_LANG", "ru")
    assert language() == "ru"
    set_language("en")
    assert language() == "en"
    set_language(None)
    assert language() == "ru"


def test_tests_run_in_english() -> None:
    """tests/conftest.py pins English, so the machine's locale changes no test."""
    assert language() == "en"
    assert message("diag.error") == "error"


# ---- end to end: `sbm check` ------------------------------------------------------------------

BAD = """\
standard broken "Сломанный стандарт" {
    scale yes_no { yes = 1, no = 0 }
    item greeted "Поприветствовал" answer yes_no
    item smile "Улыбка" answer yes_n
    item extra1 "Пункт" answer yes_no
    item extra2 "Пункт" answer yes_no
    coefficient c = weighted_mean(greeted: 1, smile: 1, extra1: 1, extra2: 1)
}
"""

CARET = "  |                                ^^^^^ "


@pytest.fixture
def bad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.sbm").write_text(BAD, encoding="utf-8")
    return tmp_path / "bad.sbm"


def _sbm(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="sbm", env=env)
    return result.exit_code, result.stdout, result.stderr


def test_check_in_russian(bad: Path) -> None:
    code, _, err = _sbm("--lang", "ru", "check", "bad.sbm")
    assert code == 1
    assert "ошибка[E0202]: неизвестная шкала `yes_n`" in err
    assert " --> bad.sbm:4:32" in err
    assert CARET + "шкалы с таким именем нет" in err
    assert "= подсказка: возможно, вы имели в виду `yes_no`?" in err
    assert "проверен 1 стандарт (без ошибок: 0): 1 ошибка, 0 предупреждений" in err


def test_check_in_english(bad: Path) -> None:
    code, _, err = _sbm("--lang", "en", "check", "bad.sbm")
    assert code == 1
    assert "error[E0202]: unknown scale `yes_n`" in err
    assert CARET + "no scale of this name" in err
    assert "= help: did you mean `yes_no`?" in err
    assert "checked 1 standard: 0 ok, 1 error, 0 warnings" in err


def test_check_in_russian_by_environment(bad: Path) -> None:
    code, _, err = _sbm("check", "bad.sbm", env={"SBM_LANG": "ru"})
    assert code == 1
    assert "ошибка[E0202]: неизвестная шкала `yes_n`" in err
    assert CARET + "шкалы с таким именем нет" in err


def test_lang_option_wins_over_the_environment(bad: Path) -> None:
    _, _, err = _sbm("--lang", "en", "check", "bad.sbm", env={"SBM_LANG": "ru"})
    assert "error[E0202]: unknown scale `yes_n`" in err


def test_each_run_chooses_its_language_afresh(bad: Path) -> None:
    _sbm("--lang", "ru", "check", "bad.sbm")
    _, _, err = _sbm("check", "bad.sbm")
    assert "error[E0202]" in err


def test_json_keeps_its_keys_and_codes_in_russian(bad: Path) -> None:
    _, out, _ = _sbm("--lang", "ru", "check", "bad.sbm", "--format", "json")
    [report] = json.loads(out)
    [d] = report["diagnostics"]
    assert d["code"] == "E0202" and d["severity"] == "error"
    assert d["message"] == "неизвестная шкала `yes_n`"
    assert d["label"] == "шкалы с таким именем нет"
    assert (d["file"], d["line"], d["column"]) == ("bad.sbm", 4, 32)
    _, out_en, _ = _sbm("--lang", "en", "check", "bad.sbm", "--format", "json")
    assert set(json.loads(out_en)[0]["diagnostics"][0]) == set(d)


def test_plural_forms_in_the_summary(bad: Path) -> None:
    Path("three.sbm").write_text(
        BAD.replace('"Пункт" answer yes_no', '"Пункт" answer yes_n'), "utf-8"
    )
    _, _, err = _sbm("--lang", "ru", "check", "three.sbm")
    assert "\n3 ошибки, 0 предупреждений\n" in err
    _, _, err = _sbm("--lang", "ru", "check", "bad.sbm", "three.sbm")
    assert "проверено 2 стандарта (без ошибок: 0): 4 ошибки, 0 предупреждений" in err
    five = "\n".join(f'    item e{i} "Пункт" answer no_such' for i in range(5))
    Path("five.sbm").write_text(BAD.replace("}\n", "}\n" + five + "\n", 1), "utf-8")
    _, _, err = _sbm(
        "--lang", "ru", "check", "five.sbm", "five.sbm", "five.sbm", "five.sbm", "bad.sbm"
    )
    assert "проверено 5 стандартов (без ошибок: 0): 25 ошибок, 0 предупреждений" in err


def test_the_help_offers_lang() -> None:
    _, out, _ = _sbm("--help")
    assert "--lang [ru|en]" in out


def test_the_help_does_not_load_the_catalogue() -> None:
    """`sbm --help` imports click and nothing else of weight: not the messages."""
    code = (
        "import sys; from sbm_engine.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('sbm_engine.messages' in sys.modules, 'tomllib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines()[-1] == "False False"


def test_the_catalogue_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    first = catalogue("ru")
    assert catalogue("ru") is first
    assert messages._catalogues["ru"] is first


def test_a_clean_standard_and_its_scoring_make_no_message() -> None:
    """Messages are made when something is reported, never on the way: compiling a
    standard without findings and scoring visits that pass without a warning read no
    catalogue; the first visit rejected or warned reads it."""
    code = (
        "import itertools, json, sys\n"
        "from sbm_engine import api, messages\n"
        "std = api.load('tests/conformance/demo_branch.sbm')\n"
        "with open('tests/conformance/demo_visits.jsonl', encoding='utf-8') as f:\n"
        "    visits = [json.loads(line) for line in itertools.islice(f, 50)]\n"
        "clean = 0\n"
        "for v in visits:\n"
        "    o = std.score(v)\n"
        "    if getattr(o, 'errors', ()) or o.warnings:\n"
        "        break\n"
        "    clean += 1\n"
        "    assert not messages._catalogues\n"
        "print(clean, sorted(messages._catalogues))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    clean, *last = out.splitlines()[-1].split(" ", 1)
    assert int(clean) > 0 and last == ["['en']"]


def _catalogue_in_new_process(cache: Path) -> list[str]:
    code = (
        "import sys; from sbm_engine import messages\n"
        "table = messages.catalogue('ru')\n"
        "print(len(table), 'tomllib' in sys.modules)"
    )
    env = {**os.environ, "SBM_CACHE_DIR": str(cache)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    return out.split()


def test_the_parsed_catalogue_is_kept_in_the_cache(tmp_path: Path) -> None:
    """The first run parses the TOML and keeps the table; the next reads the table
    (no TOML parser imported) and gets the very same messages."""
    cache = tmp_path / "cache"
    first = _catalogue_in_new_process(cache)
    assert first == [str(len(RU)), "True"]
    kept = list(cache.glob("messages-ru-*"))
    assert len(kept) == 1
    assert _catalogue_in_new_process(cache) == [str(len(RU)), "False"]
    kept[0].write_bytes(b"not a pickle")  # a damaged file is parsed anew and rewritten
    assert _catalogue_in_new_process(cache) == [str(len(RU)), "True"]
    assert _catalogue_in_new_process(cache) == [str(len(RU)), "False"]


def test_the_kept_catalogue_is_the_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tomllib

    monkeypatch.setenv("SBM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(messages, "_catalogues", {})
    parsed = messages.catalogue("en")
    monkeypatch.setattr(messages, "_catalogues", {})
    assert messages.catalogue("en") == parsed  # read back from the cache
    with open(messages._CATALOGUE_DIR / "en.toml", "rb") as f:
        assert parsed == messages._flatten(tomllib.load(f))


# ---- end to end: the run and analytics commands in Russian -------------------------------------

DEMO = ROOT / "tests" / "conformance"


@pytest.fixture
def waves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fifty demo visits (some rejected, one warned) as JSONL and CSV, in `tmp_path`."""
    import csv

    monkeypatch.chdir(tmp_path)
    lines = (DEMO / "demo_visits.jsonl").read_text("utf-8").splitlines()[:50]
    Path("visits.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    records = [json.loads(line) for line in lines]
    fields = ["visit_id", "point", "specialist", "region", "date", "scenario"]
    items = list(dict.fromkeys(k for r in records for k in r.get("answers", {})))
    with open("visits.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(fields + items)
        for r in records:
            w.writerow([r.get(k, "") for k in fields] + [r["answers"].get(k, "") for k in items])
    return tmp_path


def _rejects(path: str) -> list[dict[str, str]]:
    return [
        e for line in Path(path).read_text("utf-8").splitlines() for e in json.loads(line)["errors"]
    ]


def test_score_in_russian_rejects_with_russian_messages_and_the_same_codes(waves: Path) -> None:
    std = str(DEMO / "demo_branch.sbm")
    code, _, err = _sbm(
        "--lang", "ru", "score", std, "visits.jsonl", "-o", "ru.jsonl", "--rejects", "ru.rej.jsonl"
    )
    assert code == 1 and "отклонено" in err
    _sbm(
        "--lang", "en", "score", std, "visits.jsonl", "-o", "en.jsonl", "--rejects", "en.rej.jsonl"
    )
    ru, en = _rejects("ru.rej.jsonl"), _rejects("en.rej.jsonl")
    assert [(e["item"], e["code"]) for e in ru] == [(e["item"], e["code"]) for e in en]
    by_code = {e["code"]: e["message"] for e in ru}
    assert by_code["missing"].startswith("нет ответа на пункт `greeted`")
    assert by_code["out_of_range"] == "ответ 300 на пункт `wait` вне диапазона 0..240"
    assert (
        by_code["unknown_item"]
        == "`gretted` — не пункт стандарта demo.branch; возможно, имелось в виду `greeted`?"
    )
    assert {e["code"]: e["message"] for e in en}[
        "out_of_range"
    ] == "answer 300 to `wait` is outside 0..240"
    warned = [json.loads(line) for line in Path("ru.jsonl").read_text("utf-8").splitlines()]
    assert any(
        "на пункт `card` дан ответ, но пункт не относится к этому визиту" in str(r["warnings"])
        for r in warned
    )


def test_both_engines_reject_alike_in_russian(waves: Path) -> None:
    pytest.importorskip("pyarrow")
    std = str(DEMO / "demo_branch.sbm")
    for engine in ("python", "batch"):
        code, _, err = _sbm(
            "--lang", "ru", "score", std, "visits.csv", "--engine", engine,
            "-o", f"{engine}.jsonl", "--rejects", f"{engine}.rej.jsonl",
        )  # fmt: skip
        assert code == 1, err
    python, batch = Path("python.rej.jsonl").read_bytes(), Path("batch.rej.jsonl").read_bytes()
    assert python == batch and "пункт".encode() in python
    warns = [
        [
            json.loads(line)["warnings"]
            for line in Path(f"{e}.jsonl").read_text("utf-8").splitlines()
        ]
        for e in ("python", "batch")
    ]
    assert warns[0] == warns[1] and "не относится к этому визиту" in str(warns[0])


def test_rollup_refuses_in_russian(waves: Path) -> None:
    std = str(DEMO / "demo_branch.sbm")
    _sbm("score", std, "visits.jsonl", "-o", "scored.jsonl", "--rejects", "rejects.jsonl")
    code, _, err = _sbm(
        "--lang", "ru", "rollup", "rejects.jsonl", "--by", "point", "--standard", std
    )
    assert code == 2
    assert "ошибка: ничего не сведено: 6 записей не являются оценёнными визитами" in err
    code, _, err = _sbm(
        "--lang", "en", "rollup", "rejects.jsonl", "--by", "point", "--standard", std
    )
    assert "error: nothing rolled up: 6 records are not scored visits of `demo.branch`" in err
    code, out, _ = _sbm(
        "--lang", "ru", "rollup", "scored.jsonl", "--by", "point", "--standard", std
    )
    assert code == 0 and out.startswith("точка ") and "(в скобках — отклонение от цели)" in out


def test_compare_heads_its_table_in_russian(waves: Path) -> None:
    std = str(DEMO / "demo_branch.sbm")
    _sbm("score", std, "visits.jsonl", "-o", "a.jsonl", "--rejects", "rejects.jsonl")
    Path("b.jsonl").write_bytes(Path("a.jsonl").read_bytes())
    code, out, err = _sbm(
        "--lang", "ru", "compare", "a.jsonl", "b.jsonl", "--by", "point", "--standard", std
    )
    assert code == 0, err
    heading, columns = out.splitlines()[:2]
    assert heading == "a → b, по уровню «точка»:"
    assert columns.split()[:4] == ["группа", "показатель", "волна", "A"]
    assert "2 волны, 2 сравнения групп по уровню «точка»" in err
    _, out, _ = _sbm(
        "--lang", "en", "compare", "a.jsonl", "b.jsonl", "--by", "point", "--standard", std
    )
    assert out.splitlines()[0] == "a → b, by point:"


def test_plan_reports_a_levers_file_in_russian(waves: Path) -> None:
    std = str(DEMO / "demo_branch.sbm")
    _sbm("score", std, "visits.jsonl", "-o", "scored.jsonl", "--rejects", "rejects.jsonl")
    Path("levers.toml").write_text(
        '[[lever]]\nid = "training"\nitems = ["gretted"]\nadds = 0.2\n', "utf-8"
    )
    args = (
        "plan",
        "scored.jsonl",
        "--levers",
        "levers.toml",
        "--target",
        "visit=0.85",
        "--standard",
        std,
    )
    code, _, err = _sbm("--lang", "ru", *args)
    assert code == 2
    assert "ошибка[L0201]: неизвестный пункт `gretted` в `demo.branch`" in err
    assert "^^^^^^^^^ в стандарте нет такого пункта" in err
    assert "= подсказка: возможно, вы имели в виду `greeted`?" in err
    _, _, err = _sbm("--lang", "en", *args)
    assert "error[L0201]: unknown item `gretted` in `demo.branch`" in err


def test_a_warning_is_in_the_language_the_standard_was_compiled_in() -> None:
    """The Python API: a text fixed at compile time (the warning for an item answered
    where it does not apply) keeps the language chosen then; errors follow the
    language of the moment."""
    from sbm_engine import api

    visit = {
        "visit_id": "w1",
        "scenario": "credit",
        "answers": {"greeted": "yes", "smile": "yes", "wait": 3, "questions": 4, "card": "yes",
                    "secrecy": "yes", "clean": 3, "overall": 6},
    }  # fmt: skip
    set_language("ru")
    std = api.load(DEMO / "demo_branch.sbm")
    set_language("en")
    [warning] = std.score(visit).warnings
    assert warning.message.startswith("на пункт `card` дан ответ")
    [error] = std.score({**visit, "answers": {**visit["answers"], "wait": 300}}).errors
    assert error.message == "answer 300 to `wait` is outside 0..240"
