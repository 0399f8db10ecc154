"""The `sbm` command line: one module per command, loaded only when it runs.

`sbm --help` imports click and nothing else of weight, so it starts fast; each
command's module imports the engine when the command is invoked.

Exit status (product spec): 0 all went well; 1 some visits were rejected or a
check failed; 2 nothing could be done (bad standard, unreadable input, bad usage).
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import Any

import click

from .. import __version__

#: command name -> (module, function, one-line help shown by `sbm --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("check", "check", "Parse and check standards and run their examples."),
    "test": ("check", "test", "Run the examples in standards: ends with `N passed, N failed`."),
    "fmt": ("fmt", "fmt", "Format standards in the canonical layout."),
    "score": ("score", "score", "Score a batch of visits against a standard."),
    "rollup": (
        "rollup",
        "rollup",
        "Aggregate scored visits by point, specialist, region or network.",
    ),
    "explain": ("explain", "explain", "Show every step of one visit's scoring."),
    "export": (
        "export",
        "export",
        "Export a standard's questionnaire as JSON, TOML or JSON Schema.",
    ),
    "new": ("scaffold", "new", "Start a new standard that extends an existing one."),
    "diff": ("scaffold", "diff", "List what changed between two versions of a standard."),
    "plugins": ("plugins", "plugins", "List installed packs: versions, hooks and standards."),
    "compare": (
        "compare",
        "compare",
        "Compare waves: what changed, and whether it is more than noise.",
    ),
    "calibrate": (
        "calibrate",
        "calibrate",
        "Check whether evaluators agree, per item and per evaluator.",
    ),
    "control": (
        "control",
        "control",
        "Field control: visits out of their window, late questionnaires.",
    ),
    "drivers": ("drivers", "drivers", "What moves the client's opinion: importance of items."),
    "diagnose": (
        "diagnose",
        "diagnose",
        "Where losses come from and which investment each calls for.",
    ),
    "plan": (
        "plan",
        "plan",
        "The cheapest investments that reach a target.",
    ),
    "report": (
        "report",
        "report",
        "A report for managers: one HTML file or an Excel workbook, with charts.",
    ),
    "serve": ("serve", "serve", "Serve the engine over HTTP: score, explain, roll up, check."),
    "lsp": ("lsp", "lsp", "A language server for editors: diagnostics, hover, completion."),
}


#: Commands that do no linear algebra on a wave's worth of data: their process starts
#: OpenBLAS (numpy's BLAS) with one thread. Starting its thread pool, with a buffer for
#: each thread, costs about as much as importing the rest of numpy, and none of these
#: commands would use it (nor would the worker processes of `--jobs`, which inherit it).
#: Set only when `sbm` starts the process (`main`), never over the user's own
#: OPENBLAS_NUM_THREADS.
ONE_BLAS_THREAD: frozenset[str] = frozenset(
    {"check", "test", "fmt", "score", "rollup", "explain", "export", "new", "diff"}
    | {"plugins", "control", "lsp"}
)


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        if _starting and name in ONE_BLAS_THREAD:
            os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        command = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
        _started()  # the command's own work may make garbage cycles
        return command  # type: ignore[no-any-return]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, _, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""\b
Examples:
  sbm check standards/branch.sbm
  sbm score bank.branch wave.csv -o scored.parquet --rejects rejects.jsonl
  sbm rollup scored.jsonl --by point
  sbm explain branch.sbm wave.jsonl --visit v042

\b
Exit status: 0 all went well; 1 visits rejected or a check failed;
2 nothing could be done (bad standard, unreadable input, bad usage).
Shell completion (bash): eval "$(_SBM_COMPLETE=bash_source sbm)"
""",
)
@click.version_option(__version__, prog_name="sbm")
@click.option(
    "--lang",
    type=click.Choice(["ru", "en"]),
    default=None,
    help="Language of messages (default: SBM_LANG, else the locale).",
)
def cli(lang: str | None) -> None:
    """SBM engine: service standards as code, scored exactly."""
    from ..messages import set_language  # here, not at the top: `sbm --help` stays light

    set_language(lang)  # None: as SBM_LANG or the locale say


_collector_paused = False
#: `main` is starting the process and no command has been imported yet.
_starting = False


def _pause_collector() -> None:
    """Pause the cyclic garbage collector while the process starts.

    Why: start-up (importing the command, the engine, numpy and pyarrow) allocates
    tens of thousands of objects that live as long as the process and frees almost
    none of them through cycles, yet every collection those allocations trigger walks
    the whole growing heap, a good part of a small wave's run. The collector comes back,
    with the start-up objects frozen out of its walks, once the command is imported.
    """
    global _collector_paused
    if gc.isenabled():
        gc.disable()
        _collector_paused = True


def _started() -> None:
    """Start-up is over: the collector on again (if `main` paused it), its start-up
    objects frozen out of its walks."""
    global _collector_paused, _starting
    _starting = False
    if _collector_paused:
        _collector_paused = False
        gc.freeze()
        gc.enable()


def main(argv: list[str] | None = None) -> Any:
    global _starting
    from . import common

    common.owns_process = True
    _starting = True
    _pause_collector()
    try:
        return cli.main(args=argv, prog_name="sbm")
    except Exception as exc:  # a broken pack is "nothing could be done": exit 2, no traceback
        from ..plugins import PluginError

        if isinstance(exc, PluginError):
            from .common import error_line

            click.echo(error_line(str(exc)), err=True)
            sys.exit(2)
        raise
    finally:
        _started()  # `sbm --help`, a usage error: no command was imported
