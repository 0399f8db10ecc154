"""`sbm_engine.dask.score` on a two-worker `LocalCluster`: the same results and rejects
as single-process `sbm score` on a multi-file wave with duplicates across files, the
same roll-up, a worker lost mid-run losing no record, and `sbm score --dask local`."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from click.testing import CliRunner  # noqa: E402

from sbm_engine import dask as on_dask  # noqa: E402
from sbm_engine.cli import cli  # noqa: E402
from sbm_engine.result_files import read_results  # noqa: E402

DEMO = str(Path(__file__).resolve().parents[1] / "conformance" / "demo_branch.sbm")


def _answers(i: int) -> dict[str, Any]:
    return {
        "greeted": "yes" if i % 3 else "no",
        "smile": "yes" if i % 2 else "нет",
        "wait": i % 14,
        "questions": 1 + i % 5,
        "card": "yes",
        "secrecy": "no" if i % 11 == 0 else "yes",
        "clean": 1 + (i * 7) % 5,
        "overall": i % 11,
    }


def _visit(vid: str, i: int, **answers: Any) -> dict[str, Any]:
    return {
        "visit_id": vid,
        "point": f"P{i % 4}",
        "specialist": f"S{i % 6}",
        "region": "R1",
        "date": "2026-03-01",
        "scenario": "deposit" if i % 2 else "credit",
        "answers": {**_answers(i), **answers},
    }


def _flat(visit: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in visit.items() if k != "answers"} | {
        k: str(v) for k, v in visit["answers"].items()
    }


def make_dataset(folder: Path) -> list[str]:
    """Four files (JSONL, CSV, an empty CSV, Parquet) with ids repeated within and across files,
    ids first held by a rejected record, and bad records of several kinds."""
    folder.mkdir(parents=True, exist_ok=True)
    jsonl = [json.dumps(_visit(f"v{i}", i), ensure_ascii=False) for i in range(30)]
    jsonl.insert(5, "{not json")
    jsonl.append(json.dumps(_visit("v3", 3)))  # duplicate within the file
    jsonl.append(json.dumps(_visit("v90", 90, bogus="yes")))  # rejected, yet holds v90
    jsonl.append(json.dumps(_visit("v91", 91, wait=500)))  # out of range
    (folder / "a_wave.jsonl").write_text("\n".join(jsonl) + "\n", encoding="utf-8")

    rows = [_flat(_visit(f"v{i}", i)) for i in range(25, 55)]  # v25..v29 seen in a_wave
    rows.append(_flat(_visit("v91", 91)))  # its first copy was rejected: still a duplicate
    rows.append(_flat(_visit("v27", 27, questions="maybe")))  # a bad duplicate
    rows.append(_flat(_visit("v200", 200, wait="many")))
    header = list(rows[0])
    lines = [";".join(header)] + [";".join(str(r.get(h, "")) for h in header) for r in rows]
    (folder / "b_wave.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    (folder / "b_zempty.csv").write_text(";".join(header) + "\n", encoding="utf-8")

    visits = [_visit(f"v{i}", i) for i in range(50, 80)]  # v50..v54 seen in b_wave
    visits += [_visit("v0", 0), _visit("v90", 90), _visit("", 7), _visit("v60", 60)]
    visits.append(_visit("v1", 1, wait=999))  # a duplicate of a_wave's, and out of range
    table = pa.Table.from_pylist([_flat(v) for v in visits])
    pq.write_table(table, folder / "c_wave.parquet", row_group_size=8)
    return sorted(str(p) for p in folder.iterdir())


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def wave(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], Path]:
    """The dataset and what single-process `sbm score` makes of it."""
    root = tmp_path_factory.mktemp("wave")
    files = make_dataset(root / "data")
    single = root / "single.parquet"
    result = CliRunner().invoke(
        cli, ["score", DEMO, *files, "-o", str(single), "--rejects", str(root / "single.jsonl")]
    )
    assert result.exit_code == 1, result.output  # some visits are rejected
    return root / "data", files, root


def _results(path: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for _, record, error in read_results([path]):
        assert error is None
        assert record["visit_id"] not in out
        out[record["visit_id"]] = _rounded(record)
    return out


def _rounded(value: Any) -> Any:
    """Floats to 12 digits: the Arrow and record paths may sum in another order."""
    if isinstance(value, float):
        return round(value, 12) if math.isfinite(value) else value
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _rejects(path: Path) -> list[tuple[Any, Any, tuple[str, ...]]]:
    found = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            found.append((r["visit_id"], r["source"], tuple(e["code"] for e in r["errors"])))
    return sorted(found, key=repr)


def _assert_same(out: Path, root: Path) -> None:
    assert _results(out) == _results(root / "single.parquet")
    assert _rejects(out / "rejects.jsonl") == _rejects(root / "single.jsonl")


def test_same_as_sbm_score(client: Any, wave: tuple[Path, list[str], Path]) -> None:
    data, _, root = wave
    out = root / "dask_out"
    summary = on_dask.score(DEMO, str(data), out, client=client)
    assert [p.name for p in sorted(out.glob("part-*.parquet"))] == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
        "part-00003.parquet",
    ]
    _assert_same(out, root)
    single_rejects = len(_rejects(root / "single.jsonl"))
    assert summary.read == summary.scored + summary.rejected
    assert summary.rejected == single_rejects
    assert summary.scored == len(_results(root / "single.parquet"))
    assert summary.duplicates > 0
    assert json.loads((out / "summary.json").read_text())["read"] == summary.read
    # A glob gives the same files, and a rerun replaces the earlier output.
    again = on_dask.score(DEMO, str(data / "*_wave.*"), out, client=client)
    assert again.read == summary.read
    _assert_same(out, root)
    assert not [p for p in root.iterdir() if p.name.startswith(".dask_out")]


def test_rollup_of_parts(client: Any, wave: tuple[Path, list[str], Path]) -> None:
    data, _, root = wave
    out = root / "rollup_out"
    on_dask.score(DEMO, str(data), out, client=client)
    runner = CliRunner()
    args = ["--by", "point", "--standard", DEMO, "--format", "json"]
    parts = runner.invoke(cli, ["rollup", str(out), *args])
    single = runner.invoke(cli, ["rollup", str(root / "single.parquet"), *args])
    assert parts.exit_code == 0, parts.output
    assert json.loads(parts.stdout) == json.loads(single.stdout)
    # the analytics read the folder too
    diagnosed = runner.invoke(cli, ["diagnose", str(out), "--standard", DEMO, "--format", "json"])
    assert diagnosed.exit_code == 0, diagnosed.output
    assert json.loads(diagnosed.stdout)


def test_dataframe_partitions(client: Any, wave: tuple[Path, list[str], Path]) -> None:
    """A Dask dataframe of the Parquet file, in three partitions: a duplicate across
    partitions is rejected, and rejects are named by partition and row."""
    dd = pytest.importorskip("dask.dataframe")
    _, files, root = wave
    frame = dd.read_parquet([f for f in files if f.endswith(".parquet")]).repartition(npartitions=3)
    out = root / "frame_out"
    summary = on_dask.score(DEMO, frame, out, client=client)
    assert summary.partitions == 3
    assert summary.read == 35
    assert summary.read == summary.scored + summary.rejected
    rejects = _rejects(out / "rejects.jsonl")
    dup = [r for r in rejects if r[0] == "v60"]
    assert len(dup) == 1 and dup[0][2][0] == "duplicate_visit"
    assert dup[0][1].startswith("dataframe[")
    assert len(_results(out)) == summary.scored


def test_worker_killed_mid_run(client: Any, wave: tuple[Path, list[str], Path]) -> None:
    """The first partition task ends its worker process: Dask runs it again on a new
    worker and the run completes with every record, or it fails with nothing left."""
    data, _, root = wave
    out = root / "killed_out"
    marker = root / "fault.marker"
    client.run(on_dask._arm_fault, str(marker))
    try:
        summary = on_dask.score(DEMO, str(data), out, client=client)
    except Exception:
        assert marker.exists()
        assert not out.exists()
        assert not [p for p in root.iterdir() if p.name.startswith(".killed_out")]
        return
    finally:
        client.run(on_dask._arm_fault, None)
    assert marker.exists()  # a worker did die
    _assert_same(out, root)
    assert summary.read == summary.scored + summary.rejected


def test_cli_dask_local(wave: tuple[Path, list[str], Path]) -> None:
    data, _, root = wave
    out = root / "cli_out"
    result = CliRunner().invoke(
        cli, ["score", DEMO, str(data), "--dask", "local", "-o", str(out), "--format", "json"]
    )
    assert result.exit_code == 1, result.output  # some visits were rejected
    summary = json.loads(result.stdout)
    assert summary["read"] == summary["scored"] + summary["rejected"]
    _assert_same(out, root)


def test_refuses_a_foreign_folder(client: Any, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "w.jsonl").write_text(json.dumps(_visit("v1", 1)) + "\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(on_dask.DaskScoreError):
        on_dask.score(DEMO, str(tmp_path / "data"), tmp_path / "out", client=client)
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"
    with pytest.raises(on_dask.DaskScoreError):
        on_dask.score(DEMO, str(tmp_path / "nothing*.csv"), tmp_path / "o2", client=client)
    assert sorted(os.listdir(tmp_path)) == ["data", "out"]


def test_a_failing_partition_leaves_nothing(client: Any, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.jsonl").write_text(json.dumps(_visit("v1", 1)) + "\n")
    (tmp_path / "data" / "b.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(Exception, match=r"b\.parquet"):
        on_dask.score(DEMO, str(tmp_path / "data"), tmp_path / "out", client=client)
    assert sorted(os.listdir(tmp_path)) == ["data"]


def test_cli_without_dask(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def missing() -> None:
        raise ImportError("scoring on Dask needs dask.distributed: pip install 'sbm-engine[dask]'")

    monkeypatch.setattr(on_dask, "require_dask", missing)
    result = CliRunner().invoke(
        cli, ["score", DEMO, str(tmp_path), "--dask", "local", "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert "sbm-engine[dask]" in result.output


def test_distributions_of_parts(client: Any, wave: tuple[Path, list[str], Path]) -> None:
    """`median`, `percentile` and the band counts of a folder of parts are those of one
    file: the parts' values are gathered per group, not summed."""
    data, files, root = wave
    text = Path(DEMO).read_text(encoding="utf-8").rstrip()
    assert text.endswith("}")
    std = root / "dist.sbm"
    std.write_text(
        text[:-1]
        + "    rollup wait_median = median(answer(wait))\n"
        + "    rollup visit_p90 = percentile(visit, 90)\n"
        + "    rollup quartiles = percentile(visit, 75) - percentile(visit, 25)\n}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    single = root / "dist_single.parquet"
    done = runner.invoke(cli, ["score", str(std), *files, "-o", str(single)])
    assert done.exit_code == 1, done.output
    out = root / "dist_out"
    on_dask.score(str(std), str(data), out, client=client)
    for by in ("point", "network"):
        args = ["--by", by, "--standard", str(std), "--format", "json"]
        parts = runner.invoke(cli, ["rollup", str(out), *args])
        whole = runner.invoke(cli, ["rollup", str(single), *args])
        assert parts.exit_code == 0, parts.output
        report = json.loads(parts.stdout)
        assert report == json.loads(whole.stdout)
        from sbm_engine.cli.common import load_standard
        from sbm_engine.cli.rollup import accumulate, report_json

        by_record = accumulate((str(out),), by, load_standard(str(std)), str(std), columnar=False)
        assert json.loads(report_json(by_record.report())) == report
        for group in report["groups"]:
            counts = group["coefficients"]["visit"]["bands"]
            assert list(counts) == ["excellent", "good", "fair", "poor"]
            assert sum(counts.values()) == group["coefficients"]["visit"]["n"]
            assert group["rollups"]["wait_median"] is not None
