"""Scoring a wave on a Dask cluster: `score(standard, dataset, output_dir, client=...)`.

Why Dask and not a home-made pool: a national network's history outgrows one
machine, and the places that hold it already run a cluster. The engine brings only
the partition function; Dask places it, retries it when a worker dies, and moves
nothing but small summaries back to the client.

How a run goes (the contract of `sbm score`, kept across partitions):

1. Each partition is scored on a worker as `sbm score` scores one file: a Parquet
   or CSV file with the streaming path (`sbm_engine.pipeline`, whose partition function
   is `score_table`), any other file with the record path, so every reject keeps the
   `file:LINE` (Parquet: `file:ROW`) source `sbm score` gives it. A Dask dataframe
   partition is first written as a Parquet file in the temporary folder and scored
   the same way; its rejects are named `dataframe[N]:ROW`. The worker writes its part
   (`part-NNNNN.parquet`) and its rejects, and sends back only counts and 64-bit hashes
   of the visit ids it saw.
2. Duplicates across partitions: the client finds the hashes seen in an earlier
   partition, the workers confirm them against the real ids (a hash may collide),
   and the partitions holding later occurrences are rewritten: their scored copies
   move to the rejects with the `duplicate_visit` error `sbm score` gives (the record
   re-read from the input, as `sbm score` would have kept it), their rejected copies
   get that error first. The first occurrence, in the order the files are listed
   (sorted by path for a folder or a glob), is the one that counts, as in `sbm score`.
3. The rejects are joined into one `rejects.jsonl` in partition order, every record
   is counted (read = scored + rejected, or the run fails), `summary.json` is written
   and the temporary folder beside `output_dir` is renamed to it. Until that rename
   nothing is at `output_dir`; a failed run removes its temporary folder.

The workers must see `output_dir`'s parent folder and the input files at the same
paths as the client (one machine, or a shared filesystem).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from .io.writers import json_line
from .pipeline import job_of, result_columns, score_files, text_columns

#: Extensions of the files a folder dataset is made of (a glob may name others the
#: record path reads, such as .xlsx).
DATASET_SUFFIXES: Final = (".parquet", ".csv", ".tsv", ".jsonl", ".ndjson")
#: Marks a folder as this module's output, so a rerun may replace it.
SUMMARY: Final = "summary.json"
REJECTS: Final = "rejects.jsonl"
_EXTRA_HINT: Final = "pip install 'sbm-engine[dask]'"


class DaskScoreError(Exception):
    """A dataset or an output folder that cannot be used; nothing was written."""


@attrs.frozen
class Summary:
    """What a run did: every record read is scored or rejected."""

    read: int
    scored: int
    rejected: int
    duplicates: int  # visits moved from a part to the rejects: their id is in an earlier part
    partitions: int
    seconds: float
    output: str
    rejects: str

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class _Job:
    """What a worker needs to load the standard once: its id or path, the options,
    and the language of the messages (a worker does not inherit `--lang`)."""

    standard: str
    allow_unknown: bool
    language: str
    options: Mapping[str, Any]
    chunk_rows: int
    #: this run: a worker of a long-lived cluster loads the standard again for each
    #: run, so an edited `.sbm` file is never scored with its old text
    run: str = attrs.field(factory=lambda: uuid.uuid4().hex)


@attrs.frozen
class _Part:
    """One partition: an input file, or (`path` None) a dataframe partition."""

    index: int
    path: str | None
    label: str  # what rejects name it by: the path as given, or `dataframe[N]`

    def input(self, tmp: Path) -> Path:
        return (
            Path(self.path) if self.path is not None else tmp / "_inputs" / f"{self.stem}.parquet"
        )

    @property
    def stem(self) -> str:
        return f"part-{self.index:05d}"


@attrs.frozen
class _PartInfo:
    index: int
    read: int
    scored: int
    rejected: int
    hashes: Any  # sorted unique uint64 hashes of the visit ids claimed here


def require_dask() -> None:
    """Raise ImportError naming the extra when dask.distributed is not installed."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"scoring on Dask needs dask.distributed: {_EXTRA_HINT}") from exc


