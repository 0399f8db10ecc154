"""A standard never runs code: its text never reaches the generated Python.

The attacks of issue 14 as tests (a version or a file name that ends a comment
and runs what follows), the allow-list that checks generated source before it is
compiled, the rule that every fragment of generated code comes from a template
literal of the compiler, and a property: whatever text fills a standard's strings,
the generated source is the same as with plain text there, and scoring touches
nothing outside the engine.
"""

from __future__ import annotations

import ast
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import sbm_engine
from sbm_engine import codegen
from sbm_engine.cli import cli
from sbm_engine.codegen import Py, UnsafeSource, compile_checked, ident, py
from sbm_engine.compiler import PythonCompiler
from sbm_engine.fmt_expr import quote

ROOT = Path(__file__).resolve().parents[2]


def _payload(marker: Path) -> str:
    """Python that, were it ever executed, would create `marker` through real builtins."""
    return (
        "b = scale_score.__globals__['__builtins__']\n"
        "imp = b['__import__'] if type(b) is type({}) else b.__import__\n"
        f"imp('os').system('touch {marker}')\n#"
    )


def _rce_standard(version: str, name: str = "t.rce") -> str:
    return (
        f"standard {name} {{\n"
        f"    version {quote(version)}\n"
        '    item a "A" answer { yes = 1, no = 0 }\n'
        "}\n"
    )


def test_a_version_that_ends_the_comment_runs_nothing_through_sbm_check(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    (tmp_path / "t.sbm").write_text(_rce_standard("1\n" + _payload(marker)), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "t.sbm")], prog_name="sbm")
    assert result.exit_code == 0, result.output
    assert not marker.exists()
    std = sbm_engine.load(tmp_path / "t.sbm")
    assert std.version == "1\n" + _payload(marker)  # kept as data, exactly
    assert std.score({"visit_id": "v", "answers": {"a": "yes"}}).ok
    assert not marker.exists()


def test_a_version_in_an_imported_file_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    (tmp_path / "lib.sbm").write_text(
        _rce_standard("1\n" + _payload(marker), "t.lib"), encoding="utf-8"
    )
    (tmp_path / "main.sbm").write_text(
        'import "lib.sbm"\nstandard t.main {\n    item b "B" answer { yes = 1, no = 0 }\n}\n',
        encoding="utf-8",
    )
    std = sbm_engine.load(tmp_path / "main.sbm")
    assert std.score({"visit_id": "v", "answers": {"a": "no", "b": "yes"}}).ok
    assert not marker.exists()


