"""`sbm lsp`: the protocol wiring over the compiler's own functions.

Each feature is a thin handler: it builds a `View` (the document's current text with
the last check of its standard) and asks the protocol-free modules beside this one.

Nothing parses on the server's loop either. Hover and completion read a text changed
since its check lexically until the check lands; definition, references, outline and
rename await a parse of it on another thread (`parsed_view`). A rename edits other
files at the places its check found, so when one of them holds another text now (an
open document edited since, a file changed on disk) the check is done again first,
off the loop (`consistent_view`).

Checks never run on the server's loop: an open or a change schedules one after a
pause in the typing (`debounce`), run on one worker thread, so a long check of a
large standard never delays a hover or a completion; a check whose text has been
changed since it was scheduled is skipped, and its result, if it was already running,
is dropped. When the standard has no errors its examples run next, as `sbm check`
runs them, and their failures join the diagnostics. A change to a file reschedules
the checks of the open documents whose standard reads it; a file created on disk, those
of the open documents that named a file not found.

Nothing a document holds may stop the server: every handler turns an unexpected
failure into a logged message (`window/logMessage`) and an empty answer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import os
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidRequest
from pygls.lsp.server import LanguageServer

from .. import __version__
from ..messages import message, normalize, set_language
from ..sources import SourceError, read_source
from .analysis import (
    Analysis,
    ParseCache,
    analyse,
    display_name,
    example_failures,
    path_of,
    path_uri,
    uri_path,
)
from .completion import complete
from .diagnostics import quick_fixes, to_protocol
from .hover import hover_text
from .index import FileIndex, Occurrence
from .positions import LineIndex
from .symbols import Symbol, format_edits, outline
from .view import View, parse_index

log = logging.getLogger(__name__)

#: Seconds without a change before a document is checked.
DEBOUNCE = 0.15

_F = TypeVar("_F", bound=Callable[..., Any])


class Refused(JsonRpcInvalidRequest):
    """A request the server declines with a reason for the person (a rename to a
    keyword): an answer, not a failure, so it is not logged as one."""


class _NotRefusals(logging.Filter):
    """Keeps pygls from logging a `Refused` answer with a traceback, as it does for
    any exception a handler raises."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], Refused))


_SYMBOL_KINDS = {
    "standard": types.SymbolKind.Module,
    "scale": types.SymbolKind.Enum,
    "label": types.SymbolKind.EnumMember,
    "field": types.SymbolKind.Field,
    "section": types.SymbolKind.Namespace,
    "item": types.SymbolKind.Property,
    "coefficient": types.SymbolKind.Function,
    "rollup": types.SymbolKind.Function,
    "constant": types.SymbolKind.Constant,
    "target": types.SymbolKind.Constant,
    "bands": types.SymbolKind.Constant,
    "example": types.SymbolKind.Event,
}

_COMPLETION_KINDS = {
    "item": types.CompletionItemKind.Property,
    "section": types.CompletionItemKind.Module,
    "scale": types.CompletionItemKind.Enum,
    "coefficient": types.CompletionItemKind.Function,
    "rollup": types.CompletionItemKind.Function,
    "field": types.CompletionItemKind.Field,
    "constant": types.CompletionItemKind.Constant,
    "tag": types.CompletionItemKind.Reference,
    "label": types.CompletionItemKind.EnumMember,
    "function": types.CompletionItemKind.Function,
    "value": types.CompletionItemKind.Constant,
    "keyword": types.CompletionItemKind.Keyword,
}