# -- the public entry point ----------------------------------------------------------------------


def score(
    standard: Any,
    dataset: Any,
    output_dir: str | os.PathLike[str],
    *,
    client: Any = None,
    workers: int | None = None,
    allow_unknown: bool = False,
    encoding: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    chunk_rows: int = 65536,
) -> Summary:
    """Score `dataset` against `standard` on a Dask cluster into the folder `output_dir`.

    `standard`: a `.sbm` path or an installed id (loaded once per worker), or a
    `CompiledStandard` (reloaded from its file on the workers). `dataset`: a folder
    (its Parquet, CSV and JSONL files, sorted by path; names starting with `.` or
    `_` skipped), a glob, a file, a list of these, or a Dask dataframe. `client`: a
    `distributed.Client`, a scheduler address, `"local"` (a `LocalCluster` of
    `workers` processes, closed at the end), or None (the current client, else
    `"local"`). The CSV options are those of `sbm score`.

    Writes `part-NNNNN.parquet` (one per partition, in order), `rejects.jsonl` and
    `summary.json`, all or nothing. An existing `output_dir` is replaced only when it
    is empty or an earlier output of this function."""
    require_dask()
    started = time.perf_counter()
    std_ref, allow_unknown = _standard_ref(standard, allow_unknown)
    _refuse_history(standard, allow_unknown)
    out = Path(output_dir)
    frame = _is_frame(dataset)
    files = [] if frame else dataset_files(dataset)
    _check_output(out, files)
    from .messages import language

    job = _Job(
        std_ref,
        allow_unknown,
        language(),
        {"encoding": encoding, "delimiter": delimiter, "decimal": decimal, "sheet": None},
        chunk_rows,
    )
    if frame:
        parts = [_Part(i, None, f"dataframe[{i}]") for i in range(dataset.npartitions)]
    else:
        parts = [_Part(i, p, p) for i, p in enumerate(files)]
    # absolute: the workers may run in another folder than the client
    tmp = out.absolute().parent / f".{out.name}.tmp-{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    try:
        (tmp / "_rejects").mkdir()
        (tmp / "_inputs").mkdir()
        with _client(client, workers) as dask_client:
            infos = _first_pass(dask_client, job, parts, tmp, dataset if frame else None)
            moved = _cross_duplicates(dask_client, job, parts, tmp, infos)
        summary = _finish(tmp, out, parts, infos, moved, started)
        _publish(tmp, out)
        return summary
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def dataset_files(dataset: Any) -> list[str]:
    """The files of a folder, a glob, a file or a list of them, in scoring order."""
    if isinstance(dataset, str | os.PathLike):
        items = [os.fspath(dataset)]
    else:
        items = [os.fspath(d) for d in dataset]
    files: list[str] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(
                str(f)
                for f in path.rglob("*")
                if f.is_file()
                and f.suffix.lower() in DATASET_SUFFIXES
                and not any(p.startswith((".", "_")) for p in f.relative_to(path).parts)
            )
        elif glob.has_magic(item):
            found = sorted(f for f in glob.glob(item, recursive=True) if Path(f).is_file())
        elif path.is_file():
            found = [item]
        else:
            raise DaskScoreError(f"{item}: no such file or folder")
        if not found:
            raise DaskScoreError(f"{item}: no Parquet, CSV or JSONL files")
        files.extend(found)
    if len(set(files)) != len(files):
        raise DaskScoreError("a file is named twice in the dataset")
    return files


# -- the client side -----------------------------------------------------------------------------


