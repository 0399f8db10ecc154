"""The terminal table of `sbm rollup` is for people: titles, a width it keeps, figures
rounded for reading, N/A as "—", aligned by display width. JSON stays as it was."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sbm_engine.cli import cli
from sbm_engine.cli.rollup import report_json
from sbm_engine.cli.table import clip, number, render_table, text_width, wrap

ROOT = Path(__file__).parents[2]
BANK_SAMPLE = ROOT / "plugins" / "sbm-bank" / "sample" / "wave.jsonl"

WIDE = """\
standard wide.test "Широкий тест" {
    version "1"
    scale yes_no { yes = 1, no = 0 }
    item greeted "Поприветствовал клиента в течение тридцати секунд после входа в отделение"
        answer yes_no
    item wait "Ожидание, минут" answer number 0..60 optional
    coefficient greeting "Приветствие" = greeted
    coefficient satisfaction "顧客満足度スコア" = greeted
    coefficient waiting = wait
    rollup greeted_share "Доля визитов с приветствием" = share(answer(greeted) == yes)
    target greeting 0.8
}
"""


def sbm(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run the CLI in-process, with no $COLUMNS unless `env` gives one: 100 columns."""
    result = CliRunner(env=env or {"COLUMNS": ""}).invoke(cli, list(args), prog_name="sbm")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.stderr
    return result


def assert_fits(text: str, width: int) -> None:
    wide = [line for line in text.splitlines() if text_width(line) > width]
    assert not wide, f"{len(wide)} lines wider than {width}: {wide[:3]}"


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bank sample wave, scored."""
    pytest.importorskip("sbm_bank")
    out = tmp_path_factory.mktemp("bank") / "scored.jsonl"
    CliRunner().invoke(cli, ["score", "bank.branch", str(BANK_SAMPLE), "-o", str(out)])
    assert out.exists()
    return out


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two points, one of them (`東京支店`) never answering `wait`: `waiting` is N/A there."""
    work = tmp_path_factory.mktemp("wide")
    (work / "wide.sbm").write_text(WIDE, encoding="utf-8")
    visits = [
        {
            "visit_id": f"v{i}",
            "point": "Точка-1" if i < 3 else "東京支店",
            "answers": {"greeted": "yes" if i % 3 else "no", **({"wait": 5 + i} if i < 3 else {})},
        }
        for i in range(6)
    ]
    lines = "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in visits)
    (work / "visits.jsonl").write_text(lines, encoding="utf-8")
    sbm("score", str(work / "wide.sbm"), str(work / "visits.jsonl"), "-o", str(work / "s.jsonl"))
    return work


# -- the bank sample ----------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["point", "specialist", "region", "network"])
@pytest.mark.parametrize("width", [100, 60, 40])
def test_the_bank_table_fits_the_width(bank: Path, level: str, width: int) -> None:
    out = sbm("rollup", str(bank), "--by", level, "--width", str(width)).stdout
    assert_fits(out, width)
    assert "Профессионализм" in out  # a title, not `professionalism`
    assert "professionalism" not in out and "client_orientation" not in out
    assert "Growth zones" in out and "meeting the target" in out


def test_columns_sets_the_width_and_100_without_a_terminal(bank: Path) -> None:
    narrow = sbm("rollup", str(bank), "--by", "point", env={"COLUMNS": "60"}).stdout
    assert_fits(narrow, 60)
    assert max(text_width(line) for line in narrow.splitlines()) > 50
    default = sbm("rollup", str(bank), "--by", "point", env={"COLUMNS": ""}).stdout
    assert_fits(default, 100)
    assert max(text_width(line) for line in default.splitlines()) > 60


def test_the_bank_table_shows_titles_questions_and_figures_for_people(bank: Path) -> None:
    out = sbm("rollup", str(bank), "--by", "network", "--width", "100").stdout
    # few groups: turned, every title whole on its row
    for title in ("Соблюдение стандартов", "Клиентоориентированность", "Индекс NPS"):
        assert any(line.startswith(title) for line in out.splitlines()), title
    cells = [re.split(r"\s{2,}", line, maxsplit=1) for line in out.splitlines()[2:17]]
    row = {label: rest.split() for label, rest in cells}
    assert row["visits"] == ["294"]
    assert row["Соблюдение стандартов"] == ["0.792", "(-0.108)"]  # the gap, signed
    assert row["Индекс NPS"] == ["16.79"]  # from -100 to 100: two decimals
    assert row["Доля визитов с ожиданием дольше 15 минут"] == ["5.4%"]  # a share
    # growth zones by question, cut at a word with "…"
    assert "Предложил оформить продукт сейчас или записал на удобное время; сказал, какие…" in out
    assert out.rstrip().endswith("Посещение в целом ≥ 0.850: 0 of 1.")
    assert "1 network, 294 visits; meeting the target: Соблюдение стандартов ≥ 0.900" in out