class SbmServer(LanguageServer):
    """The language server's state: open documents' last checks and pending checks."""

    def __init__(self) -> None:
        super().__init__(
            "sbm", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental
        )
        self.cache = ParseCache()
        self.analyses: dict[str, Analysis] = {}
        self.last_good: dict[str, FileIndex] = {}
        self.pending: dict[str, asyncio.TimerHandle] = {}
        self.versions: dict[str, int] = {}
        self.worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sbm-check")
        #: Parses a request needs (`parsed_view`), beside the checks, off the loop.
        self.parser = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sbm-parse")
        self.debounce = DEBOUNCE
        self.run_examples = True
        self.stopping = False

    # -- reporting -------------------------------------------------------------------------

    def log(self, text: str, kind: types.MessageType = types.MessageType.Log) -> None:
        try:
            self.window_log_message(types.LogMessageParams(kind, text))
        except Exception:  # no client to tell: the log file has it
            log.exception("cannot send a log message")
        log.info(text)

    def failed(self, what: str) -> None:
        self.log(
            message("lsp.log.failed", what=what) + "\n" + traceback.format_exc(),
            types.MessageType.Error,
        )

    # -- documents -------------------------------------------------------------------------

    def encoding(self) -> str:
        enc = self.workspace.position_encoding
        return str(getattr(enc, "value", enc) or "utf-16")

    def text_of(self, uri: str) -> str:
        return self.workspace.get_text_document(uri).source

    def view(self, uri: str, index: FileIndex | None = None) -> View:
        """The document as it is now, without parsing it (`View`): until the text is
        checked, a text changed since the last check is read lexically."""
        path = uri_path(uri)
        view = View(
            self.analyses.get(uri),
            display_name(path),
            self.text_of(uri),
            self.cache,
            self.encoding(),
            self.last_good.get(uri),
            index,
        )
        if view.parsed:
            self.last_good[uri] = view.current
        return view

    async def parsed_view(self, uri: str) -> View:
        """`view`, with the current text parsed first on another thread when neither
        the last check nor the cache has it: for the requests that need every name
        in place (definition, references, rename, outline), never per keystroke."""
        view = self.view(uri)
        if view.parsed:
            return view
        text = view.text
        loop = asyncio.get_running_loop()
        index = await loop.run_in_executor(self.parser, parse_index, self.cache, view.display, text)
        if index is None or self.text_of(uri) != text:
            return self.view(uri)  # it does not parse, or the text moved on meanwhile
        return self.view(uri, index)

    def stale_files(self, analysis: Analysis) -> bool:
        """Whether a file the check read other than the document itself holds another
        text now (an open document edited since, a file changed on disk)."""
        for display, text in analysis.sources.items():
            if display == analysis.display:
                continue
            path = path_of(display)
            doc = self.workspace.text_documents.get(path_uri(path))
            try:
                now = doc.source if doc is not None else read_source(path)
            except (SourceError, OSError, ValueError):
                return True
            if now != text:
                return True
        return False

    def versioned_edits(self) -> bool:
        """Whether the editor takes edits tied to the version of each document."""
        try:
            edit = self.client_capabilities.workspace.workspace_edit  # type: ignore[union-attr]
            return bool(edit.document_changes)  # type: ignore[union-attr]
        except AttributeError:
            return False

    async def consistent_view(self, uri: str) -> View | None:
        """`parsed_view`, from a check whose copies of the other files are their texts
        now: a rename edits them at the places the check found, so a check older than
        their texts is done again (off the loop) first. None when the texts keep
        changing under it."""
        for _ in range(3):
            view = await self.parsed_view(uri)
            if view.analysis is None or not self.stale_files(view.analysis):
                return view
            doc = self.workspace.get_text_document(uri)
            text, version = doc.source, doc.version
            loop = asyncio.get_running_loop()
            analysis = await loop.run_in_executor(
                self.parser, analyse, uri_path(uri), text, version, self.overlays(), self.cache
            )
            if self.text_of(uri) != text or self.stale_files(analysis):
                continue  # typed into meanwhile: once more
            return View(
                analysis,
                analysis.display,
                text,
                self.cache,
                self.encoding(),
                self.last_good.get(uri),
                analysis.indexes.get(analysis.display),
            )
        return None

    def overlays(self) -> dict[Path, str]:
        out = {}
        for uri, doc in self.workspace.text_documents.items():
            try:
                out[uri_path(uri).resolve()] = doc.source
            except (OSError, ValueError):
                continue
        return out

    # -- checking --------------------------------------------------------------------------

    def schedule(self, uri: str) -> None:
        """Check `uri` once the typing pauses (`debounce`), replacing a check not yet begun."""
        if self.stopping:
            return
        old = self.pending.pop(uri, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self.pending[uri] = loop.call_later(self.debounce, self._start, uri)

    def _start(self, uri: str) -> None:
        self.pending.pop(uri, None)
        try:
            doc = self.workspace.get_text_document(uri)
            text, version = doc.source, doc.version
            self.versions[uri] = version if version is not None else -1
            overlays = self.overlays()
            path = uri_path(uri)
        except Exception:
            self.failed(uri)
            return
        if self.stopping:
            return
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.worker, self._check, uri, path, text, version, overlays)
        future.add_done_callback(functools.partial(self._checked, uri))

    def _current(self, uri: str, version: int | None) -> bool:
        return (
            self.versions.get(uri) == (version if version is not None else -1)
            and uri not in self.pending
        )

    def _check(
        self, uri: str, path: Path, text: str, version: int | None, overlays: dict[Path, str]
    ) -> Analysis | None:
        # On the worker thread: a failure travels in the future to `_checked`, which
        # reports it from the loop (the connection is the loop's alone).
        if not self._current(uri, version):
            return None  # a newer text is on its way
        return analyse(path, text, version, overlays, self.cache)

    def _checked(self, uri: str, future: asyncio.Future[Analysis | None]) -> None:
        if future.cancelled() or self.stopping:
            return
        try:
            analysis = future.result()
            if analysis is None or not self._current(uri, analysis.version):
                return
            self.analyses[uri] = analysis
            if analysis.display in analysis.indexes:
                self.last_good[uri] = analysis.indexes[analysis.display]
            self._publish(uri, analysis)
            if self.run_examples and analysis.ok and not self.stopping:
                loop = asyncio.get_running_loop()
                more = loop.run_in_executor(self.worker, self._examples, uri, analysis)
                more.add_done_callback(functools.partial(self._examples_done, uri, analysis))
        except Exception:
            self.failed(uri)

    def _examples(self, uri: str, analysis: Analysis) -> tuple[Any, ...] | None:
        if not self._current(uri, analysis.version):
            return None
        return example_failures(analysis)

    def _examples_done(self, uri: str, analysis: Analysis, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or self.stopping:
            return
        try:
            failures = future.result()
            if failures and self._current(uri, analysis.version):
                self._publish(uri, analysis, failures)
        except Exception:
            self.failed(uri)

    def _publish(self, uri: str, analysis: Analysis, extra: tuple[Any, ...] = ()) -> None:
        diagnostics = to_protocol(analysis, extra, self.encoding())
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=diagnostics, version=analysis.version
            )
        )

    def changed(self, uri: str) -> None:
        """`uri` changed: check it, and the open documents whose standard reads it."""
        self.schedule(uri)
        self.recheck_readers(uri)

    def recheck_readers(self, uri: str) -> None:
        """Check again the open documents whose last check read the file `uri`."""
        try:
            path = uri_path(uri).resolve()
        except (OSError, ValueError):
            return
        for other, analysis in list(self.analyses.items()):
            if other != uri and other in self.workspace.text_documents and path in analysis.files():
                self.schedule(other)

    def recheck_unresolved(self) -> None:
        """Check again the open documents whose last check missed a file (an import not
        found, a base not found): a file just created may be the one they name."""
        for other, analysis in list(self.analyses.items()):
            if other in self.workspace.text_documents and any(
                d.code in UNRESOLVED for d in analysis.diagnostics
            ):
                self.schedule(other)


