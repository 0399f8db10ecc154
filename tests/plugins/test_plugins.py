"""Contract tests of the plugin layer (`sbm_engine.plugins`, `hookspecs`, `testing`).

Why these tests are shaped as they are: the hook specifications are the contract
with pack authors, so every hook gets a test that registers a plugin implementing
it and observes the effect through the engine's public API, and a test checks
that its signature is documented in docs/plugins.md word for word. Every test
builds its own plugin manager (`using_plugins`, installed packs left out), so the
results do not depend on which packs happen to be installed and no state leaks.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import textwrap
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pluggy
import pytest

import sbm_engine
from sbm_engine import hookspecs, plugins
from sbm_engine.diagnostics import CompileError
from sbm_engine.functions import FunctionSpec
from sbm_engine.hookspecs import hookimpl
from sbm_engine.plugins import PluginError, using_plugins
from sbm_engine.runtime import VisitError

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "plugins.md"
TEMPLATE = ROOT / "plugins" / "template"


# ---- helpers ----------------------------------------------------------------------------------


def make_plugin(name: str = "acme", **hooks: Callable[..., Any]) -> types.ModuleType:
    """A plugin module whose attributes are the given hook implementations."""
    module = types.ModuleType(f"test_plugin_{name}")
    for hook_name, fn in hooks.items():
        setattr(module, hook_name, hookimpl(fn))
    return module


def write_standard(folder: Path, sid: str, body: str = "", file: str | None = None) -> Path:
    """A small standard with one example, `sid` its id, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (file or f"{sid.replace('.', '_')}.sbm")
    path.write_text(
        textwrap.dedent(f"""\
        standard {sid} "Тест" {{
            industry "acme"
            scale yes_no {{ yes = 1 alias "да", no = 0 alias "нет" }}
            item greeted "Поздоровался" answer yes_no
            coefficient visit = weighted_mean(items)
            {body}
            example "greeted" {{
                answers {{ greeted = yes }}
                expect visit == 1
            }}
        }}
        """),
        encoding="utf-8",
    )
    return path


def standards_plugin(folder: Path, name: str = "acme") -> types.ModuleType:
    return make_plugin(name, sbm_standards=lambda: [folder])


def signature_text(fn: Callable[..., Any]) -> str:
    """`def name(arg: Type) -> Result:` as written in hookspecs.py (annotations are
    strings there, `from __future__ import annotations`)."""
    sig = inspect.signature(fn)
    params = ", ".join(
        p.name if p.annotation is inspect.Parameter.empty else f"{p.name}: {p.annotation}"
        for p in sig.parameters.values()
    )
    return f"def {fn.__name__}({params}) -> {sig.return_annotation}:"


HOOKS = [getattr(hookspecs, name) for name in plugins.hook_names()]


# ---- the contract: every hook is documented and has an effect ---------------------------------


def test_the_hook_list_is_the_hookspecs_module() -> None:
    specs = {
        name for name, obj in vars(hookspecs).items() if callable(obj) and hasattr(obj, "sbm_spec")
    }
    assert set(plugins.hook_names()) == specs
    assert specs == {
        "sbm_standards",
        "sbm_functions",
        "sbm_visit_validators",
        "sbm_readers",
        "sbm_writers",
    }


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h.__name__)
def test_every_hook_signature_is_in_the_guide(hook: Callable[..., Any]) -> None:
    text = signature_text(hook)
    source_line = inspect.getsource(hook).splitlines()[1]  # after `@hookspec`
    assert source_line == text  # the check below compares what the source says
    assert text in DOCS.read_text(encoding="utf-8"), f"docs/plugins.md lacks `{text}`"


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h.__name__)
def test_every_hook_has_a_section_in_the_guide(hook: Callable[..., Any]) -> None:
    assert f"### {hook.__name__}\n" in DOCS.read_text(encoding="utf-8")


def test_every_hook_has_an_effect_test() -> None:
    tested = {
        name.removeprefix("test_hook_") for name in globals() if name.startswith("test_hook_")
    }
    assert {h.__name__ for h in HOOKS} <= {f"sbm_{t.split('__')[0]}" for t in tested}


def test_the_guide_covers_specs_fixtures_and_variables() -> None:
    guide = DOCS.read_text(encoding="utf-8")
    for field in attrs.fields(FunctionSpec):
        assert f"| `{field.name}` |" in guide, field.name
    from sbm_engine import testing

    for fixture in testing.__all__:
        assert f"`{fixture}`" in guide, fixture
    for needle in (
        "SBM_TRACE",
        "SBM_DISABLE_PLUGINS",
        "[project.entry-points.sbm]",
        "plugins/template",
        "override(",
        "na_aware",
    ):
        assert needle in guide, needle


# ---- sbm_standards ----------------------------------------------------------------------------


def test_hook_standards__loadable_by_id(tmp_path: Path) -> None:
    write_standard(tmp_path / "pack", "acme.visit")
    with using_plugins(acme=standards_plugin(tmp_path / "pack")):
        assert plugins.standard_provider()["acme.visit"] == tmp_path / "pack" / "acme_visit.sbm"
        std = sbm_engine.load("acme.visit")
        assert std.id == "acme.visit"
        assert all(o.passed for o in std.run_examples())
        row = next(r for r in plugins.describe_plugins() if r["name"] == "acme")
        assert row["standards"] == ["acme.visit"]
        assert row["hooks"] == ["sbm_standards"]
    with pytest.raises(FileNotFoundError, match=r"no standard `acme\.visit`"):
        sbm_engine.load("acme.visit")  # gone with the plugin


