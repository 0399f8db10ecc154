"""Streaming batch scoring: files or Arrow batches of visits in, scored Arrow tables
and `RejectedVisit`s out, with the contract of the record path kept across batches
(duplicate visit_ids, sources `file:LINE`/`file:ROW`/`file:SHEET:ROW`, CSV cells read
as `io.csv_rows` reads them, JSONL and XLSX read by the columnar readers
`io.jsonl_columns` and `io.xlsx_columns`, outputs spelt as the record writers spell
them).

Memory is bounded by the chunk size (plus 8 bytes per visit_id seen, for
duplicates), not by the wave; reading, scoring and writing overlap in threads, and
chunks can be scored in worker processes. `CompiledStandard.score_batches` and
`CompiledStandard.score_files` are the entry points; `sbm score` runs `run`.

Modules: `inputs` (files in chunks, where rows are), `scoring` (one chunk),
`duplicates` (ids across chunks), `rejects` (sources, the spool), `outputs` (table
writers), `workers` (the process pool), `run` (the driver), `batches` (the
iterator API).
"""

from __future__ import annotations

from .batches import ScoredBatch, score_batches, score_files
from .errors import Unsupported
from .inputs import CHUNK_ROWS
from .outputs import record_writer, result_columns, text_columns
from .run import Counts, Setup, Tally, arrow_available, run, why_not
from .workers import Job, job_of

__all__ = [
    "CHUNK_ROWS",
    "Counts",
    "Job",
    "ScoredBatch",
    "Setup",
    "Tally",
    "Unsupported",
    "arrow_available",
    "job_of",
    "record_writer",
    "result_columns",
    "run",
    "score_batches",
    "score_files",
    "text_columns",
    "why_not",
]
