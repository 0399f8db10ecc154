"""The loader: files to one flat namespace — layers, replacement, drop, the root rule.

The codes it reports (E0105, E0601–E0605, E0507, E0004 for `drop`) are pinned in
test_diagnostics.py; here is how the namespace comes out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sbm_engine.diagnostics import CompileError
from sbm_engine.loader import Flat, Loader, _lexically_within

SCALES = "standard lib.scales {\n    scale yes_no { yes = 1, no = 0 }\n}\n"
BASE = """standard ld.base "База" {
    import "scales.sbm"
    version "1"
    industry "retail"
    section greeting "Встреча" {
        item greeted "Поприветствовал" answer yes_no
        item smile "Улыбка" answer yes_no
    }
    section closing "Прощание" {
        item bye "Попрощался" answer yes_no
    }
    item overall "Общая" answer number 0..10 optional
    coefficient visit = weighted_mean(items)
    target visit 0.8
    bands visit { good >= 0.8, poor }
    example "base example" { answers { greeted = yes } }
}
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SBM_PATH", raising=False)
    (tmp_path / "scales.sbm").write_text(SCALES, encoding="utf-8")
    (tmp_path / "base.sbm").write_text(BASE, encoding="utf-8")
    return tmp_path


def flatten(
    folder: Path,
    body: str,
    name: str = "child.sbm",
    header: str = "standard ld.child extends ld.base {",
) -> Flat:
    path = folder / name
    path.write_text(f"{header}\n{body}\n}}\n", encoding="utf-8")
    return Loader().flatten_file(path)


def layout(flat: Flat) -> list[tuple[str, str, str | None]]:
    return [(name, d.kind, d.section) for name, d in flat.decls.items()]


def test_a_base_is_inherited_whole(folder: Path) -> None:
    flat = flatten(folder, "")
    assert layout(flat) == [
        ("yes_no", "scale", None),
        ("greeting", "section", None),
        ("greeted", "item", "greeting"),
        ("smile", "item", "greeting"),
        ("closing", "section", None),
        ("bye", "item", "closing"),
        ("overall", "item", None),
        ("visit", "coefficient", None),
    ]
    assert (flat.version, flat.industry) == ("1", "retail")
    assert set(flat.targets) == {"visit"} and set(flat.bands) == {"visit"}
    assert flat.examples == []  # examples belong to their own file
    assert flat.diagnostics == []


def test_own_version_targets_and_bands_win(folder: Path) -> None:
    flat = flatten(
        folder, '    version "2"\n    target visit 0.9\n    bands visit { ok >= 0.5, bad }'
    )
    assert flat.version == "2" and flat.industry == "retail"
    assert flat.targets["visit"].value.value == 0.9
    assert [b.label for b in flat.bands["visit"].bands] == ["ok", "bad"]


def test_a_redeclared_item_keeps_its_place_and_section(folder: Path) -> None:
    flat = flatten(folder, '    item smile "Новая улыбка" answer yes_no weight 2')
    assert layout(flat)[3] == ("smile", "item", "greeting")
    assert flat.decls["smile"].node.question == "Новая улыбка"


def test_an_item_moved_into_another_section(folder: Path) -> None:
    flat = flatten(folder, '    section extra "Доп" { item smile "Улыбка" answer yes_no }')
    assert flat.decls["smile"].section == "extra"


@pytest.mark.parametrize(
    "body",
    [
        '    item smile "Улыбка" answer yes_no\n'
        '    section greeting "Встреча" { item hello "Здравствуйте" answer yes_no }',
        '    section greeting "Встреча" { item hello "Здравствуйте" answer yes_no }\n'
        '    item smile "Улыбка" answer yes_no',
    ],
    ids=["item first", "section first"],
)
def test_replacing_a_section_does_not_depend_on_the_order_of_declarations(
    folder: Path, body: str
) -> None:
    flat = flatten(folder, body)
    members = {n for n, d in flat.decls.items() if d.kind == "item" and d.section == "greeting"}
    assert members == {"hello", "smile"}  # greeted went with the old section
    assert "greeted" not in flat.decls


@pytest.mark.parametrize("where", ["before", "after"])
def test_drop_does_not_depend_on_where_it_stands(folder: Path, where: str) -> None:
    own = '    item extra "Доп" answer yes_no'
    body = f"    drop closing\n{own}" if where == "before" else f"{own}\n    drop closing"
    flat = flatten(folder, body)
    assert "closing" not in flat.decls and "bye" not in flat.decls and "extra" in flat.decls