def test_hook_standards__single_files_and_nested_folders(tmp_path: Path) -> None:
    one = write_standard(tmp_path / "a", "acme.one")
    write_standard(tmp_path / "b" / "deep" / "er", "acme.two")
    plugin = make_plugin(sbm_standards=lambda: [one, str(tmp_path / "b"), one])
    with using_plugins(acme=plugin):
        assert {"acme.one", "acme.two"} <= set(plugins.standard_provider())


def test_hook_standards__may_extend_a_shipped_standard(tmp_path: Path) -> None:
    write_standard(tmp_path / "pack", "acme.base")
    (tmp_path / "mine.sbm").write_text(
        textwrap.dedent("""\
        standard acme.mine extends acme.base {
            item smiled "Улыбнулся" answer yes_no
        }
        """),
        encoding="utf-8",
    )
    with using_plugins(acme=standards_plugin(tmp_path / "pack")):
        std = sbm_engine.load(tmp_path / "mine.sbm")
    assert std.item_names == ("greeted", "smiled")


def test_one_standard_id_in_two_plugins_is_an_error(tmp_path: Path) -> None:
    write_standard(tmp_path / "a", "shared.visit")
    write_standard(tmp_path / "b", "shared.visit")
    with (
        using_plugins(
            first=standards_plugin(tmp_path / "a"), second=standards_plugin(tmp_path / "b")
        ),
        pytest.raises(PluginError) as err,
    ):
        sbm_engine.load("shared.visit")
    message = str(err.value)
    assert "`shared.visit`" in message
    assert "'first'" in message and "'second'" in message
    assert "SBM_DISABLE_PLUGINS=second" in message


def test_a_pack_may_not_reuse_a_library_id(tmp_path: Path) -> None:
    with using_plugins():
        library_ids = list(plugins.standard_provider())
    if not library_ids:
        pytest.skip("the standards library is empty")
    sid = library_ids[0]
    write_standard(tmp_path, sid)
    with (
        using_plugins(acme=standards_plugin(tmp_path)),
        pytest.raises(PluginError, match="'builtin'"),
    ):
        plugins.standard_provider()


def test_a_missing_standards_folder_is_an_error(tmp_path: Path) -> None:
    with (
        using_plugins(acme=standards_plugin(tmp_path / "nowhere")),
        pytest.raises(PluginError, match=r"plugin 'acme': sbm_standards returned .*nowhere"),
    ):
        plugins.standard_provider()


# ---- sbm_functions ----------------------------------------------------------------------------

FUNCTION_STANDARD = """\
standard acme.fn {
    scale yes_no { yes = 1, no = 0 }
    item wait "Ожидание, минут" answer number 0..60 optional
    item greeted "Поздоровался" answer yes_no
    coefficient speed = halve(answer(wait), "min")
    coefficient visit = weighted_mean(items)
}
"""