def test_many_groups_keep_a_row_per_group_in_blocks(bank: Path) -> None:
    out = sbm("rollup", str(bank), "--by", "specialist", "--width", "100").stdout
    blocks = out.split("\n\n")
    table = [b for b in blocks if "CHL-01-S1" in b and "Growth zones" not in b]
    assert len(table) > 1  # too wide for one block, too many groups to turn
    for block in table:
        rows = [line for line in block.splitlines() if line.startswith("CHL-01-S1")]
        assert len(rows) == 1  # the group column repeats
    assert "Клиентоориентирован…" in out  # a word longer than a header is cut


def test_names_show_the_standards_names(bank: Path) -> None:
    out = sbm("rollup", str(bank), "--by", "point", "--names", "--width", "250").stdout
    assert "client_orientation" in out and "Клиентоориентированность" not in out
    assert "  CHL-01:  1.4%  clean" in out  # growth zones by item name


def test_json_and_files_are_not_the_table(bank: Path, tmp_path: Path) -> None:
    plain = sbm("rollup", str(bank), "--by", "point", "--format", "json").stdout
    styled = sbm(
        "rollup", str(bank), "--by", "point", "--format", "json", "--names", "--width", "60"
    ).stdout
    assert plain == styled
    report = json.loads(plain)
    assert "client_orientation" in report["groups"][0]["coefficients"]
    sbm("rollup", str(bank), "--by", "point", "-o", str(tmp_path / "r.json"), "--width", "60")
    assert (tmp_path / "r.json").read_text(encoding="utf-8") == plain


# -- display widths, N/A ------------------------------------------------------------------------


def wide_table(wide: Path, *args: str) -> str:
    std = str(wide / "wide.sbm")
    return sbm("rollup", str(wide / "s.jsonl"), "--by", "point", "--standard", std, *args).stdout


def end_column(line: str, token: str) -> int:
    """The display column where the first `token` of `line` ends."""
    return text_width(line[: line.index(token) + len(token)])


def test_turned_rows_align_by_display_width_not_characters(wide: Path) -> None:
    out = wide_table(wide, "--width", "60")
    assert_fits(out, 60)
    rows = out.split("\n\n")[0].splitlines()[2:]  # two points: turned, a row per figure
    labels = [re.split(r"\s{2,}", row)[0] for row in rows]
    assert labels == [
        "visits",
        "Приветствие",
        "顧客満足度スコア",  # 8 wide characters: 16 cells
        "waiting",  # no title: the name
        "Доля визитов с приветствием",
    ]
    firsts = [re.split(r"\s{2,}", row)[1].split()[0] for row in rows]
    assert firsts == ["3", "0.667", "0.667", "0.100", "66.7%"]
    ends = {end_column(row, first) for row, first in zip(rows, firsts, strict=True)}
    assert len(ends) == 1, rows  # right-aligned in cells...
    assert len({row.index(first) + len(first) for row, first in zip(rows, firsts, strict=True)}) > 1
    # ...which is not the same column in characters


def test_rows_align_by_display_width_with_wide_keys_and_headers(wide: Path) -> None:
    out = wide_table(wide, "--width", "40")  # too narrow to turn: blocks of columns
    assert_fits(out, 40)
    block = next(b for b in out.split("\n\n") if "顧客満足度スコア" in b)
    lines = block.splitlines()
    rule = next(line for line in lines if set(line) <= {"-", " "})
    rows = lines[lines.index(rule) + 1 :]
    assert [row.split()[0] for row in rows] == ["Точка-1", "東京支店"]
    assert {text_width(row) for row in rows} == {text_width(rule)}  # right edges line up
    assert rows[1].split()[1:] == ["0.667", "—"]  # `waiting` is N/A at 東京支店
    header = lines[lines.index(rule) - 1]
    assert end_column(header, "顧客満足度スコア") == end_column(rows[0], "0.667")


def test_na_is_a_dash_and_none_never_shows(wide: Path) -> None:
    out = wide_table(wide)  # at 100 columns, a row per point
    assert "None" not in out and "nan" not in out
    lines = out.splitlines()[1:]  # a header over two lines
    assert lines[2].split() == ["Точка-1", "3", "0.667", "(-0.133)", "0.667", "0.100", "66.7%"]
    assert lines[3].split() == ["東京支店", "3", "0.667", "(-0.133)", "0.667", "—", "66.7%"]
    assert "Точка-1:   45.0%  Ожидание, минут" in out