#: The codes of a file the standard names that was not found: an import (E0601), the
#: base of `extends` (E0604).
UNRESOLVED = frozenset({"E0601", "E0604"})


def _safe(server: SbmServer, what: str) -> Callable[[_F], _F]:
    """A handler that logs its failure and answers nothing instead of failing."""

    def wrap(fn: _F) -> _F:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Refused:
                raise
            except Exception:
                server.failed(what)
                return None

        return run  # type: ignore[return-value]

    return wrap


_A = TypeVar("_A", bound=Callable[..., Awaitable[Any]])


def _safe_async(server: SbmServer, what: str) -> Callable[[_A], _A]:
    """`_safe` for a handler that awaits (pygls runs it as a task on its loop)."""

    def wrap(fn: _A) -> _A:
        @functools.wraps(fn)
        async def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except Refused:
                raise
            except Exception:
                server.failed(what)
                return None

        return run  # type: ignore[return-value]

    return wrap


def _range(rng: tuple[tuple[int, int], tuple[int, int]]) -> types.Range:
    (l1, c1), (l2, c2) = rng
    return types.Range(types.Position(l1, c1), types.Position(l2, c2))


def _location(view: View, occ: Occurrence) -> types.Location | None:
    rng = view.range_of(occ)
    if rng is None:
        return None
    return types.Location(path_uri(path_of(occ.file)), _range(rng))