def test_a_version_runs_nothing_through_loads(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    std = sbm_engine.loads(_rce_standard("1\n" + _payload(marker)))
    std.score({"visit_id": "v", "answers": {"a": "yes"}})
    assert not marker.exists()


def test_a_file_name_holding_code_runs_nothing_when_visits_are_scored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "PWNED"
    # In a `# item NAME (FILE:LINE)` comment this name once ended the comment and
    # put an indented statement into evaluate(), run on every visit.
    name = "x)\n    open('PWNED', 'w')\n    #.sbm"
    (tmp_path / name).write_text(
        'standard t.lib {\n    item a "A" answer { yes = 1, no = 0 }\n}\n', encoding="utf-8"
    )
    (tmp_path / "main.sbm").write_text(
        f"import {quote(name)}\n"
        'standard t.main {\n    item b "B" answer { yes = 1, no = 0 }\n}\n',
        encoding="utf-8",
    )
    std = sbm_engine.load(tmp_path / "main.sbm")
    for i in range(3):
        assert std.score({"visit_id": str(i), "answers": {"a": "yes", "b": "no"}}).ok
    assert name not in std.python_source
    assert not marker.exists()
    # People still see where each item came from, in the listing made for them.
    assert "item `a`" in std.python_listing()


def test_a_version_with_a_line_break_is_just_text(tmp_path: Path) -> None:
    (tmp_path / "t.sbm").write_text(_rce_standard("1\n2"), encoding="utf-8")
    for command in (["check"], ["test"]):
        result = CliRunner().invoke(cli, [*command, str(tmp_path / "t.sbm")], prog_name="sbm")
        assert result.exit_code == 0, result.output
    std = sbm_engine.load(tmp_path / "t.sbm")
    assert std.version == "1\n2"
    assert std.score({"visit_id": "v", "answers": {"a": "yes"}}).coefficients == {}


def test_numbers_beyond_float_range_are_refused_and_never_spelt_inf() -> None:
    huge = "1" + "0" * 309  # 1e309: no float holds it
    with pytest.raises(sbm_engine.CompileError) as err:
        sbm_engine.loads(f'standard t.big {{\n    item q "Q" answer number 0..{huge}\n}}\n')
    assert [d.code for d in err.value.diagnostics] == ["E0508"]
    # Were one to reach the compiler, it would be a constant: `inf` is no literal.
    compiler = PythonCompiler(sbm_engine.loads(_rce_standard("1")).model)
    name = compiler.num(float("inf"))
    assert compiler.consts[name] == float("inf") and compiler.num(2.5) == "2.5"


# ---- the allow-list ------------------------------------------------------------------


GOOD = "def evaluate(answers, visit, errs, warns):\n    get = answers.get\n    s0 = {}\n"


@pytest.mark.parametrize(
    "expr",
    [
        "'text'",  # a string literal: user text must be a constant
        "b'text'",
        "scale_score.__globals__",  # the way back to real builtins
        "type(a).__mro__",
        "answers.copy()",
        "open",  # a name outside the namespace
        "__import__('os')",
        "(lambda: 1)()",
        "{1: 2}",
        "[x for x in K0 async for y in K0]",
        "f'{a}'",
        "K0[a := 1]",
    ],
)
def test_the_allow_list_refuses_what_the_compiler_never_emits(expr: str) -> None:
    with pytest.raises((UnsafeSource, SyntaxError)):
        compile_checked(GOOD.format(expr), ["K0", "scale_score"], "<t>")


@pytest.mark.parametrize(
    "source",
    [
        "import os\n" + GOOD.format("1"),
        GOOD.format("1") + "x = 1\n",
        GOOD.format("1") + "    def inner(): pass\n",
        GOOD.format("1") + "    K0 = 1\n",  # rebinding a namespace name
        GOOD.format("1") + "    errs.append = 1\n",
        GOOD.format("1") + "    K0[1] = 2\n",
        GOOD.format("1") + "    raise SystemExit\n",
        GOOD.format("1") + "    global K0\n",
        GOOD.format("1") + "    del s0\n",
        GOOD.format("1") + "    with s0: pass\n",
        GOOD.format("1") + "    while True: pass\n",
        "@K0\n" + GOOD.format("1"),
        "def evaluate(answers, visit, errs, warns, x=open):\n    return 1\n",
        "def other(answers, visit, errs, warns):\n    return 1\n",
    ],
)
def test_the_allow_list_refuses_statements_the_compiler_never_emits(source: str) -> None:
    with pytest.raises(UnsafeSource):
        compile_checked(source, ["K0"], "<t>")


def test_the_allow_list_accepts_every_generated_module() -> None:
    for path in [ROOT / "tests/conformance/demo_branch.sbm", *ROOT.glob("plugins/*/src/**/*.sbm")]:
        try:
            std = sbm_engine.load(path)
        except sbm_engine.CompileError:
            continue  # a shared file that is not a whole standard
        namespace = [*codegen_namespace(std)]
        compile_checked(std.python_source, namespace, "<t>")


def codegen_namespace(std: sbm_engine.CompiledStandard) -> list[str]:
    names = std._evaluate.__globals__
    return [*names, *names["__builtins__"]]


# ---- the construction rule ----------------------------------------------------------


def _calls(tree: ast.AST, name: str) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Name) and f.id == name) or (
                isinstance(f, ast.Attribute) and f.attr == name
            ):
                yield node


def test_every_template_of_generated_code_is_a_literal_of_the_compiler() -> None:
    """No f-string, variable or concatenation as a template: user text has no way in."""
    for module in ("compiler.py", "codegen.py", "builtins.py"):
        tree = ast.parse((ROOT / "sbm_engine" / module).read_text(encoding="utf-8"))
        for call in _calls(tree, "py"):
            template = call.args[0]
            if module == "codegen.py" and isinstance(template, ast.Call):
                continue  # join() builds its template from separators it checked
            assert isinstance(template, ast.Constant) and isinstance(template.value, str), (
                f"{module}:{call.lineno}: py() needs a string literal as its template"
            )


