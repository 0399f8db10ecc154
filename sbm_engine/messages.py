"""Messages in the reader's language: one catalogue, in English and in Russian.

Every text a person reads from the compiler and the authoring commands (a
diagnostic's message, label, help and notes; what `sbm check`, `sbm fmt`, `sbm
new`, `sbm diff` and `sbm explain` print) is looked up here by a stable id:

    message("E0202.unknown_scale.message", scale="yes_n")

The catalogue is `_data/messages/en.toml` and `ru.toml`, read on first use (never by
`sbm --help`, never on the scoring path: messages are made only when something is
reported) and kept, parsed, in the user's cache folder. Its tables nest, and an id is
the dotted path to a string.

The language is the one set by `set_language` (the `--lang` option), else `SBM_LANG`,
else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`): Russian for `ru…`, English otherwise.

A visit's errors and warnings (the `message` of `VisitError` and `VisitWarning`, in the
rejects file and in `sbm explain`) come from here too; their `code`s stay English, for
machines. They are made only when a visit is rejected or warned. A few texts are fixed
when a standard is compiled (`deferred`: the warning for an item answered where it
does not apply): they are in the language chosen at compile time. The CLI chooses
the language (`--lang`) before it compiles anything, so its whole run speaks one
language. In the Python API the language at compile time applies to them: a program
that calls `set_language` after `sbm_engine.load(...)` gets those texts in the language
the standard was compiled in (loading it again compiles it anew, as compiled standards
are cached per language), and every other text in the new one. JSON keys and
enumerated values (codes, verdicts, kinds, quadrants) stay English.

A text's placeholders are `{name}`; braces around anything but a bare name (`{ … }`,
as in `scale NAME { … }`) are text. `{n|form|form…}` is a word that agrees with the
number `n`: two forms in English (one, other), three in Russian (1 пункт, 2 пункта,
5 пунктов); see `plural`. Both languages show the same values (the tests check it);
the numbers a word agrees with may differ, as each language's grammar needs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: The languages of the catalogue; the first is the fallback.
LANGUAGES = ("en", "ru")

_CATALOGUE_DIR = Path(__file__).resolve().parent / "_data" / "messages"

#: `{name}` or `{name|form|form…}`; any other brace is text.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)((?:\|[^{}|]*)*)\}")

_chosen: str | None = None
_catalogues: dict[str, dict[str, str]] = {}


# ---- the language ---------------------------------------------------------------------------


def normalize(lang: str | None) -> str | None:
    """`ru`, `ru_RU.UTF-8`, `RU` -> "ru"; any other non-empty value -> "en"; None/"" -> None."""
    if not lang:
        return None
    return "ru" if lang.strip().lower().startswith("ru") else "en"


def language_from_environment(environ: Any = None) -> str:
    """The language the environment asks for: `SBM_LANG`, then the locale's messages
    category as POSIX orders it (`LC_ALL`, `LC_MESSAGES`, `LANG`); English if none."""
    env = os.environ if environ is None else environ
    for var in ("SBM_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        lang = normalize(env.get(var))
        if lang is not None:
            return lang
    return "en"


def set_language(lang: str | None) -> None:
    """Use `lang` ("en", "ru", or a locale name such as `ru_RU.UTF-8`) from now on;
    None goes back to what the environment says."""
    global _chosen
    _chosen = normalize(lang)


def language() -> str:
    """The language messages are made in now."""
    return _chosen or language_from_environment()


# ---- the catalogue --------------------------------------------------------------------------


def catalogue(lang: str) -> dict[str, str]:
    """Every message of `lang`, by id (read once per process)."""
    if lang not in _catalogues:
        _catalogues[lang] = _read_catalogue(lang)
    return _catalogues[lang]


def _read_catalogue(lang: str) -> dict[str, str]:
    """The catalogue's TOML, parsed; or what an earlier run parsed from the very same
    bytes, kept in the user's cache folder (`sbm_engine.cache`): parsing TOML in pure
    Python takes longer than the rest of a small `sbm score`'s own work, and the first
    visit rejected (or the run's summary) needs the catalogue."""
    import hashlib

    from . import cache as disk

    data = (_CATALOGUE_DIR / f"{lang}.toml").read_bytes()
    name = f"messages-{lang}-{hashlib.sha256(data).hexdigest()[:32]}"
    kept = disk.stored(name)
    if isinstance(kept, dict) and all(type(v) is str for v in kept.values()):
        return kept
    import tomllib  # only when the cache cannot help

    table = _flatten(tomllib.loads(data.decode("utf-8")))
    disk.store(name, table)
    disk.prune(f"messages-{lang}-", 4)  # a few engine versions side by side
    return table


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        elif isinstance(value, str):
            out[name] = value
        else:
            raise TypeError(f"message {name!r} is not a string")
    return out


def message(msgid: str, /, **params: Any) -> str:
    """The text of message `msgid` in the current language, its placeholders filled.

    Raises KeyError for an id the catalogue lacks or a placeholder not given: both are
    bugs the tests catch (`tests/test_messages.py`)."""
    return _message_in(language(), msgid, params)


def deferred(msgid: str, /, **params: Any) -> Callable[[], str]:
    """Message `msgid` in the language chosen now, made on the first call and kept.

    For a text fixed when a standard is compiled but shown only when a visit needs it
    (the warning for an item answered where it does not apply): compiling reads no
    catalogue, and a run makes the text once, however many visits it warns."""
    lang = language()
    made: list[str] = []

    def make() -> str:
        if not made:
            made.append(_message_in(lang, msgid, params))
        return made[0]

    return make


def _message_in(lang: str, msgid: str, params: dict[str, Any]) -> str:
    text = catalogue(lang).get(msgid)
    if text is None:
        if lang == LANGUAGES[0]:
            raise KeyError(f"no message {msgid!r}")
        lang, text = LANGUAGES[0], catalogue(LANGUAGES[0])[msgid]
    return fill(text, params, lang)


def fill(text: str, params: dict[str, Any], lang: str = "en") -> str:
    """`text` with its placeholders replaced by `params` (see the module's notes)."""

    def replace(m: re.Match[str]) -> str:
        value = params[m.group(1)]
        if not m.group(2):
            return str(value)
        return plural(value, *m.group(2)[1:].split("|"), lang=lang)

    return PLACEHOLDER.sub(replace, text)


def placeholders(text: str) -> tuple[set[str], dict[str, int]]:
    """The values a text shows (`{name}`) and, for each number a word agrees with
    (`{n|…}`), how many forms it lists."""
    shown: set[str] = set()
    agreeing: dict[str, int] = {}
    for m in PLACEHOLDER.finditer(text):
        if m.group(2):
            agreeing[m.group(1)] = len(m.group(2).split("|")) - 1
        else:
            shown.add(m.group(1))
    return shown, agreeing


#: How many word forms each language's plural rule chooses from.
PLURAL_FORMS = {"en": 2, "ru": 3}


def plural(n: float, *forms: str, lang: str | None = None) -> str:
    """The form of a word that goes with the number `n`.

    English: `forms` are (one, other): 1 item, 2 items. Russian: (one, few, many) as
    in 1 пункт, 2 пункта, 5 пунктов (21 пункт, 22 пункта, 11–14 пунктов); a fraction
    takes the `few` form (1,5 пункта). Forms missing from the end repeat the last.
    """
    lang = lang or language()
    if lang == "ru":
        if isinstance(n, float) and not n.is_integer():
            index = 1
        else:
            k = abs(int(n))
            if k % 10 == 1 and k % 100 != 11:
                index = 0
            elif 2 <= k % 10 <= 4 and not 12 <= k % 100 <= 14:
                index = 1
            else:
                index = 2
    else:
        index = 0 if n == 1 else 1
    return forms[min(index, len(forms) - 1)]


def ordinal(n: int) -> str:
    """`n` as an ordinal numeral of a letter: "4th" in English, "4-я" in Russian (the
    feminine ending, agreeing with «буква», the only noun it is used with)."""
    if language() == "ru":
        return f"{n}-я"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