class Recorder:
    """A plugin function that records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, x: float, unit: str) -> float:
        self.calls.append((x, unit))
        return x / 2


def function_plugin(
    fn: Callable[..., Any],
    name: str = "halve",
    na_aware: bool = False,
    params: tuple[str, ...] = ("num", "str"),
    returns: str = "num",
) -> types.ModuleType:
    spec = FunctionSpec(name, params, returns, fn, na_aware=na_aware)  # type: ignore[arg-type]
    return make_plugin(sbm_functions=lambda: [spec])


def test_hook_functions__checked_and_called_in_scoring() -> None:
    halve = Recorder()
    with using_plugins(acme=function_plugin(halve)):
        std = sbm_engine.loads(FUNCTION_STANDARD)
        result = std.score({"visit_id": "v1", "answers": {"wait": 10, "greeted": "yes"}})
        spec = plugins.function_registry().get("halve")
    assert result.ok, result
    assert result.coefficients["speed"] == 5
    assert halve.calls == [(10, "min")]
    assert spec is not None and spec.plugin == "acme"


def test_hook_functions__na_short_circuits() -> None:
    halve = Recorder()
    with using_plugins(acme=function_plugin(halve)):
        std = sbm_engine.loads(FUNCTION_STANDARD)
        result = std.score({"visit_id": "v1", "answers": {"greeted": "yes"}})  # wait: N/A
    assert result.ok, result
    assert result.coefficients["speed"] is None
    assert halve.calls == []


def test_hook_functions__na_aware_functions_see_none() -> None:
    seen: list[Any] = []

    def halve(x: float | None, unit: str) -> float:
        seen.append(x)
        return 0.0 if x is None else x / 2

    with using_plugins(acme=function_plugin(halve, na_aware=True)):
        std = sbm_engine.loads(FUNCTION_STANDARD)
        result = std.score({"visit_id": "v1", "answers": {"greeted": "yes"}})
    assert result.coefficients["speed"] == 0.0
    assert seen == [None]


def test_hook_functions__wrong_argument_types_are_rejected() -> None:
    with using_plugins(acme=function_plugin(Recorder())), pytest.raises(CompileError) as err:
        sbm_engine.loads(FUNCTION_STANDARD.replace('"min"', "3"))
    rendered = err.value.render()
    assert "expected a text, found a number" in rendered
    assert "<string>:5:" in rendered


def test_hook_functions__unknown_without_the_plugin() -> None:
    with using_plugins(), pytest.raises(CompileError, match="unknown function `halve`"):
        sbm_engine.loads(FUNCTION_STANDARD)


def test_hook_functions__result_type_is_enforced() -> None:
    text = FUNCTION_STANDARD.replace(
        'coefficient speed = halve(answer(wait), "min")',
        'coefficient speed = if halve(answer(wait), "min") then 1 else 0',
    )
    with using_plugins(acme=function_plugin(Recorder())), pytest.raises(CompileError):
        sbm_engine.loads(text)


def test_one_function_in_two_plugins_is_an_error() -> None:
    with (
        using_plugins(first=function_plugin(Recorder()), second=function_plugin(Recorder())),
        pytest.raises(PluginError) as err,
    ):
        sbm_engine.loads(FUNCTION_STANDARD)
    assert "`halve` is declared by both plugin 'first' and plugin 'second'" in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "mean"}, "taken by the language"),
        ({"name": "if"}, "taken by the language"),
        ({"name": "two words"}, "must be an identifier"),
        ({"params": ("number", "str")}, "'number' is not one of num, bool, str"),
        ({"returns": "float"}, "'float' is not one of"),
        ({"params": ("num",)}, "cannot take 1 argument"),
    ],
)
def test_bad_function_declarations_are_errors(kwargs: dict[str, Any], message: str) -> None:
    with (
        using_plugins(acme=function_plugin(Recorder(), **kwargs)),
        pytest.raises(PluginError, match=rf"plugin 'acme': function .*{message}"),
    ):
        plugins.function_registry()


def test_sbm_functions_must_return_specs() -> None:
    with (
        using_plugins(acme=make_plugin(sbm_functions=lambda: ["halve"])),
        pytest.raises(PluginError, match="must return FunctionSpec objects"),
    ):
        plugins.function_registry()


def test_compiled_standards_are_not_shared_across_plugin_sets(tmp_path: Path) -> None:
    path = tmp_path / "fn.sbm"
    path.write_text(FUNCTION_STANDARD, encoding="utf-8")
    record = {"visit_id": "v1", "answers": {"wait": 10, "greeted": "yes"}}
    with using_plugins(acme=function_plugin(lambda x, unit: x / 2)):
        first = sbm_engine.load(path).score(record)
    with using_plugins(acme=function_plugin(lambda x, unit: x / 5)):
        second = sbm_engine.load(path).score(record)
    assert (first.coefficients["speed"], second.coefficients["speed"]) == (5, 2)


# ---- sbm_visit_validators ---------------------------------------------------------------------


def test_hook_visit_validators__reject_visits(tmp_path: Path) -> None:
    seen_models: list[Any] = []

    def validators(standard: Any) -> list[Any]:
        seen_models.append(standard.name)
        if standard.industry != "acme":
            return []

        def shopper_named(record: Any) -> list[VisitError]:
            if record.get("shopper"):
                return []
            return [VisitError("shopper", "missing_shopper", "name the shopper")]

        return [shopper_named]

    write_standard(tmp_path, "acme.visit")
    plugin = make_plugin(sbm_visit_validators=validators)
    with using_plugins(acme=plugin):
        std = sbm_engine.load(tmp_path / "acme_visit.sbm")
        bad = std.score({"visit_id": "v1", "answers": {"greeted": "yes"}})
        good = std.score({"visit_id": "v2", "shopper": "Ш-1", "answers": {"greeted": "yes"}})
        other = sbm_engine.loads(
            FUNCTION_STANDARD.replace('coefficient speed = halve(answer(wait), "min")', "")
        )
        unchecked = other.score({"visit_id": "v3", "answers": {"greeted": "yes"}})
    assert not bad.ok
    assert [(e.item, e.code) for e in bad.errors] == [("shopper", "missing_shopper")]
    assert good.ok and unchecked.ok
    assert seen_models == ["acme.visit", "acme.fn"]


def test_validators_are_combined_with_the_engines_errors(tmp_path: Path) -> None:
    write_standard(tmp_path, "acme.visit")
    plugin = make_plugin(
        sbm_visit_validators=lambda: [lambda record: [VisitError("visit_id", "acme", "always")]]
    )
    with using_plugins(acme=plugin):
        std = sbm_engine.load(tmp_path / "acme_visit.sbm")
        result = std.score({"visit_id": "v1", "answers": {"greeted": "maybe"}})
    assert {e.code for e in result.errors} >= {"acme"}
    assert len(result.errors) == 2


def test_a_failing_validator_rejects_the_visit_naming_the_plugin() -> None:
    def crash(record: Any) -> list[VisitError]:
        raise KeyError("shopper")

    def wrong(record: Any) -> list[str]:
        return ["not an error object"]

    plugin = make_plugin(sbm_visit_validators=lambda: [crash, wrong])
    with using_plugins(acme=plugin):
        validators = plugins.visit_validators(None)  # type: ignore[arg-type]
    errors = [e for v in validators for e in v({"visit_id": "v1"})]
    assert [e.code for e in errors] == ["validator_error", "validator_error"]
    assert "plugin 'acme' failed: KeyError" in errors[0].message
    assert "not a VisitError" in errors[1].message


def test_validators_must_be_callable() -> None:
    with (
        using_plugins(acme=make_plugin(sbm_visit_validators=lambda: ["x"])),
        pytest.raises(PluginError, match="not callable"),
    ):
        plugins.visit_validators(None)  # type: ignore[arg-type]


# ---- sbm_readers ------------------------------------------------------------------------------


def read_pipe(path: Any, visit_fields: Any = frozenset(), **options: Any) -> Iterator[Any]:
    """A test format: `visit_id|greeted` per line."""
    from sbm_engine.io import SourceRecord

    text = Path(path).read_text(encoding=options.get("encoding", "utf-8"))
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split("|")
        source = f"{path}:{number}"
        if len(parts) != 2:
            yield SourceRecord(source, None, line, "expected visit_id|greeted")
        else:
            yield SourceRecord(
                source,
                {
                    "visit_id": parts[0],
                    "answers": {"greeted": parts[1]},
                    "fields": sorted(visit_fields),
                    "options": options,
                },
                line,
            )


def test_hook_readers__add_an_extension(tmp_path: Path) -> None:
    from sbm_engine.io import ReadOptions

    data = tmp_path / "wave.PIPE"
    data.write_text("v1|yes\nbroken\n", encoding="cp1251")
    with using_plugins(acme=make_plugin(sbm_readers=lambda: {"PIPE": read_pipe})):
        assert plugins.readers()[".pipe"] is read_pipe
        io_reader = plugins.io_readers()[".pipe"]
        row = next(r for r in plugins.describe_plugins() if r["name"] == "acme")
    records = list(io_reader(data, ReadOptions(visit_fields={"branch"}, encoding="cp1251")))
    assert records[0].record == {
        "visit_id": "v1",
        "answers": {"greeted": "yes"},
        "fields": ["branch"],
        "options": {"encoding": "cp1251"},
    }
    assert records[1].record is None and records[1].error == "expected visit_id|greeted"
    assert row["readers"] == [".pipe"]


def test_builtin_readers_are_offered_in_the_hook_convention(tmp_path: Path) -> None:
    data = tmp_path / "wave.jsonl"
    data.write_text('{"visit_id": "v1", "answers": {"greeted": "yes"}}\n', encoding="utf-8")
    with using_plugins():
        reader = plugins.readers()[".jsonl"]
        io_reader = plugins.io_readers()[".jsonl"]
    from sbm_engine.io.readers import READERS

    assert io_reader is READERS[".jsonl"]  # no double wrapping
    [record] = list(reader(data, visit_fields=()))
    assert record.record["visit_id"] == "v1"


def test_replacing_a_builtin_reader_needs_override() -> None:
    with (
        using_plugins(acme=make_plugin(sbm_readers=lambda: {".csv": read_pipe})),
        pytest.raises(
            PluginError,
            match=r"plugin 'acme' provides a reader for `\.csv`.*"
            r"override",
        ),
    ):
        plugins.readers()

    def read_csv(path: Any, visit_fields: Any = (), **options: Any) -> Iterator[Any]:
        return read_pipe(path, visit_fields, **options)

    with using_plugins(acme=make_plugin(sbm_readers=lambda: {".csv": plugins.override(read_csv)})):
        assert plugins.readers()[".csv"] is read_csv
        row = next(r for r in plugins.describe_plugins() if r["name"] == "builtin")
    assert ".csv" not in row["readers"] and ".jsonl" in row["readers"]


def test_one_extension_in_two_plugins_is_an_error() -> None:
    with (
        using_plugins(
            first=make_plugin(sbm_readers=lambda: {".pipe": read_pipe}),
            second=make_plugin(sbm_readers=lambda: {".pipe": read_pipe}),
        ),
        pytest.raises(PluginError, match="both plugin 'first' and plugin 'second'"),
    ):
        plugins.readers()


def test_readers_must_be_a_mapping_of_callables() -> None:
    with (
        using_plugins(acme=make_plugin(sbm_readers=lambda: [read_pipe])),
        pytest.raises(PluginError, match="must return a mapping"),
    ):
        plugins.readers()
    with (
        using_plugins(acme=make_plugin(sbm_readers=lambda: {".x": "read"})),
        pytest.raises(PluginError, match="not callable"),
    ):
        plugins.readers()


# ---- sbm_writers ------------------------------------------------------------------------------


def pipe_writer() -> type:
    from sbm_engine.io import Writer

    class PipeWriter(Writer):
        extension = ".pipe"

        def _begin(self, stream: Any) -> None:
            self._stream = stream

        def _write(self, record: Any) -> None:
            self._stream.write(f"{record['visit_id']}|{record['visit']}\n".encode())

        def _finish(self) -> None:
            pass

    return PipeWriter


def test_hook_writers__add_an_extension(tmp_path: Path) -> None:
    writer = pipe_writer()
    with using_plugins(acme=make_plugin(sbm_writers=lambda: {".pipe": writer})):
        table = plugins.writers()
        row = next(r for r in plugins.describe_plugins() if r["name"] == "acme")
    assert table[".pipe"] is writer and ".jsonl" in table
    assert row["writers"] == [".pipe"]
    out = tmp_path / "scored.pipe"
    with table[".pipe"](out, columns=None) as w:
        w.write({"visit_id": "v1", "visit": 0.5})
        assert not out.exists()  # whole or not at all
    assert out.read_text() == "v1|0.5\n"


def test_replacing_a_builtin_writer_needs_override() -> None:
    writer = pipe_writer()
    with (
        using_plugins(acme=make_plugin(sbm_writers=lambda: {".jsonl": writer})),
        pytest.raises(PluginError, match=r"writer for `\.jsonl`"),
    ):
        plugins.writers()
    marked = plugins.override(pipe_writer())
    with using_plugins(acme=make_plugin(sbm_writers=lambda: {".jsonl": marked})):
        assert plugins.writers()[".jsonl"] is marked


def test_override_marks_are_not_inherited() -> None:
    base = plugins.override(pipe_writer())
    child = type("Child", (base,), {})
    with (
        using_plugins(acme=make_plugin(sbm_writers=lambda: {".jsonl": child})),
        pytest.raises(PluginError),
    ):
        plugins.writers()


# ---- discovery, checks and environment --------------------------------------------------------


def test_a_misspelt_hook_fails_at_start_up_naming_the_plugin() -> None:
    typo = make_plugin(sbm_standard=lambda: [])
    with pytest.raises(PluginError) as err:
        plugins.make_plugin_manager(entrypoints=False, typo=typo)
    message = str(err.value)
    assert "plugin 'typo'" in message
    assert "`sbm_standard`, which is not an sbm hook; did you mean `sbm_standards`?" in message
    assert "the sbm hooks are: sbm_functions, sbm_readers" in message


def test_a_wrong_hook_argument_fails_naming_the_plugin() -> None:
    plugin = make_plugin(sbm_visit_validators=lambda model: [])
    with pytest.raises(
        PluginError, match=r"(?s)plugin 'acme' does not fit the sbm contract.*model"
    ):
        plugins.make_plugin_manager(entrypoints=False, acme=plugin)


def test_plain_functions_named_like_hooks_are_ignored() -> None:
    module = types.ModuleType("plain")
    module.sbm_standard = lambda: []  # type: ignore[attr-defined]  # no @hookimpl: not a hook
    plugins.make_plugin_manager(entrypoints=False, plain=module)


def test_a_hook_that_raises_is_named() -> None:
    def broken() -> list[Path]:
        raise OSError("disk on fire")

    with (
        using_plugins(acme=make_plugin(sbm_standards=broken)),
        pytest.raises(
            PluginError, match="plugin 'acme': hook sbm_standards failed: OSError: disk on fire"
        ),
    ):
        plugins.standard_provider()


def test_disable_plugins_blocks_named_plugins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_standard(tmp_path, "acme.visit")
    monkeypatch.setenv("SBM_DISABLE_PLUGINS", " other , acme,")
    with using_plugins(acme=standards_plugin(tmp_path)) as pm:
        assert pm.is_blocked("acme") and pm.get_plugin("acme") is None
        assert "acme.visit" not in plugins.standard_provider()
        with pytest.raises(FileNotFoundError):
            sbm_engine.load("acme.visit")
        rows = {r["name"]: r for r in plugins.describe_plugins()}
    assert rows["acme"]["disabled"] is True
    assert "disabled" in plugins.format_plugins_table(rows.values())


def test_disable_plugins_can_block_the_builtin_plugin() -> None:
    pm = plugins.make_plugin_manager(entrypoints=False, environ={"SBM_DISABLE_PLUGINS": "builtin"})
    assert pm.get_plugin(plugins.BUILTIN_NAME) is None
    with plugins.using_manager(pm):
        assert plugins.readers() == {}


def test_isolated_managers_ignore_disabled_names_they_do_not_hold() -> None:
    pm = plugins.make_plugin_manager(
        entrypoints=False, acme=make_plugin(), environ={"SBM_DISABLE_PLUGINS": "*,bank,acme"}
    )
    assert [name for name, _ in pm.list_name_plugin()] == ["acme", "builtin"]
    assert pm.is_blocked("acme") and not pm.is_blocked("bank")


def test_disabled_plugins_parsing() -> None:
    assert plugins.disabled_plugins({"SBM_DISABLE_PLUGINS": "bank,salon"}) == ["bank", "salon"]
    assert plugins.disabled_plugins({"SBM_DISABLE_PLUGINS": " bank,,bank "}) == ["bank"]
    assert plugins.disabled_plugins({}) == []


def test_trace_writes_hook_calls_to_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SBM_TRACE", "1")
    with using_plugins(acme=function_plugin(Recorder())):
        plugins.function_registry()
    err = capsys.readouterr().err
    assert "sbm_functions [hook]" in err
    assert "finish sbm_functions -->" in err and "halve" in err


@pytest.mark.parametrize("value", ["", "0", "false", "off"])
def test_trace_is_off_by_default(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SBM_TRACE", value)
    with using_plugins(acme=function_plugin(Recorder())):
        plugins.function_registry()
    assert capsys.readouterr().err == ""


def test_the_manager_is_built_once_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[pluggy.PluginManager] = []

    def slow_build() -> pluggy.PluginManager:
        time.sleep(0.05)
        pm = pluggy.PluginManager("sbm")
        built.append(pm)
        return pm

    monkeypatch.setattr(plugins, "_active", None)
    monkeypatch.setattr(plugins, "make_plugin_manager", slow_build)
    got: list[pluggy.PluginManager] = []
    threads = [
        threading.Thread(target=lambda: got.append(plugins.get_plugin_manager())) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1
    assert all(pm is built[0] for pm in got) and len(got) == 8
    generation = plugins.generation()
    plugins.reset_plugin_manager()
    assert plugins.get_plugin_manager() is built[1]
    assert plugins.generation() != generation


def test_using_plugins_restores_the_previous_manager() -> None:
    with using_plugins() as before:
        generation = plugins.generation()
        with using_plugins() as outer:
            assert plugins.get_plugin_manager() is outer
            with pytest.raises(RuntimeError), using_plugins() as inner:
                assert plugins.get_plugin_manager() is inner
                raise RuntimeError
            assert plugins.get_plugin_manager() is outer
            assert plugins.generation() != generation
        assert plugins.get_plugin_manager() is before
        assert plugins.generation() == generation


def test_the_builtin_plugin_is_registered_like_any_other() -> None:
    with using_plugins() as pm:
        rows = plugins.describe_plugins()
    assert pm.get_plugin("builtin") is importlib.import_module("sbm_engine.builtin_plugin")
    [row] = rows
    assert row["name"] == "builtin" and row["distribution"] == "sbm-engine"
    assert row["version"] == sbm_engine.__version__
    assert row["hooks"] == ["sbm_readers", "sbm_standards", "sbm_writers"]
    assert {".jsonl", ".csv", ".xlsx", ".parquet"} <= set(row["readers"])


# ---- installed distributions (entry points) ---------------------------------------------------


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Install fake distributions: a `.dist-info` with an `sbm` entry point and a module."""
    monkeypatch.syspath_prepend(str(tmp_path))
    modules: list[str] = []

    def install(dist: str, version: str, ep_name: str, module: str, code: str) -> None:
        info = tmp_path / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(f"[sbm]\n{ep_name} = {module}\n", encoding="utf-8")
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(code), encoding="utf-8")
        modules.append(module)
        importlib.invalidate_caches()

    yield install  # type: ignore[misc]
    for module in modules:
        sys.modules.pop(module, None)