def test_only_codegen_makes_fragments_from_strings() -> None:
    for path in (ROOT / "sbm_engine").rglob("*.py"):
        if path.name == "codegen.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert not list(_calls(tree, "Py")), f"{path}: Py(...) outside codegen.py"


def test_fragments_refuse_plain_strings() -> None:
    with pytest.raises(TypeError):
        py("{} = 1", "s0")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        codegen.Emitter().line("x = 1")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ident("__import__", 0)
    with pytest.raises(ValueError):
        codegen.join([ident("s", 0)], "; import os; ")
    assert py("{} = {}", ident("s", 0), ident("K", 3)) == Py("s0 = K3")


# ---- arbitrary text in every string --------------------------------------------------

#: Text that has tried to become code: line breaks of every kind, quotes, backslashes,
#: `#`, indentation, braces (str.format), and any other character.
HOSTILE = st.lists(
    st.one_of(
        st.sampled_from(["\n", '"', "'", "\\", "#", "    ", "\t", "{", "}", "\u2028", "\x0b"]),
        st.sampled_from(["\x0c", "\x85", "\u2029", ")", "(", ":", "import os", "__", "{0}"]),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"),
    ),
    max_size=8,
).map("".join)
#: Identifiers (names, tags, fields, band labels) in any script; `ж` keeps them off keywords.
WORD = st.text(st.characters(whitelist_categories=("Lu", "Ll", "Lo", "Nd")), max_size=8).map(
    lambda s: "ж" + s
)

STRING_SLOTS = [
    "version",
    "title",
    "sec_title",
    "a_title",
    "b_title",
    "c_title",
    "d_title",
    "field_title",
    "choice0",
    "choice1",
    "label0",
    "label1",
    "alias",
    "coef_title",
    "roll_title",
    "example",
    "text",
    "lib_version",
]
NAME_SLOTS = ["field", "sec", "a", "b", "c", "d", "tag", "coef", "roll", "band0", "band1"]


def _main(s: dict[str, str], w: dict[str, str], lib: str) -> str:
    return f"""import {s["import"]}
standard p.main {s["title"]} {{
    version {s["version"]}
    field {w["field"]} {s["field_title"]} one of {{ {s["choice0"]}, {s["choice1"]} }}
    scale yn {{ {s["label0"]} = 1 alias {s["alias"]}, {s["label1"]} = 0 }}
    section {w["sec"]} {s["sec_title"]} {{
        item {w["a"]} {s["a_title"]} answer yn tags {w["tag"]} critical
        item {w["b"]} {s["b_title"]} answer number 0..10 tags {w["tag"]}
            when visit.{w["field"]} == {s["choice0"]}
    }}
    item {w["c"]} {s["c_title"]} answer text optional
    coefficient {w["coef"]} {s["coef_title"]} = weighted_mean(tagged {w["tag"]})
    rollup {w["roll"]} {s["roll_title"]} = avg({w["coef"]})
    target {w["coef"]} 0.8
    bands {w["coef"]} {{ {w["band0"]} >= 0.5, {w["band1"]} }}
    example {s["example"]} {{
        visit {{ {w["field"]} = {s["choice0"]} }}
        answers {{ {w["a"]} = {s["label0"]}, {w["b"]} = 10, {w["c"]} = {s["text"]},
                   {w["d"]} = yes }}
        expect {w["coef"]} == 1
    }}
}}
"""


def _lib(s: dict[str, str], w: dict[str, str]) -> str:
    return f"""standard p.lib {{
    version {s["lib_version"]}
    item {w["d"]} {s["d_title"]} answer {{ yes = 1, no = 0 }}
}}
"""


def _build(folder: Path, texts: dict[str, str], words: dict[str, str], file_name: str) -> str:
    """Write the two files with these strings; return the main file's path."""
    s = {k: quote(v) for k, v in texts.items()}
    s["import"] = quote(file_name)
    (folder / file_name).write_text(_lib(s, words), encoding="utf-8")
    main = folder / "main.sbm"
    main.write_text(_main(s, words, file_name), encoding="utf-8")
    return str(main)