def test_dropping_a_coefficient_drops_its_target_and_bands(folder: Path) -> None:
    flat = flatten(folder, "    drop visit")
    assert "visit" not in flat.decls and flat.targets == {} and flat.bands == {}


def test_layers_apply_in_order_base_imports_own(folder: Path) -> None:
    (folder / "override.sbm").write_text(
        'standard ld.override {\n    import "scales.sbm"\n'
        '    item smile "Из импорта" answer yes_no\n    version "import"\n}\n',
        encoding="utf-8",
    )
    flat = flatten(folder, '    import "override.sbm"')
    assert flat.decls["smile"].node.question == "Из импорта"
    assert flat.decls["smile"].section == "greeting"
    assert flat.version == "import"
    flat = flatten(folder, '    import "override.sbm"\n    item smile "Своя" answer yes_no')
    assert flat.decls["smile"].node.question == "Своя"


def test_imports_resolve_beside_the_file_then_in_the_library(folder: Path) -> None:
    flat = flatten(folder, '    import "common/scales.sbm"', header="standard ld.lib {")
    assert "yes_no_partial" in flat.decls  # from standards_library/common/scales.sbm


def test_standards_are_found_by_id_in_the_root_folder_and_below(folder: Path) -> None:
    (folder / "sub").mkdir()
    (folder / "sub" / "deep.sbm").write_text("standard ld.deep {\n}\n", encoding="utf-8")
    known = Loader().known_standards(extra_dirs=[folder])
    assert known["ld.base"] == folder / "base.sbm"
    assert known["ld.deep"] == folder / "sub" / "deep.sbm"
    assert "library.stages" in known  # the standards library


def test_providers_come_first(folder: Path, tmp_path: Path) -> None:
    other = tmp_path / "pack" / "base.sbm"
    other.parent.mkdir()
    other.write_text(BASE.replace('"База"', '"Из пакета"'), encoding="utf-8")
    loader = Loader(providers=[lambda: {"ld.base": other}])
    assert loader.known_standards(extra_dirs=[folder])["ld.base"] == other


def test_recoverable_problems_travel_to_the_checker(folder: Path) -> None:
    flat = flatten(
        folder, '    item a "A" answer yes_no\n    item a "B" answer yes_no\n    drop nothing_here'
    )
    assert [d.code for d in flat.diagnostics] == ["E0101", "E0605"]
    assert flat.decls["a"].node.question == "A"  # the first declaration stands


def test_unresolvable_files_stop_the_load(folder: Path) -> None:
    with pytest.raises(CompileError) as err:
        flatten(
            folder,
            '    import "missing.sbm"\n    item a "A" answer yes_no\n    item a "B" answer yes_no',
        )
    assert sorted(d.code for d in err.value.diagnostics) == ["E0101", "E0601"]


def test_parse_errors_in_an_import_name_the_imported_file(folder: Path) -> None:
    (folder / "broken.sbm").write_text("standard ld.broken {\n    item\n}\n", encoding="utf-8")
    with pytest.raises(CompileError) as err:
        flatten(folder, '    import "broken.sbm"')
    assert [d.span.file for d in err.value.diagnostics] == ["broken.sbm"]
    assert "broken.sbm" in err.value.sources


def test_a_file_is_parsed_once_per_loader(folder: Path) -> None:
    loader = Loader()
    (folder / "a.sbm").write_text('standard a {\n    import "scales.sbm"\n}\n', encoding="utf-8")
    (folder / "b.sbm").write_text(
        'standard b {\n    import "scales.sbm"\n    import "a.sbm"\n}\n', encoding="utf-8"
    )
    loader.flatten_file(folder / "b.sbm")
    assert sorted(p.name for p in loader._modules) == ["a.sbm", "b.sbm", "scales.sbm"]


@pytest.mark.parametrize(
    ("path", "inside"),
    [
        ("root/a.sbm", True),
        ("root/sub/../a.sbm", True),
        ("root/../a.sbm", False),
        ("root/sub/../../root/a.sbm", True),
        ("root", True),
        ("rooted/a.sbm", False),
    ],
)
def test_lexical_confinement(tmp_path: Path, path: str, inside: bool) -> None:
    assert _lexically_within(tmp_path / path, tmp_path / "root") is inside