def _others_disabled(*keep: str) -> dict[str, str]:
    """An environment that disables every installed pack but `keep`, so that these
    tests do not depend on what else is installed."""
    names = {ep.name for ep, _ in plugins._entry_points()} - set(keep)
    return {"SBM_DISABLE_PLUGINS": ",".join(sorted(names))}


PACK_CODE = """\
from sbm_engine.functions import FunctionSpec
from sbm_engine.hookspecs import hookimpl

@hookimpl
def sbm_functions():
    return [FunctionSpec("fake_double", ("num",), "num", lambda x: 2 * x)]
"""


def test_installed_packs_are_found_through_entry_points(site: Callable[..., None]) -> None:
    site("sbm-fakepack", "1.2.3", "fakepack", "sbm_fakepack_plugin", PACK_CODE)
    pm = plugins.make_plugin_manager(environ=_others_disabled("fakepack"))
    with plugins.using_manager(pm):
        rows = {r["name"]: r for r in plugins.describe_plugins()}
        spec = plugins.function_registry().get("fake_double")
        table = plugins.format_plugins_table(rows.values())
    assert rows["fakepack"]["distribution"] == "sbm-fakepack"
    assert rows["fakepack"]["version"] == "1.2.3"
    assert rows["fakepack"]["module"] == "sbm_fakepack_plugin"
    assert rows["fakepack"]["functions"] == ["fake_double"]
    assert spec is not None and spec.plugin == "fakepack"
    assert ["fakepack", "sbm-fakepack", "1.2.3", "functions", "-"] in [
        line.split() for line in table.splitlines()
    ]