_AUDITED = threading.local()
_EVENTS: list[str] = []


def _audit(event: str, args: object) -> None:
    if getattr(_AUDITED, "on", False) and event.split(".")[0] in {
        "open", "os", "subprocess", "exec", "compile", "import", "shutil", "socket", "ctypes",
    }:  # fmt: skip
        _EVENTS.append(event)


sys.addaudithook(_audit)


@contextmanager
def _audited() -> Iterator[list[str]]:
    _EVENTS.clear()
    _AUDITED.on = True
    try:
        yield _EVENTS
    finally:
        _AUDITED.on = False


def _distinct(values: list[str], prefix: str) -> list[str]:
    """One per slot, never equal to another after case folding (labels are matched so)."""
    return [f"{prefix}{i}_{v}" for i, v in enumerate(values)]


@given(
    texts=st.lists(HOSTILE, min_size=len(STRING_SLOTS), max_size=len(STRING_SLOTS)),
    words=st.lists(WORD, min_size=len(NAME_SLOTS), max_size=len(NAME_SLOTS)),
    file_text=HOSTILE,
)
def test_property_no_text_of_a_standard_reaches_generated_code(
    texts: list[str], words: list[str], file_text: str
) -> None:
    plain_texts = dict(zip(STRING_SLOTS, _distinct(["x"] * len(STRING_SLOTS), "p"), strict=True))
    hostile_texts = dict(zip(STRING_SLOTS, _distinct(texts, "p"), strict=True))
    plain_words = dict(zip(NAME_SLOTS, _distinct(["x"] * len(NAME_SLOTS), "ж"), strict=True))
    hostile_words = dict(zip(NAME_SLOTS, _distinct(words, "ж"), strict=True))
    file_name = "f" + file_text.replace("/", "_")[:40] + ".sbm"
    with tempfile.TemporaryDirectory() as plain_dir, tempfile.TemporaryDirectory() as bad_dir:
        plain = sbm_engine.load(_build(Path(plain_dir), plain_texts, plain_words, "lib.sbm"))
        bad = sbm_engine.load(_build(Path(bad_dir), hostile_texts, hostile_words, file_name))
        assert bad.python_source == plain.python_source
        assert ast.dump(ast.parse(bad.python_source)) == ast.dump(ast.parse(plain.python_source))
        assert bad.version == hostile_texts["version"]
        w = hostile_words
        record = {
            "visit_id": "v1",
            w["field"]: hostile_texts["choice0"],
            "answers": {
                w["a"]: hostile_texts["label0"],
                w["b"]: 10,
                w["c"]: hostile_texts["text"],
                w["d"]: "yes",
            },
        }
        with _audited() as events:
            result = bad.score(record)
            examples = bad.run_examples()
        assert events == []
        assert result.ok, result
        assert result.coefficients[w["coef"]] == 1.0
        assert result.bands[w["coef"]] == w["band0"]
        assert all(outcome.passed for outcome in examples), examples


def test_generated_code_sees_no_builtin_that_reaches_outside() -> None:
    std = sbm_engine.loads(_rce_standard("1"))
    names = std._evaluate.__globals__
    builtins = names["__builtins__"]
    for dangerous in (
        "__import__",
        "open",
        "eval",
        "exec",
        "getattr",
        "globals",
        "vars",
        "compile",
    ):
        assert dangerous not in builtins and dangerous not in names
    # What it can call are the runtime's functions and a few constructors; the way from a
    # function back to real builtins is an attribute (`__globals__`), which it cannot read.
    with pytest.raises(UnsafeSource):
        compile_checked(GOOD.format("scale_score.__globals__"), list(names), "<t>")


def test_the_namespace_has_plain_str_names() -> None:
    """A global namespace keyed by a str subclass (`Py`) defeats CPython's specialised
    global lookups, which makes every visit about a third slower."""
    std = sbm_engine.load(ROOT / "tests/conformance/demo_branch.sbm")
    assert all(type(name) is str for name in std._evaluate.__globals__)
