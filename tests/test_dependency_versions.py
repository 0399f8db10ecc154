"""The oldest versions `pyproject.toml` declares still work, and give what the newest give.

The test environment has the newest releases; this builds a second virtual
environment with the lowest version each requirement allows (the core dependencies
and the `arrow`, `fast` and `excel` extras: pyarrow, numpy, openpyxl, calamine,
orjson), installs the engine into it from this checkout, and runs `sbm` there on the
conformance wave in every format, both engines. Every output must be what the test
environment's `sbm` writes for the same input. The environment is cached by the
requirements, so it is built once (PyPI only).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
openpyxl = pytest.importorskip("openpyxl")

ROOT = Path(__file__).resolve().parents[1]
CONFORMANCE = ROOT / "tests" / "conformance"
STANDARD = CONFORMANCE / "demo_branch.sbm"
EXTRAS = ("arrow", "fast", "excel")


def oldest_requirements() -> list[str]:
    """`name==X` for every `name>=X` of the core dependencies and the extras above."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"]]
    for extra in EXTRAS:
        declared += project["optional-dependencies"][extra]
    pinned = []
    for requirement in declared:
        match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)\s*>=\s*([0-9][0-9.]*)(,.*)?", requirement)
        assert match, f"a requirement without a lower bound: {requirement!r}"
        pinned.append(f"{match[1]}=={match[2]}")
    return sorted(set(pinned))


def _cache() -> Path:
    base = os.environ.get("SBM_TEST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sbm-engine-tests"
    )
    return Path(base)


@pytest.fixture(scope="module")
def oldest_sbm() -> Path:
    requirements = oldest_requirements()
    key = hashlib.sha256("\n".join([sys.version, str(ROOT), *requirements]).encode())
    venv = _cache() / f"venv-oldest-{key.hexdigest()[:16]}"
    python = venv / "bin" / "python"
    if not (venv / "ready").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        # the engine from this checkout (editable: the code beside the test), its
        # requirements at their oldest
        for args in (requirements, ["--no-deps", "-e", str(ROOT)]):
            done = subprocess.run([*pip, *args], capture_output=True, text=True)
            if done.returncode:
                pytest.fail(f"cannot install {args}:\n{done.stdout}{done.stderr}")
        (venv / "ready").write_text("\n".join(requirements), encoding="utf-8")
    versions = subprocess.run(
        [str(python), "-c", "import pyarrow, numpy; print(pyarrow.__version__, numpy.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    wanted = dict(r.split("==") for r in requirements)
    assert versions[0].startswith(wanted["pyarrow"]) and versions[1].startswith(wanted["numpy"])
    return venv / "bin" / "sbm"


def _inputs(folder: Path) -> dict[str, Path]:
    visits = CONFORMANCE / "demo_visits.jsonl"
    out = {"jsonl": folder / "in.jsonl"}
    out["jsonl"].write_bytes(visits.read_bytes())
    done = subprocess.run(
        [sys.executable, "-c", _CONVERT, str(visits), str(folder)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    out["csv"], out["parquet"] = folder / "in.csv", folder / "in.parquet"
    out["xlsx"] = folder / "in.xlsx"
    return out


#: The conformance wave as CSV, Parquet and XLSX, flat: one column per answer.
_CONVERT = """
import csv, json, sys
import pyarrow as pa, pyarrow.parquet as pq
rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
flat = [{**{k: v for k, v in r.items() if k != "answers"}, **r.get("answers", {})} for r in rows]
names = list(dict.fromkeys(k for r in flat for k in r))
text = [{k: ("" if r.get(k) is None else str(r[k])) for k in names} for r in flat]
with open(sys.argv[2] + "/in.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, names); w.writeheader(); w.writerows(text)
table = pa.table({k: [t[k] or None for t in text] for k in names})
pq.write_table(table, sys.argv[2] + "/in.parquet")
import openpyxl
book = openpyxl.Workbook()
sheet = book.active
sheet.append(names)
for r in flat:
    sheet.append([r.get(k) for k in names])
book.save(sys.argv[2] + "/in.xlsx")
"""


def _read(path: Path) -> object:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    if path.suffix == ".xlsx":
        sheet = openpyxl.load_workbook(path, read_only=True).active
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    return path.read_bytes()


@pytest.mark.parametrize("engine", ["batch", "python"])
@pytest.mark.parametrize("source", ["jsonl", "csv", "parquet", "xlsx"])
def test_the_oldest_versions_score_as_the_newest(
    oldest_sbm: Path, tmp_path: Path, source: str, engine: str
) -> None:
    inputs = _inputs(tmp_path)
    newest = [str(Path(sys.executable).parent / "sbm")]
    for target in ("out.parquet", "out.csv", "out.jsonl", "out.xlsx"):
        results = []
        for name, command in (("oldest", [str(oldest_sbm)]), ("newest", newest)):
            out = tmp_path / name / target
            out.parent.mkdir(exist_ok=True)
            args = ["score", str(STANDARD), str(inputs[source]), "-o", str(out)]
            done = subprocess.run(
                [*command, *args, "--engine", engine, "--allow-failing-examples"],
                capture_output=True,
                text=True,
                cwd=tmp_path,
            )
            assert done.returncode in (0, 1), f"{name}: {done.stdout}{done.stderr}"
            rejects = out.with_name(out.stem + ".rejects.jsonl")
            results.append((_read(out), rejects.read_bytes()))
        assert results[0] == results[1], f"{source} → {target} ({engine})"