def test_a_pack_that_fails_to_import_is_named(site: Callable[..., None]) -> None:
    site(
        "sbm-brokenpack",
        "0.1",
        "brokenpack",
        "sbm_brokenpack_plugin",
        "import no_such_module_anywhere\n",
    )
    with pytest.raises(PluginError) as err:
        plugins.make_plugin_manager(environ=_others_disabled("brokenpack"))
    message = str(err.value)
    assert "plugin 'brokenpack' (sbm_brokenpack_plugin, from sbm-brokenpack 0.1)" in message
    assert "no_such_module_anywhere" in message
    assert "SBM_DISABLE_PLUGINS=brokenpack" in message
    # ... and disabling it is the way out
    plugins.make_plugin_manager(environ=_others_disabled())


def test_a_misspelt_hook_in_an_installed_pack_is_named(site: Callable[..., None]) -> None:
    site(
        "sbm-typopack",
        "0.1",
        "typopack",
        "sbm_typopack_plugin",
        "from sbm_engine.hookspecs import hookimpl\n\n"
        "@hookimpl\ndef sbm_function():\n    return []\n",
    )
    with pytest.raises(
        PluginError,
        match=r"plugin 'typopack' \(sbm_typopack_plugin\) "
        r"implements `sbm_function`.*`sbm_functions`",
    ):
        plugins.make_plugin_manager(environ=_others_disabled("typopack"))