def _standard_ref(standard: Any, allow_unknown: bool) -> tuple[str, bool]:
    """What the workers load: a compiled standard cannot be pickled (its evaluator is
    generated code), so they compile it again from its file."""
    if isinstance(standard, str | os.PathLike):
        return os.fspath(standard), allow_unknown
    model = getattr(standard, "model", None)
    if model is None or not getattr(model, "file", None):
        raise DaskScoreError("give the standard as a path or an installed id")
    return str(model.file), allow_unknown or bool(standard.allow_unknown)


def _refuse_history(standard: Any, allow_unknown: bool) -> None:
    """A standard that uses history is not scored on a cluster: a visit's outcome
    depends on the visits of its point in other partitions (`sbm score` scores it)."""
    if isinstance(standard, str | os.PathLike):
        from .api import load

        try:
            standard = load(standard, allow_unknown=allow_unknown)
        except Exception:  # the workers load it too, and say what is wrong
            return
    if getattr(standard, "uses_history", False):
        from .messages import message

        raise DaskScoreError(message("history.dask", standard=standard.id))


def _is_frame(dataset: Any) -> bool:
    return hasattr(dataset, "to_delayed") and hasattr(dataset, "npartitions")


def _check_output(out: Path, files: Sequence[str]) -> None:
    if not out.parent.is_dir():
        raise DaskScoreError(f"{out}: the folder {str(out.parent)!r} does not exist")
    if out.exists() and not _replaceable(out):
        raise DaskScoreError(
            f"{out}: exists and is not an earlier output of `sbm score --dask`; "
            "choose another folder or remove it"
        )
    root = out.resolve()
    for f in files:
        if Path(f).resolve().is_relative_to(root):
            raise DaskScoreError(f"{f}: an input inside the output folder {out}")


def _replaceable(out: Path) -> bool:
    return out.is_dir() and (not any(out.iterdir()) or (out / SUMMARY).is_file())


@contextlib.contextmanager
def _client(client: Any, workers: int | None) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if isinstance(client, Client):
        yield client
        return
    if client is None:
        try:
            from distributed import get_client

            yield get_client()
            return
        except ValueError:  # no client in this process: start a local cluster
            client = "local"
    if client == "local":
        # One thread per worker: scoring holds the GIL, so processes give the parallelism.
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
            ) as cluster,
            Client(cluster) as local,
        ):
            yield local
        return
    with Client(str(client)) as remote:
        yield remote


def _first_pass(
    client: Any, job: _Job, parts: list[_Part], tmp: Path, frame: Any
) -> list[_PartInfo]:
    if frame is None:
        futures = [
            client.submit(_score_part, job, p, str(tmp), None, pure=False, key=_key("score", p))
            for p in parts
        ]
    else:
        import dask

        pieces = frame.to_delayed()
        tasks = [
            dask.delayed(_score_part, pure=False)(job, p, str(tmp), piece)
            for p, piece in zip(parts, pieces, strict=True)
        ]
        futures = client.compute(tasks)
    infos: list[_PartInfo] = client.gather(futures)
    return sorted(infos, key=lambda i: i.index)


def _key(step: str, part: _Part) -> str:
    return f"sbm-{step}-{part.stem}-{uuid.uuid4().hex[:8]}"