def _document_symbol(view: View, sym: Symbol) -> types.DocumentSymbol:
    lines = view.lines
    full = _range((lines.position(sym.start), lines.position(sym.end)))
    name = _range((lines.position(sym.name_start), lines.position(sym.name_end)))
    return types.DocumentSymbol(
        name=sym.name,
        kind=_SYMBOL_KINDS.get(sym.kind, types.SymbolKind.Variable),
        range=full,
        selection_range=name,
        detail=sym.detail,
        children=[_document_symbol(view, c) for c in sym.children] or None,
    )


def create_server(lang: str | None = None) -> SbmServer:
    """A server with every feature registered; `lang` fixes the language of its
    messages (else `SBM_LANG`, else the editor's locale from `initialize`)."""
    server = SbmServer()
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_NotRefusals())

    @server.feature(types.INITIALIZE)
    @_safe(server, "initialize")
    def initialize(ls: SbmServer, params: types.InitializeParams) -> None:
        # `sbm --lang` or `SBM_LANG` (an editor's setting for the server) win over the
        # editor's own language; English when nothing says.
        chosen = lang or normalize(os.environ.get("SBM_LANG")) or normalize(params.locale)
        set_language(chosen or "en")
        options = params.initialization_options
        if isinstance(options, dict):
            if isinstance(options.get("debounce"), (int, float)):
                ls.debounce = max(0.0, float(options["debounce"]))
            if isinstance(options.get("examples"), bool):
                ls.run_examples = options["examples"]

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @_safe(server, "didOpen")
    def did_open(ls: SbmServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.changed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @_safe(server, "didChange")
    def did_change(ls: SbmServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.changed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @_safe(server, "didClose")
    def did_close(ls: SbmServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        pending = ls.pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        ls.analyses.pop(uri, None)
        ls.last_good.pop(uri, None)
        ls.versions.pop(uri, None)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @_safe(server, "didChangeWatchedFiles")
    def watched(ls: SbmServer, params: types.DidChangeWatchedFilesParams) -> None:
        # A file changed on disk (a checkout, another program): the open documents
        # whose standard reads it are checked again.
        for change in params.changes:
            ls.recheck_readers(change.uri)
            if change.type == types.FileChangeType.Created:
                ls.recheck_unresolved()

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @_safe(server, "hover")
    def hover(ls: SbmServer, params: types.HoverParams) -> types.Hover | None:
        view = ls.view(params.text_document.uri)
        occ = view.at(view.offset(params.position.line, params.position.character))
        if occ is None:
            return None
        text = hover_text(view, occ)
        if text is None:
            return None
        rng = view.range_of(occ)
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
            range=_range(rng) if rng else None,
        )

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @_safe_async(server, "definition")
    async def definition(
        ls: SbmServer, params: types.DefinitionParams
    ) -> list[types.Location] | None:
        view = await ls.parsed_view(params.text_document.uri)
        occ = view.at(view.offset(params.position.line, params.position.character))
        if occ is None:
            return None
        if occ.kind == "import":
            uri = view.import_target(occ)
            zero = types.Range(types.Position(0, 0), types.Position(0, 0))
            return [types.Location(uri, zero)] if uri else None
        found = [loc for o in view.definition(occ) if (loc := _location(view, o)) is not None]
        return found or None

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    @_safe_async(server, "references")
    async def references(
        ls: SbmServer, params: types.ReferenceParams
    ) -> list[types.Location] | None:
        view = await ls.parsed_view(params.text_document.uri)
        occ = view.at(view.offset(params.position.line, params.position.character))
        if occ is None:
            return None
        found = view.references(occ, params.context.include_declaration)
        return [loc for o in found if (loc := _location(view, o)) is not None]

    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    @_safe_async(server, "prepareRename")
    async def prepare_rename(
        ls: SbmServer, params: types.PrepareRenameParams
    ) -> types.PrepareRenamePlaceholder | None:
        view = await ls.parsed_view(params.text_document.uri)
        occ = view.at(view.offset(params.position.line, params.position.character))
        if occ is None:
            return None
        _, refused = view.rename(occ, occ.name)
        if refused:
            raise Refused(refused)
        rng = view.range_of(occ)
        return (
            types.PrepareRenamePlaceholder(range=_range(rng), placeholder=occ.name) if rng else None
        )

    @server.feature(types.TEXT_DOCUMENT_RENAME)
    @_safe_async(server, "rename")
    async def rename(ls: SbmServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
        consistent = await ls.consistent_view(params.text_document.uri)
        if consistent is None:
            return None
        view = consistent
        occ = view.at(view.offset(params.position.line, params.position.character))
        if occ is None:
            return None
        by_file, refused = view.rename(occ, params.new_name)
        if refused:
            raise Refused(refused)
        changes: dict[str, list[types.TextEdit]] = {}
        for file, found in by_file.items():
            uri = params.text_document.uri if file == view.display else path_uri(path_of(file))
            edits = []
            for o in found:
                rng = view.range_of(o)
                if rng is not None:
                    edits.append(types.TextEdit(_range(rng), params.new_name))
            changes[uri] = edits
        if not ls.versioned_edits():
            return types.WorkspaceEdit(changes=changes)
        # The versions of the texts the edits were computed on: an editor applying the
        # rename after another keystroke refuses it instead of editing the wrong places.
        document_changes: list[Any] = []
        for uri, edits in changes.items():
            doc = ls.workspace.text_documents.get(uri)
            document_changes.append(
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=doc.version if doc is not None else None
                    ),
                    edits=list(edits),
                )
            )
        return types.WorkspaceEdit(document_changes=document_changes)

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", " ", "="]),
    )
    @_safe(server, "completion")
    def completion(ls: SbmServer, params: types.CompletionParams) -> types.CompletionList | None:
        view = ls.view(params.text_document.uri)
        offset = view.offset(params.position.line, params.position.character)
        candidates, _word = complete(view, offset)
        seen: set[str] = set()
        items = []
        for label, kind, detail in candidates:
            if label in seen:
                continue
            seen.add(label)
            items.append(
                types.CompletionItem(
                    label=label,
                    kind=_COMPLETION_KINDS.get(kind, types.CompletionItemKind.Text),
                    detail=detail,
                )
            )
        return types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @_safe_async(server, "documentSymbol")
    async def document_symbol(
        ls: SbmServer, params: types.DocumentSymbolParams
    ) -> list[types.DocumentSymbol]:
        uri = params.text_document.uri
        view = await ls.parsed_view(uri)
        index = view.current if view.parsed else ls.last_good.get(uri)
        if index is None:
            return []
        return [_document_symbol(view, s) for s in outline(index.module)]

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    @_safe_async(server, "formatting")
    async def formatting(
        ls: SbmServer, params: types.DocumentFormattingParams
    ) -> list[types.TextEdit]:
        uri = params.text_document.uri
        text = ls.text_of(uri)
        loop = asyncio.get_running_loop()  # formatting parses: not on the loop
        edits, refused = await loop.run_in_executor(
            ls.parser, format_edits, text, display_name(uri_path(uri))
        )
        if ls.text_of(uri) != text:
            return []  # typed into meanwhile: these edits are for another text
        if refused:
            ls.window_show_message(types.ShowMessageParams(types.MessageType.Warning, refused))
            return []
        lines = LineIndex(text, ls.encoding())
        return [
            types.TextEdit(_range((lines.position(e.start), lines.position(e.end))), e.new)
            for e in edits
        ]

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    @_safe(server, "codeAction")
    def code_action(ls: SbmServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        return quick_fixes(uri, list(params.context.diagnostics), ls.text_of(uri), ls.encoding())

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: SbmServer, *args: Any) -> None:
        ls.stopping = True
        for pending in ls.pending.values():
            pending.cancel()
        ls.pending.clear()
        ls.worker.shutdown(wait=False, cancel_futures=True)
        ls.parser.shutdown(wait=False, cancel_futures=True)

    return server