def test_disable_plugins_star_blocks_every_installed_pack(site: Callable[..., None]) -> None:
    site("sbm-fakepack", "1.2.3", "fakepack", "sbm_fakepack_plugin", PACK_CODE)
    pm = plugins.make_plugin_manager(environ={"SBM_DISABLE_PLUGINS": "*"})
    assert [name for name, plugin in pm.list_name_plugin() if plugin is not None] == ["builtin"]
    with plugins.using_manager(pm):
        rows = {r["name"]: r for r in plugins.describe_plugins()}
    assert rows["fakepack"]["disabled"] is True
    assert rows["fakepack"]["distribution"] == "sbm-fakepack"
    assert next(iter(rows)) == "builtin"  # active plugins first, disabled ones after


def test_two_distributions_with_one_plugin_name_is_an_error(site: Callable[..., None]) -> None:
    site("sbm-twin-a", "1.0", "twin", "sbm_twin_a_plugin", PACK_CODE)
    site("sbm-twin-b", "1.0", "twin", "sbm_twin_b_plugin", PACK_CODE)
    with pytest.raises(PluginError, match="two distributions declare the sbm plugin 'twin'"):
        plugins.make_plugin_manager(environ=_others_disabled("twin"))


def test_the_packs_found_are_kept_until_an_install_changes(
    site: Callable[..., None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan of installed distributions is kept in the cache folder; installing,
    editing and removing a distribution are each seen by the next manager."""
    monkeypatch.setenv("SBM_CACHE_DIR", str(tmp_path / "cache"))
    names = lambda: {d.name for d in plugins._declared()}  # noqa: E731
    before = names()
    assert list((tmp_path / "cache").glob("entry-points-*"))  # kept
    assert names() == before
    site("sbm-fakepack", "1.2.3", "fakepack", "sbm_fakepack_plugin", PACK_CODE)
    assert names() == before | {"fakepack"}
    info = tmp_path / "sbm_fakepack-1.2.3.dist-info"
    (info / "entry_points.txt").write_text("[sbm]\nrenamed = sbm_fakepack_plugin\n")
    assert names() == before | {"renamed"}
    pm = plugins.make_plugin_manager(environ=_others_disabled("renamed"))
    with plugins.using_manager(pm):
        rows = {r["name"]: r for r in plugins.describe_plugins()}
    assert (rows["renamed"]["distribution"], rows["renamed"]["version"]) == (
        "sbm-fakepack",
        "1.2.3",
    )
    for item in info.iterdir():
        item.unlink()
    info.rmdir()
    assert names() == before


def test_distributions_found_elsewhere_are_scanned_every_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An import hook that finds distributions of its own turns the cache off; the
    `importlib_metadata` backport's finder, which reads `sys.path` too, does not."""

    class MetadataPathFinder:
        def find_distributions(self, context: object = None) -> list[object]:
            return []

    class Bundled(MetadataPathFinder):
        pass

    MetadataPathFinder.__module__ = "importlib_metadata"
    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, MetadataPathFinder()])
    assert plugins._installations() is not None
    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Bundled()])
    assert plugins._installations() is None