def _cross_duplicates(
    client: Any, job: _Job, parts: list[_Part], tmp: Path, infos: list[_PartInfo]
) -> dict[int, int]:
    """Find the visit ids of each partition seen in an earlier one and move them to
    the rejects; {partition: records moved from its results}."""
    import numpy as np

    if not infos:
        return {}
    hashes = np.concatenate([i.hashes for i in infos])
    owner = np.concatenate([np.full(len(i.hashes), i.index, dtype=np.int64) for i in infos])
    _, first = np.unique(hashes, return_index=True)  # first entry = the earliest partition
    later = np.ones(len(hashes), dtype=bool)
    later[first] = False
    suspects = np.unique(hashes[later])
    if not suspects.size:
        return {}
    # Every partition holding a suspect hash (earliest and later ones) names its real
    # ids; each is sent only the hashes it holds, so the messages grow with the
    # duplicates, not with the wave.
    involved = np.isin(hashes, suspects)
    holders = np.unique(owner[involved]).tolist()
    futures = {
        j: client.submit(
            _ids_with,
            parts[j],
            str(tmp),
            hashes[involved & (owner == j)],
            pure=False,
            key=_key("ids", parts[j]),
        )
        for j in holders
    }
    named: dict[int, dict[int, set[str]]] = dict(
        zip(futures, client.gather(list(futures.values())), strict=True)
    )
    seen: dict[int, set[str]] = {}
    dups: dict[int, set[str]] = {}
    for j in holders:
        for h, ids in named[j].items():
            earlier = seen.setdefault(h, set())
            repeated = ids & earlier
            if repeated:
                dups.setdefault(j, set()).update(repeated)
            earlier |= ids
    fixes = {
        j: client.submit(
            _move_duplicates, job, parts[j], str(tmp), ids, pure=False, key=_key("dups", parts[j])
        )
        for j, ids in dups.items()
    }
    moved = dict(zip(fixes, client.gather(list(fixes.values())), strict=True))
    # Every rewrite succeeded: put them in place of the first pass's files.
    for j in fixes:
        stem = parts[j].stem
        os.replace(tmp / f"{stem}.parquet.dedup", tmp / f"{stem}.parquet")
        os.replace(tmp / "_rejects" / f"{stem}.jsonl.dedup", tmp / "_rejects" / f"{stem}.jsonl")
    return moved


def _finish(
    tmp: Path,
    out: Path,
    parts: list[_Part],
    infos: list[_PartInfo],
    moved: dict[int, int],
    started: float,
) -> Summary:
    """Join the rejects, count what was written, and write the summary."""
    import pyarrow.parquet as pq

    read = sum(i.read for i in infos)
    scored = rejected = 0
    with open(tmp / REJECTS, "wb") as joined:
        for p in parts:
            scored += pq.ParquetFile(tmp / f"{p.stem}.parquet").metadata.num_rows
            rejects = tmp / "_rejects" / f"{p.stem}.jsonl"
            if rejects.exists():
                with open(rejects, "rb") as src:
                    for line in src:
                        if line.strip():
                            joined.write(line if line.endswith(b"\n") else line + b"\n")
                            rejected += 1
    if scored + rejected != read:
        raise RuntimeError(
            f"records lost: {read} read, {scored} scored and {rejected} rejected written"
        )
    shutil.rmtree(tmp / "_rejects")
    shutil.rmtree(tmp / "_inputs")
    summary = Summary(
        read=read,
        scored=scored,
        rejected=rejected,
        duplicates=sum(moved.values()),
        partitions=len(parts),
        seconds=round(time.perf_counter() - started, 3),
        output=str(out),
        rejects=str(out / REJECTS),
    )
    (tmp / SUMMARY).write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
    return summary


def _publish(tmp: Path, out: Path) -> None:
    """Rename the finished folder to `out`; an earlier output there is replaced."""
    if not out.exists():
        os.replace(tmp, out)
        return
    if not _replaceable(out):  # appeared while the run went on
        raise DaskScoreError(f"{out}: appeared during the run and is not an earlier output")
    old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:12]}"
    os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


# -- the worker side -----------------------------------------------------------------------------

_STANDARDS: dict[tuple[str, bool, str, str], Any] = {}
#: Testing only (`_arm_fault`): a marker file; the first partition task to create it
#: ends its worker process, as a machine lost mid-run would.
_FAULT: str | None = None


def _arm_fault(marker: str | None) -> None:
    global _FAULT
    _FAULT = marker