def test_render_table_directly_na_counts_and_huge_figures() -> None:
    stat = {"mean": None, "n": 0, "target": 0.9, "gap": None, "meets_share": None, "band": None}
    good = {**stat, "mean": 0.95, "n": 12_345, "gap": 0.05, "meets_share": 1.0}
    report = {
        "by": "region",
        "groups": [
            {
                "key": "Север",
                "visits": 12_345,
                "coefficients": {"visit": good},
                "rollups": {"nps": 1234.56},
                "growth_zones": [],
            },
            {
                "key": None,
                "visits": 3,
                "coefficients": {"visit": stat},
                "rollups": {"nps": None},
                "growth_zones": [{"item": "greeted", "lost_share": 0.25}],
            },
        ],
    }
    out = render_table(report, width=60)
    assert_fits(out, 60)
    lines = out.splitlines()
    assert lines[0].split() == ["region", "visits", "visit", "nps"]
    assert lines[2].split() == ["Север", "12,345", "0.950", "(+0.050)", "1,235"]
    assert lines[3].split() == ["(no", "region)", "3", "—", "—"]
    assert "  Север:        nothing lost" in out
    assert "  (no region):  25.0%  greeted" in out
    assert out.endswith("\n2 regions, 12,348 visits; meeting the target:\n  visit ≥ 0.900: 1 of 1.")
    wide_out = render_table(report, width=100)
    assert wide_out.endswith(
        "\n2 regions, 12,348 visits; meeting the target: visit ≥ 0.900: 1 of 1."
    )


# -- the text helpers ---------------------------------------------------------------------------


def test_text_width_counts_terminal_cells() -> None:
    assert text_width("Профессионализм") == len("Профессионализм")  # Cyrillic: one cell
    assert text_width("東京") == 4  # wide
    assert text_width("e\u0301") == 1  # a combining accent takes none
    assert text_width("—…") == 2


def test_clip_and_wrap_cut_with_an_ellipsis_within_the_width() -> None:
    question = "Предложил оформить продукт сейчас или записал на удобное время"
    assert clip(question, 30, words=True) == "Предложил оформить продукт…"  # at a word
    assert clip(question, 30) == "Предложил оформить продукт се…"
    assert clip("東京支店東京支店", 6) == "東京…"  # a wide character is not split
    title = "Доля визитов с ожиданием дольше 15 минут"
    assert wrap(title, 16, 3) == ["Доля визитов", "с ожиданием", "дольше 15 минут"]  # `с` binds
    assert wrap(title, 16, 2) == ["Доля визитов", "с ожиданием…"]
    assert wrap("client_orientation", 12, 3) == ["client_", "orientation"]
    assert wrap("Клиентоориентированность", 12, 3) == ["Клиентоорие…"]  # a word too long
    assert all(text_width(row) <= 12 for row in wrap("東" * 40, 12, 3))


def test_numbers_have_separators_and_keep_their_sign() -> None:
    assert number(1234567.891, 1) == "1,234,567.9"
    assert number(-0.0004, 3, "+") == "-0.000"  # just below the target still shows so
    assert number(None, 3) == "—"
    assert number(3e12, 1) == "3e+12"


def test_report_json_is_untouched_by_the_table() -> None:
    report = {"by": "point", "standard": "s", "version": "1", "groups": []}
    assert json.loads(report_json(report)) == report
    assert render_table(report) == "no scored visits"


def test_a_rollup_csv_neutralises_a_point_that_looks_like_a_formula(tmp_path: Path) -> None:
    (tmp_path / "wide.sbm").write_text(WIDE, encoding="utf-8")
    visit = {"visit_id": "v1", "point": "=HYPERLINK(1)", "answers": {"greeted": "yes"}}
    (tmp_path / "v.jsonl").write_text(json.dumps(visit) + "\n", encoding="utf-8")
    sbm(
        "score",
        str(tmp_path / "wide.sbm"),
        str(tmp_path / "v.jsonl"),
        "-o",
        str(tmp_path / "s.jsonl"),
    )
    out = tmp_path / "r.csv"
    sbm(
        "rollup",
        str(tmp_path / "s.jsonl"),
        "--by",
        "point",
        "--standard",
        str(tmp_path / "wide.sbm"),
        "-o",
        str(out),
    )
    text = out.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(1)" in text and "\n=HYPERLINK" not in text