def test_a_zip_on_the_path_is_scanned_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Distributions inside a zip file on `sys.path` change without a folder to watch."""
    (tmp_path / "bundle.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    monkeypatch.syspath_prepend(str(tmp_path / "bundle.zip"))
    assert plugins._installations() is None


# ---- describe and the table ------------------------------------------------------------------


def test_describe_plugins_lists_everything_a_plugin_adds(tmp_path: Path) -> None:
    write_standard(tmp_path, "acme.visit")
    plugin = make_plugin(
        sbm_standards=lambda: [tmp_path],
        sbm_functions=lambda: [FunctionSpec("halve", ("num", "str"), "num", Recorder())],
        sbm_visit_validators=lambda: [],
    )
    with using_plugins(acme=plugin):
        rows = plugins.describe_plugins()
        text = plugins.format_plugins_table(rows)
    assert [r["name"] for r in rows] == ["builtin", "acme"]
    acme = rows[1]
    assert acme == {
        "name": "acme",
        "distribution": None,
        "version": None,
        "module": "test_plugin_acme",
        "disabled": False,
        "hooks": ["sbm_functions", "sbm_standards", "sbm_visit_validators"],
        "standards": ["acme.visit"],
        "functions": ["halve"],
        "readers": [],
        "writers": [],
    }
    lines = text.splitlines()
    assert lines[0].split() == ["plugin", "distribution", "version", "hooks", "standards"]
    assert lines[2].split() == [
        "acme",
        "-",
        "-",
        "functions,",
        "standards,",
        "visit_validators",
        "acme.visit",
    ]
    hooks_column = lines[0].index("hooks")
    assert lines[1][hooks_column:].startswith("readers, standards, writers")
    assert lines[2][hooks_column:].startswith("functions, standards, visit_validators")


def test_format_plugins_table_without_plugins() -> None:
    assert plugins.format_plugins_table([]) == "no sbm plugins are installed"


def test_describe_plugins_is_json_ready(tmp_path: Path) -> None:
    import json

    write_standard(tmp_path, "acme.visit")
    with using_plugins(acme=standards_plugin(tmp_path)):
        rows = plugins.describe_plugins()
    assert json.loads(json.dumps(rows)) == rows


# ---- the template pack ----------------------------------------------------------------------


@pytest.fixture
def template_plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    monkeypatch.syspath_prepend(str(TEMPLATE / "src"))
    for name in [m for m in sys.modules if m == "sbm_example" or m.startswith("sbm_example.")]:
        monkeypatch.delitem(sys.modules, name)
    module = importlib.import_module("sbm_example.plugin")
    yield module
    for name in [m for m in sys.modules if m == "sbm_example" or m.startswith("sbm_example.")]:
        del sys.modules[name]


def test_the_template_pack_works(template_plugin: types.ModuleType) -> None:
    with using_plugins(example=template_plugin):
        std = sbm_engine.load("example.service")
        outcomes = std.run_examples()
        row = next(r for r in plugins.describe_plugins() if r["name"] == "example")
        result = std.score(
            {"visit_id": "v1", "answers": {"greeted": "yes", "wait": 10, "thanked": "yes"}}
        )
    assert outcomes and all(o.passed for o in outcomes), outcomes
    assert row["standards"] == ["example.service"]
    assert row["functions"] == ["wait_score"]
    assert result.coefficients["speed"] == pytest.approx(0.5)


def test_the_template_entry_point_matches_its_module() -> None:
    import tomllib

    meta = tomllib.loads((TEMPLATE / "pyproject.toml").read_text(encoding="utf-8"))
    [(name, target)] = meta["project"]["entry-points"]["sbm"].items()
    assert (name, target) == ("example", "sbm_example.plugin")
    assert (TEMPLATE / "src" / Path(*target.split("."))).with_suffix(".py").is_file()


def test_the_template_tests_pass(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        str(TEMPLATE),
        "-c",
        str(TEMPLATE / "pyproject.toml"),
        "--rootdir",
        str(TEMPLATE),
        "-p",
        "no:cacheprovider",
        "-q",
    )
    result.assert_outcomes(passed=15)


# ---- the pytest fixtures ---------------------------------------------------------------------


def test_the_pytest_plugin_is_registered(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.get_plugin("sbm") is importlib.import_module(
        "sbm_engine.testing"
    )


def test_the_fixtures(pytester: pytest.Pytester, tmp_path: Path) -> None:
    path = write_standard(tmp_path, "acme.visit")
    pytester.makepyfile(
        test_fx=f"""
        import pytest
        import sbm_engine
        from sbm_engine import plugins

        PATH = {str(path)!r}

        def test_standard_by_path(sbm_standard):
            assert sbm_standard(PATH).id == "acme.visit"

        def test_standard_from_text(sbm_standard):
            std = sbm_standard(text=open(PATH, encoding="utf-8").read())
            assert std.item_names == ("greeted",)

        def test_score_one_and_many(sbm_score):
            one = sbm_score(PATH, {{"visit_id": "v1", "answers": {{"greeted": "да"}}}})
            assert one.ok and one.coefficients["visit"] == 1
            many = sbm_score(PATH, [{{"visit_id": "v1", "answers": {{"greeted": "yes"}}}},
                                    {{"visit_id": "v1", "answers": {{"greeted": "no"}}}}])
            assert [o.ok for o in many] == [True, False]
            assert many[1].errors[0].code == "duplicate_visit"

        def test_examples(sbm_examples):
            assert [o.name for o in sbm_examples(PATH)] == ["greeted"]

        def test_plugin_manager(sbm_plugin_manager):
            from sbm_engine.hookspecs import hookimpl
            import types
            before = plugins.get_plugin_manager()
            mod = types.ModuleType("acme_pack")
            mod.sbm_standards = hookimpl(lambda: [{str(tmp_path)!r}])
            pm = sbm_plugin_manager(acme=mod)
            assert plugins.get_plugin_manager() is pm is not before
            assert sbm_engine.load("acme.visit").id == "acme.visit"
            assert [n for n, _ in pm.list_name_plugin()] == ["builtin", "acme"]
    """
    )
    with using_plugins():  # in-process: the inner session shares our plugin state
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=5)


def test_fixture_failures_are_readable(pytester: pytest.Pytester, tmp_path: Path) -> None:
    good = write_standard(tmp_path, "acme.visit")
    failing = good.read_text(encoding="utf-8").replace("expect visit == 1", "expect visit == 0.5")
    pytester.makepyfile(
        test_fail=f"""
        BROKEN = '''standard acme.bad {{
            item greeted "Поздоровался" answer yes_nope
        }}'''
        FAILING = {failing!r}
        NONE = '''standard acme.none {{ item x "X" answer number 0..1 }}'''

        def test_broken(sbm_standard):
            sbm_standard(text=BROKEN, file="broken.sbm")

        def test_failing_example(sbm_standard, sbm_examples):
            sbm_examples(sbm_standard(text=FAILING, file="failing.sbm"))

        def test_no_examples(sbm_standard, sbm_examples):
            sbm_examples(sbm_standard(text=NONE))

        def test_no_examples_allowed(sbm_standard, sbm_examples):
            assert sbm_examples(sbm_standard(text=NONE), min_examples=0) == []

        def test_unknown_id(sbm_standard):
            sbm_standard("acme.nothing")
    """
    )
    with using_plugins():
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=4)
    out = result.stdout.str()
    assert "standard broken.sbm does not compile:" in out
    assert "broken.sbm:2:" in out and "yes_nope" in out
    assert "1 example(s) of acme.visit failed:" in out
    assert 'example "greeted" (failing.sbm:' in out
    assert "expected `visit == 0.5` (computed: visit = 1)" in out
    assert "acme.none has 0 example(s), expected at least 1" in out
    assert "no standard `acme.nothing`" in out
    assert "Traceback" not in out  # failures, not errors with engine tracebacks


def test_the_testing_module_imports_nothing_of_the_engine() -> None:
    import subprocess

    code = (
        "import sys, sbm_engine.testing; "
        "print(sorted(m for m in sys.modules if m.startswith('sbm_engine')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['sbm_engine', 'sbm_engine.testing']"