def _maybe_fault() -> None:
    if _FAULT is None:
        return
    try:
        fd = os.open(_FAULT, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(fd)
    os._exit(1)


def _standard(job: _Job) -> Any:
    """The run's standard, loaded once per worker and run; messages in the run's language."""
    from .messages import set_language

    set_language(job.language)
    key = (job.standard, job.allow_unknown, job.language, job.run)
    if key not in _STANDARDS:
        from .api import load

        _STANDARDS.clear()  # an earlier run's standard is not needed again
        _STANDARDS[key] = load(job.standard, allow_unknown=job.allow_unknown)
    return _STANDARDS[key]


def _score_part(job: _Job, part: _Part, tmp_dir: str, frame: Any) -> _PartInfo:
    """Score one partition into `part-NNNNN.parquet` and its rejects (task of pass 1)."""
    tmp = Path(tmp_dir)
    std = _standard(job)
    _maybe_fault()
    source = part.input(tmp)
    if frame is not None:
        _stage_frame(frame, source)
    out = tmp / f"{part.stem}.parquet"
    rejects = tmp / "_rejects" / f"{part.stem}.jsonl"
    read, scored, rejected = _score_file(std, job, source, out, rejects)
    if not out.exists() or out.stat().st_size == 0:
        _empty_part(std, out)
    if part.path is None:
        _relabel(rejects, str(source), part.label)
    return _PartInfo(part.index, read, scored, rejected, _hashes(_claimed_ids(out, rejects)))


def _empty_part(std: Any, out: Path) -> None:
    """A part with no rows but the results' columns (`sbm score` leaves an empty file
    when nothing scored), so every part reads as a table: text columns as text, the
    others typeless (null), which Arrow unifies with any type of another part."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = result_columns(std)
    text = set(text_columns(columns))
    schema = pa.schema([(c, pa.string() if c in text else pa.null()) for c in columns])
    pq.write_table(schema.empty_table(), out)


def _stage_frame(frame: Any, path: Path) -> None:
    """A dataframe partition as a Parquet file, text as plain strings (pandas may
    hand large strings, which the Arrow path reads as other types)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = [
        pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type) else f
        for f in table.schema
    ]
    table = table.cast(pa.schema(fields))
    partial = path.with_name(path.name + ".partial")
    pq.write_table(table, partial)
    os.replace(partial, path)


def _score_file(std: Any, job: _Job, source: Path, out: Path, rejects: Path) -> tuple[int, ...]:
    """Score one file as `sbm score FILE -o out --rejects rejects` does
    (`pipeline.score_files`: streamed when it can be, else record by record)."""
    counts = score_files(
        std,
        [source],
        out,
        rejects,
        options=dict(job.options),
        chunk_rows=job.chunk_rows,
        job=job_of(std, job.language),
    )
    return counts.read, counts.scored, counts.rejected


def _relabel(rejects: Path, staged: str, label: str) -> None:
    """Name a dataframe partition's rejects `dataframe[N]:ROW`, not by the staged file."""
    if not rejects.exists():
        return
    found = _read_rejects(rejects)
    for reject in found:
        reject["source"] = _relabelled(reject.get("source"), staged, label)
    _write_rejects(rejects, found)


def _relabelled(source: Any, staged: str, label: str) -> Any:
    if isinstance(source, str) and source.startswith(staged + ":"):
        return label + source[len(staged) :]
    return source


def _write_rejects(path: Path, rejects: Sequence[dict[str, Any]]) -> None:
    """Rejects as JSON lines spelt as `sbm score`'s JSONL writer spells them."""
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as f:
        for reject in rejects:
            f.write(json_line(reject))
    os.replace(partial, path)


def _claimed_ids(out: Path, rejects: Path) -> list[str]:
    """The visit ids this partition's records claim, as `ScoringSession` compares them:
    every scored visit and every reject that has an id (an unreadable row has none)."""
    import pyarrow.parquet as pq

    from .standard import visit_key

    ids = [visit_key(v) for v in pq.read_table(out, columns=["visit_id"]).column(0).to_pylist()]
    for reject in _read_rejects(rejects):
        ids.append(visit_key(reject.get("visit_id")))
    return [i for i in ids if i is not None]


def _read_rejects(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _hashes(ids: Sequence[str]) -> Any:
    """Sorted unique 64-bit hashes (pandas' SipHash with its fixed key: the same in
    every process) of `ids`."""
    import numpy as np
    from pandas.util import hash_array

    if not ids:
        return np.zeros(0, dtype=np.uint64)
    return np.unique(hash_array(np.asarray(ids, dtype=object), categorize=False))


def _ids_with(part: _Part, tmp_dir: str, wanted: Any) -> dict[int, set[str]]:
    """{hash: the visit ids of this partition with that hash} for the hashes `wanted`
    (a uint64 array)."""
    import numpy as np

    tmp = Path(tmp_dir)
    ids = _claimed_ids(tmp / f"{part.stem}.parquet", tmp / "_rejects" / f"{part.stem}.jsonl")
    if not ids:
        return {}
    from pandas.util import hash_array

    found: dict[int, set[str]] = {}
    hashed = hash_array(np.asarray(ids, dtype=object), categorize=False)
    for i in np.flatnonzero(np.isin(hashed, wanted)).tolist():
        found.setdefault(int(hashed[i]), set()).add(ids[i])
    return found


def _move_duplicates(job: _Job, part: _Part, tmp_dir: str, dups: set[str]) -> int:
    """Reject this partition's records whose visit id an earlier partition holds, as
    `sbm score` would have: a scored one moves to the rejects (its record read again
    from the input) with the `duplicate_visit` error; a rejected one gets that error
    first. Writes `.dedup` files beside the first pass's, which stay untouched until
    every partition is done (so a retried task starts from the same files)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from .formats import read_visits
    from .standard import duplicate, duplicate_error, visit_key

    tmp = Path(tmp_dir)
    std = _standard(job)
    source = part.input(tmp)
    results = pq.read_table(tmp / f"{part.stem}.parquet")
    ids = pa.array([visit_key(v) for v in results.column("visit_id").to_pylist()], type=pa.string())
    repeated = pc.fill_null(
        pc.is_in(ids, value_set=pa.array(sorted(dups), type=pa.string())), False
    )
    pq.write_table(results.filter(pc.invert(repeated)), tmp / f"{part.stem}.parquet.dedup")
    rejects = _read_rejects(tmp / "_rejects" / f"{part.stem}.jsonl")
    rejected_at = {r.get("source") for r in rejects}
    for reject in rejects:
        vid = visit_key(reject.get("visit_id"))
        errors = reject.get("errors") or []
        if vid in dups and not (errors and errors[0].get("code") == "duplicate_visit"):
            reject["errors"] = [duplicate_error(reject.get("visit_id")).to_dict(), *errors]
    expected = int(pc.sum(repeated).as_py() or 0)
    moved: list[dict[str, Any]] = []
    if expected:
        for rec in read_visits(source, visit_fields=std.model.visit_fields, **job.options):
            if not isinstance(rec.record, Mapping):
                continue
            vid = rec.record.get("visit_id")
            where = _relabelled(rec.source, str(source), part.label)
            if visit_key(vid) in dups and where not in rejected_at:
                moved.append(duplicate(vid, where, rec.record, None).to_dict())
    if len(moved) != expected:
        raise RuntimeError(
            f"{part.label}: {expected} scored duplicates, {len(moved)} found again in the input"
        )
    merged = sorted([*rejects, *moved], key=lambda r: _position(r.get("source")))
    _write_rejects(tmp / "_rejects" / f"{part.stem}.jsonl.dedup", merged)
    return expected


def _position(source: Any) -> int:
    """The line (or row) of a `file:LINE` source, to keep the rejects in input order."""
    if isinstance(source, str):
        _, _, tail = source.rpartition(":")
        if tail.isdigit():
            return int(tail)
    return 0
