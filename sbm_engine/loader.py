"""Files to one flat namespace: `import`, `extends` and `drop`, confined to a root.

A standard is assembled in layers: the base it `extends`, then each file it
`import`s, then its own declarations; a later layer's declaration replaces an
earlier one of the same name (keeping its place, and its section for an item),
and `drop NAME` removes one. Two declarations of one name in the same file are an
error. Imports are resolved beside the importing file, then in the standards
library; a path that leaves the root folder (through `..`, an absolute path or a
symbolic link) is refused, so a standard can never read files it was not given.
A base named by `extends` is looked up by id in the same confinement: the root
folder is searched only for regular files inside it, each read once per loader
and never past `sources.MAX_STANDARD_BYTES`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs

from . import nodes as n
from .diagnostics import CompileError, Diagnostic, Diagnostics, did_you_mean
from .expand import declared, expand
from .messages import message
from .placement import place
from .resources import library_root
from .sources import MAX_STANDARD_BYTES, NotUtf8, SourceError, read_source, size_text

_HEADER = re.compile(r"^\s*standard\s+([\w.]+)", re.MULTILINE | re.UNICODE)

#: Codes after which the namespace is too incomplete to check: files that could not
#: be found or read. Any other loader error is passed on to the checker's report.
FATAL = frozenset({"E0105", "E0601", "E0602", "E0603", "E0604", "E0606"})

#: At most this many files that were not searched for a base are named in an E0604.
_SKIPPED_SHOWN = 5

#: Extra places to find standards by name: providers return {id: path}. Plugins add one.
StandardProvider = Callable[[], dict[str, Path]]


@attrs.define
class Decl:
    """One declaration in the flat namespace and where it came from."""

    kind: str  # scale, field, item, section, coefficient, rollup, constant
    node: Any
    section: str | None = None  # for items: the section that holds it


@attrs.define
class Flat:
    """A standard with its layers merged, ready for the checker."""

    standard: n.Standard
    file: str
    title: str | None
    version: str | None
    industry: str | None
    decls: dict[str, Decl]
    targets: dict[str, n.Target]
    bands: dict[str, n.Bands]
    examples: list[n.Example]
    sources: dict[str, str]
    #: Problems the loader found but could work around (a duplicate, a bad `drop`);
    #: the checker reports them with its own, so a file's errors come all at once.
    diagnostics: list[Diagnostic] = attrs.Factory(list)


@attrs.frozen
class FolderIndex:
    """The standards under one folder by id, and the `.sbm` files that were not read."""

    ids: dict[str, Path]  # the first file in path order, for listings
    skipped: tuple[tuple[Path, str], ...]  # (file, why: "is a named pipe, ...")
    declared: dict[str, tuple[Path, ...]] = attrs.Factory(dict)  # every file, by id


def _is_within(path: Path, root: Path) -> bool:
    """`path`, with every link followed, is `root` or inside it.

    A loop of links resolves as far as it goes: nothing can be opened through it, so
    where it stops only decides which refusal the user sees.
    """
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
    except ValueError:
        return False
    return True


class Loader:
    """Loads standards from files or ids; one instance caches parsed files."""

    def __init__(
        self,
        search_path: Iterable[Path] = (),
        providers: Iterable[StandardProvider] = (),
    ) -> None:
        self.search_path = [Path(p) for p in search_path]
        env = os.environ.get("SBM_PATH")
        if env:
            self.search_path += [Path(p) for p in env.split(os.pathsep) if p]
        self.providers = list(providers)
        self.sources: dict[str, str] = {}
        self._modules: dict[Path, n.Module] = {}
        self._indexes: dict[Path, FolderIndex] = {}

    # -- finding files ------------------------------------------------------------------

    def known_standards(self, extra_dirs: Iterable[Path] = ()) -> dict[str, Path]:
        """Every standard findable by id: packs first, then `extra_dirs`, the library and
        the search path, each folder searched as `index` does."""
        found: dict[str, Path] = {}
        for provider in self.providers:
            for sid, path in provider().items():
                found.setdefault(sid, Path(path))
        for folder in self._folders(extra_dirs):
            for sid, path in self.index(folder).ids.items():
                found.setdefault(sid, path)
        return found

    def index(self, folder: Path) -> FolderIndex:
        """The standards under `folder` by id, searched once per loader (see `_search`)."""
        key = Path(os.path.realpath(folder))
        if key not in self._indexes:
            self._indexes[key] = _search(folder)
        return self._indexes[key]

    def _folders(self, extra_dirs: Iterable[Path]) -> list[Path]:
        return [f for f in [*extra_dirs, library_root(), *self.search_path] if f.is_dir()]

    def files(self) -> list[Path]:
        """Every file this loader has read (resolved paths)."""
        return list(self._modules)

    def module(self, path: Path) -> n.Module:
        """The parsed file, read once per loader; raises `SourceError` if it cannot be
        read (not a regular file, too large) and `CompileError` if it is not UTF-8
        (E0607, located at the first bad byte) or does not parse."""
        key = path.resolve()
        if key not in self._modules:
            display = _display(path)
            try:
                text = read_source(path)
            except NotUtf8 as err:
                raise _encoding_error(err, display) from None
            self.sources[display] = text
            from .parser import parse  # lark: not needed for a standard from the cache

            self._modules[key] = parse(text, display)
        return self._modules[key]

    # -- assembling ---------------------------------------------------------------------

    def flatten_file(self, path: Path, root: Path | None = None) -> Flat:
        """Load the standard in `path` with everything it extends and imports.

        Raises `CompileError` when a file cannot be found, read or parsed, or an
        import or base cannot be resolved; other problems travel in
        `Flat.diagnostics` for the checker to report along with its own. `path` itself
        is named by the caller, not by a line of a standard, so when it cannot be
        read that is a `SourceError` for the caller to report.
        """
        diagnostics = Diagnostics()
        path = Path(path)
        root = (root or path.resolve().parent).resolve()
        try:
            flat = self._flatten(path, root, diagnostics, stack=())
        except CompileError as err:  # a parse error somewhere below
            err.sources.update(self.sources)
            raise
        if flat is None or any(d.code in FATAL for d in diagnostics.errors):
            raise CompileError(diagnostics, self.sources)
        flat.sources = self.sources
        flat.diagnostics = list(diagnostics)
        return flat

    def _root_for(self, path: Path, default: Path) -> Path:
        lib = library_root()
        return lib if _is_within(path, lib) else default

    def _flatten(
        self, path: Path, root: Path, diagnostics: Diagnostics, stack: tuple[Path, ...]
    ) -> Flat | None:
        module = self.module(path)
        if len(module.standards) != 1:
            diagnostics.error(
                "E0105",
                message("E0105.one_standard.message", found=len(module.standards)),
                module.standards[1].span
                if len(module.standards) > 1
                else n.Span(module.path, 1, 1, 1, 2),
                label=message("E0105.one_standard.label") if module.standards else None,
                help=message("E0105.one_standard.help"),
            )
            if not module.standards:
                return None
        std = module.standards[0]
        here = (*stack, path.resolve())
        ns: dict[str, Decl] = {}
        targets: dict[str, n.Target] = {}
        bands: dict[str, n.Bands] = {}
        version = industry = None

        def absorb(layer: Flat) -> None:
            nonlocal version, industry
            for name, decl in layer.decls.items():
                _put(ns, name, decl)
            targets.update(layer.targets)
            bands.update(layer.bands)
            version = layer.version or version
            industry = layer.industry or industry

        inherits = False
        if std.extends:
            inherits = True
            base = self._resolve_extends(std, path, root, diagnostics, here)
            if base is not None:
                absorb(base)
        imports = [*module.imports, *(m for m in std.members if isinstance(m, n.Import))]
        for imp in imports:
            inherits = True
            target = self._resolve_import(imp, path, root, diagnostics, here)
            if target is not None and self._read(target, imp.span, diagnostics, imp=imp.path):
                self._check_pin(imp, target, diagnostics)
                layer = self._flatten(target, self._root_for(target, root), diagnostics, here)
                if layer is not None:
                    absorb(layer)

        # This file's own declarations: one namespace, each name once.
        own: dict[str, Decl] = {}
        own_spans: dict[str, n.Span] = {}
        own_targets: dict[str, n.Target] = {}
        own_bands: dict[str, n.Bands] = {}
        drops: list[n.Drop] = []
        examples: list[n.Example] = []

        def declare(name: str, decl: Decl, span: n.Span) -> None:
            if name in own:
                diagnostics.error(
                    "E0101",
                    message("E0101.duplicate.message", name=name),
                    span,
                    label=message("E0101.declared_twice.label"),
                    notes=(message("E0101.duplicate.note", where=own_spans[name]),),
                    help=message("E0101.duplicate.help"),
                )
                return
            own[name] = decl
            own_spans[name] = span

        def once(kind: str, table: dict[str, Any], node: n.Target | n.Bands) -> None:
            first = table.get(node.coefficient)
            if first is not None:
                diagnostics.error(
                    "E0507",
                    message("E0507.twice.message", declaration=f"{kind} {node.coefficient}"),
                    node.span,
                    label=message("E0507.twice.label"),
                    notes=(message("E0507.twice.note", where=first.span),),
                    help=message("E0507.twice.help", kind=kind),
                )
                return
            table[node.coefficient] = node

        for member in _expanded(std.members, diagnostics):
            match member:
                case n.Version(value=v):
                    version = v
                case n.Industry(value=v):
                    industry = v
                case n.Scale() | n.Field() | n.Coefficient() | n.Rollup() | n.Constant():
                    kind = type(member).__name__.lower()
                    declare(member.name, Decl(kind, member), member.name_span)
                case n.Item():
                    into = member.section_in.name if member.section_in else None
                    _placement_options(member, None, diagnostics)
                    declare(member.name, Decl("item", member, into), member.name_span)
                case n.Section():
                    declare(member.name, Decl("section", member), member.name_span)
                    _placement_options(member, member.name, diagnostics)
                    for item in member.items:
                        _placement_options(item, member.name, diagnostics)
                        declare(item.name, Decl("item", item, member.name), item.name_span)
                case n.Target():
                    once("target", own_targets, member)
                case n.Bands():
                    once("bands", own_bands, member)
                case n.Example():
                    examples.append(member)
                case n.Drop():
                    drops.append(member)
                case n.Import():
                    pass

        # `drop` removes inherited declarations, never this file's own.
        dropped: set[str] = set()
        for drop in drops:
            if self._drop(ns, drop, inherits, own, dropped, diagnostics):
                targets.pop(drop.name, None)
                bands.pop(drop.name, None)
        # An item redeclared alone keeps the section it had in the base ...
        for name, decl in own.items():
            old = ns.get(name)
            if (
                decl.kind == "item"
                and decl.section is None
                and old is not None
                and old.kind == "item"
            ):
                own[name] = Decl("item", decl.node, old.section)
        # ... and a redeclared section replaces its content: its inherited items go.
        replaced = {name for name, decl in own.items() if decl.kind == "section"}
        for name in [k for k, d in ns.items() if d.kind == "item" and d.section in replaced]:
            if name not in own:
                del ns[name]
        # `in SECTION` names a section of the namespace as it now stands (E0204 if none)
        sections = {k for k, d in [*ns.items(), *own.items()] if d.kind == "section"}
        for name, decl in own.items():
            target = decl.node.section_in if decl.kind == "item" else None
            if target is not None and decl.section == target.name and target.name not in sections:
                hint = did_you_mean(target.name, sections)
                diagnostics.error(
                    "E0204",
                    message("E0204.unknown_section.message", section=target.name),
                    target.span,
                    label=message("E0204.unknown_section.label"),
                    help=message("hint.did_you_mean", name=hint)
                    if hint
                    else message("E0204.placed.help"),
                )
                own[name] = Decl("item", decl.node, None)
        for name, decl in own.items():
            ns[name] = decl  # a replaced name keeps its place
        _follow_sections(ns, replaced & set(ns))
        place(ns, own, diagnostics)
        targets.update(own_targets)
        bands.update(own_bands)
        return Flat(
            std, module.path, std.title, version, industry, ns, targets, bands, examples, {}
        )

    def _drop(
        self,
        ns: dict[str, Decl],
        drop: n.Drop,
        inherits: bool,
        own: dict[str, Decl],
        dropped: set[str],
        diagnostics: Diagnostics,
    ) -> bool:
        """Apply one `drop` to the inherited namespace; report it and return False if it cannot."""
        name = drop.name
        if not inherits:
            diagnostics.error(
                "E0004",
                message("E0004.drop_nothing.message", name=name),
                drop.span,
                label=message("E0004.drop_nothing.label"),
                help=message("E0004.drop_nothing.help"),
            )
            return False
        if name in own:
            diagnostics.error(
                "E0605",
                message("E0605.drop_own.message", name=name),
                drop.span,
                label=message("E0605.drop_own.label"),
                help=message("E0605.drop_own.help"),
            )
            return False
        decl = ns.get(name)
        if decl is None:
            if name in dropped:
                text = message("E0605.dropped_twice.message", name=name)
                hint = message("E0605.dropped_twice.help")
            else:
                close = did_you_mean(name, ns)
                text = message("E0605.not_inherited.message", name=name)
                hint = (
                    message("hint.did_you_mean", name=close)
                    if close
                    else message("E0605.not_inherited.help")
                )
            diagnostics.error(
                "E0605", text, drop.span, label=message("E0605.not_inherited.label"), help=hint
            )
            return False
        del ns[name]
        dropped.add(name)
        if decl.kind == "section":
            for other in [k for k, d in ns.items() if d.kind == "item" and d.section == name]:
                del ns[other]
        return True

    def _resolve_import(
        self,
        imp: n.Import,
        path: Path,
        root: Path,
        diagnostics: Diagnostics,
        stack: tuple[Path, ...],
    ) -> Path | None:
        """The file an import names, beside the importer or in the library, inside its root.

        Confinement is decided before the file system is asked whether the file
        exists, so an import cannot even probe for files outside the root.
        """
        rel = Path(imp.path)

        def refuse(text: str, label: str) -> None:
            diagnostics.error(
                "E0602",
                text,
                imp.span,
                label=label,
                help=message("E0602.outside.help", root=_folder(root)),
            )

        if rel.is_absolute() or rel.drive or rel.root:
            refuse(
                message("E0602.absolute.message", path=imp.path),
                message("E0602.absolute.label"),
            )
            return None
        here = path.resolve().parent
        beside = here / rel
        if not _lexically_within(beside, root):
            refuse(
                message("E0602.outside.message", path=imp.path, root=_folder(root)),
                message("E0602.outside.label"),
            )
            return None
        if not _is_within(beside, root):
            refuse(
                message("E0602.link.message", path=imp.path, root=_folder(root)),
                message("E0602.link.label"),
            )
            return None
        # Whatever exists is taken (a folder or a pipe too): `_read` then says why
        # it cannot be used, which helps more than "not found".
        try:
            candidate: Path | None = beside if beside.exists() else None
            if candidate is None:
                lib = library_root()
                in_lib = lib / rel
                if _lexically_within(in_lib, lib) and _is_within(in_lib, lib) and in_lib.exists():
                    candidate = in_lib
        except OSError as err:  # a name too long for the file system, say
            diagnostics.error(
                "E0606",
                message(
                    "E0606.bad_path.message",
                    path=_shortened(imp.path),
                    reason=err.strerror or err,
                ),
                imp.span,
                label=message("E0606.unreadable.label"),
                help=message("E0606.bad_path.help"),
            )
            return None
        if candidate is None:
            diagnostics.error(
                "E0601",
                message("E0601.not_found.message", path=imp.path),
                imp.span,
                label=message("E0601.not_found.label"),
                help=message("E0601.not_found.help", folder=_folder(here)),
            )
            return None
        resolved = candidate.resolve()
        if resolved in stack:
            chain = " -> ".join(_display(p) for p in (*stack, resolved))
            diagnostics.error(
                "E0603",
                message("E0603.import_cycle.message"),
                imp.span,
                label=message("E0603.import_cycle.label"),
                notes=(chain,),
                help=message("E0603.import_cycle.help"),
            )
            return None
        return resolved

    def _resolve_extends(
        self,
        std: n.Standard,
        path: Path,
        root: Path,
        diagnostics: Diagnostics,
        stack: tuple[Path, ...],
    ) -> Flat | None:
        """The base `std` extends, found by id among the packs, under the root, in the
        library and on the search path (`known_standards`), and flattened in its own
        root."""
        assert std.extends is not None
        known = self.known_standards(extra_dirs=[root])
        groups = self._declarers(std.extends, root)
        base_path = self._choose_base(std, groups, diagnostics) if groups else None
        if groups and base_path is None:
            return None  # ambiguous, or no file of the pinned version: reported
        if base_path is None:
            hint = did_you_mean(std.extends, known)
            skipped = [s for folder in self._folders([root]) for s in self.index(folder).skipped]
            advice = (
                message("hint.did_you_mean", name=hint)
                if hint
                else message("E0604.unknown_base.help")
            )
            if skipped:
                advice += (
                    message("E0604.unknown_base.or_skipped_after_hint")
                    if hint
                    else message("E0604.unknown_base.or_skipped")
                )
            diagnostics.error(
                "E0604",
                message("E0604.unknown_base.message", base=std.extends),
                std.extends_span,
                label=message("E0604.unknown_base.label"),
                help=advice,
                notes=_skipped_notes(skipped),
            )
            return None
        if base_path.resolve() in stack:
            diagnostics.error(
                "E0603",
                message("E0603.extends_itself.message", standard=std.name, base=std.extends),
                std.extends_span,
                label=message("E0603.extends_itself.label"),
                help=message("E0603.extends_itself.help"),
            )
            return None
        if not self._read(base_path, std.extends_span, diagnostics, base=std.extends):
            return None
        return self._flatten(base_path, base_path.resolve().parent, diagnostics, stack)

    def _declarers(self, sid: str, root: Path) -> list[tuple[Path, ...]]:
        """The files declaring `sid`, grouped by where they were found, in the order of
        precedence: an installed pack, the root, the library, the search path."""
        groups: list[tuple[Path, ...]] = []
        for provider in self.providers:
            path = provider().get(sid)
            if path is not None:
                groups.append((Path(path),))
        for folder in self._folders([root]):
            found = self.index(folder).declared.get(sid)
            if found:
                groups.append(found)
        return groups

    def _choose_base(
        self, std: n.Standard, groups: list[tuple[Path, ...]], diagnostics: Diagnostics
    ) -> Path | None:
        """The file `extends` means: the first place that declares the base, which must
        declare it once (E0608); with `version "V"`, the first file of that version
        (E0609 if none is)."""
        assert std.extends is not None
        pin = std.extends_version
        if pin is not None:
            everywhere = [p for group in groups for p in group]
            groups = [
                matching
                for group in groups
                if (matching := tuple(p for p in group if self._declared_version(p) == pin))
            ]
            if not groups:
                diagnostics.error(
                    "E0609",
                    message("E0609.no_version.message", base=std.extends, version=pin),
                    std.extends_span,
                    label=message("E0609.no_version.label"),
                    notes=tuple(
                        message("E0609.no_version.found", path=_display(p), version=v)
                        if (v := self._declared_version(p)) is not None
                        else message("E0609.no_version.found_unversioned", path=_display(p))
                        for p in everywhere
                    ),
                    help=message("E0609.no_version.help"),
                )
                return None
        first = groups[0]
        if len(first) > 1:
            diagnostics.error(
                "E0608",
                message("E0608.ambiguous.message", base=std.extends, count=len(first)),
                std.extends_span,
                label=message("E0608.ambiguous.label"),
                notes=tuple(message("E0608.ambiguous.note", path=_display(p)) for p in first),
                help=message("E0608.ambiguous.help")
                if pin
                else message("E0608.ambiguous.help_pin", base=std.extends),
            )
            return None
        return first[0]

    def _check_pin(self, imp: n.Import, target: Path, diagnostics: Diagnostics) -> None:
        """E0611 when `import "p" version "V"` names a file whose standard declares
        another version, or none."""
        if imp.version is None:
            return
        found = self._declared_version(target)
        if found == imp.version:
            return
        diagnostics.error(
            "E0611",
            message("E0611.version.message", path=imp.path, version=imp.version, found=found)
            if found is not None
            else message("E0611.version.unversioned", path=imp.path, version=imp.version),
            imp.span,
            label=message("E0611.version.label"),
            help=message("E0611.version.help"),
        )

    def _declared_version(self, path: Path) -> str | None:
        """The `version` a file's standard declares itself (None: none, or unreadable)."""
        try:
            module = self.module(path)
        except (SourceError, CompileError):
            return None
        for std in module.standards[:1]:
            for member in std.members:
                if isinstance(member, n.Version):
                    return member.value
        return None

    def _read(
        self,
        path: Path,
        span: n.Span,
        diagnostics: Diagnostics,
        imp: str | None = None,
        base: str | None = None,
    ) -> bool:
        """Parse `path` ahead of `_flatten`; a file that cannot be read is reported as
        E0606 at `span`, the import or `extends` that named it (`imp`, the path imported,
        or `base`, the id extended), as 'imported file "x.sbm" REASON'."""
        try:
            self.module(path)
        except SourceError as err:
            what = (
                message("E0606.unreadable.import", path=imp)
                if imp is not None
                else message("E0606.unreadable.base", base=base, path=_display(path))
            )
            diagnostics.error(
                "E0606",
                message("E0606.unreadable.message", what=what, reason=err.reason),
                span,
                label=message("E0606.unreadable.label"),
                help=message("E0606.unreadable.help", size=size_text(MAX_STANDARD_BYTES)),
            )
            return False
        return True


def _search(folder: Path) -> FolderIndex:
    """Every `standard ID` declared in the `.sbm` files under `folder`, confined to it.

    The rules of imports hold: a file whose links lead outside `folder` is not
    opened, and `read_source` refuses anything but a regular file of bounded size
    (a pipe or a device is never opened). Linked folders are not entered: those
    inside `folder` are searched through their real path anyway, those outside are
    out of bounds, and so no cycle of links can make the search loop. Every file
    declaring an id is kept (in path order; a file reached twice through links
    counts once), so that `extends` can refuse an ambiguous one (E0608).
    """
    declared: dict[str, list[Path]] = {}
    skipped: list[tuple[Path, str]] = []
    files = [
        Path(top, name)
        for top, _folders, names in os.walk(folder)  # links to folders are not followed
        for name in names
        if name.endswith(".sbm")
    ]
    seen: set[str] = set()  # a file reached again through a link is one file
    for path in sorted(files):
        if not _is_within(path, folder):
            skipped.append((path, message("E0604.skipped.links_outside", folder=_folder(folder))))
            continue
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        try:
            text = read_source(path)
        except SourceError as err:
            skipped.append((path, err.reason))
            continue
        for sid in dict.fromkeys(m.group(1) for m in _HEADER.finditer(text)):
            declared.setdefault(sid, []).append(path)
    return FolderIndex(
        {sid: paths[0] for sid, paths in declared.items()},
        tuple(skipped),
        {sid: tuple(paths) for sid, paths in declared.items()},
    )


def _skipped_notes(skipped: list[tuple[Path, str]]) -> tuple[str, ...]:
    """Notes naming the files a base's search did not read, and why."""
    # The folder is shown resolved, the file by its own name: a link is not followed.
    shown = [(str(Path(_display(path.parent)) / path.name), why) for path, why in skipped]
    notes = [message("E0604.skipped.note", path=name, reason=why) for name, why in shown]
    if len(notes) > _SKIPPED_SHOWN:
        more = len(notes) - _SKIPPED_SHOWN
        notes[_SKIPPED_SHOWN:] = [message("E0604.skipped.more", count=more)]
    return tuple(notes)


def _encoding_error(err: NotUtf8, display: str) -> CompileError:
    """E0607 at the first byte that is not UTF-8, shown in the file decoded as far as it goes."""
    diagnostics = Diagnostics()
    diagnostics.error(
        "E0607",
        message("E0607.not_utf8.guessed", encoding=err.guess)
        if err.guess
        else message("E0607.not_utf8.message"),
        n.Span(display, err.line, err.column, err.line, err.column + 1),
        label=message("E0607.not_utf8.label"),
        help=message("E0607.not_utf8.help_guessed", encoding=err.guess)
        if err.guess
        else message("E0607.not_utf8.help"),
    )
    return CompileError(diagnostics, {display: err.text})


def _shortened(text: str, most: int = 80) -> str:
    """Text for a message, cut in the middle when longer than `most` characters."""
    return text if len(text) <= most else f"{text[: most // 2]}…{text[-most // 2 :]}"


def _expanded(members: tuple[n.Member, ...], diagnostics: Diagnostics) -> list[n.Member]:
    """The members with each `repeat` block replaced by its copies, where it stands; a
    generated name that another declaration of the file has, or that two keys give,
    is E0612 and its copy is left out."""
    if not any(isinstance(m, n.Repeat) for m in members):
        return list(members)
    taken: dict[str, n.Span] = {}
    for m in members:
        if isinstance(m, n.Repeat):
            continue
        name = getattr(m, "name", None)
        if isinstance(name, str) and not isinstance(m, n.Example | n.Drop):
            taken.setdefault(name, m.name_span)  # type: ignore[union-attr]
        if isinstance(m, n.Section):
            for item in m.items:
                taken.setdefault(item.name, item.name_span)
    out: list[n.Member] = []
    for m in members:
        if not isinstance(m, n.Repeat):
            out.append(m)
            continue
        names = declared(m)
        keys: dict[str, n.Span] = {}
        bad: set[str] = set()  # generated names left out
        for key in m.keys:
            if key.key in keys:
                diagnostics.error(
                    "E0612",
                    message("E0612.key_twice.message", key=key.key),
                    key.span,
                    label=message("E0612.key_twice.label"),
                    notes=(message("E0612.collides.note", where=keys[key.key]),),
                    help=message("E0612.key_twice.help"),
                )
                continue
            keys[key.key] = key.span
            for name, span in names:
                generated = f"{name}_{key.key}"
                if generated in taken:
                    diagnostics.error(
                        "E0612",
                        message("E0612.collides.message", name=generated, key=key.key),
                        span,
                        label=message("E0612.collides.label"),
                        notes=(message("E0612.collides.note", where=taken[generated]),),
                        help=message("E0612.collides.help", name=generated),
                    )
                    bad.add(generated)
                else:
                    taken[generated] = span
        block = attrs.evolve(m, keys=tuple(k for k in m.keys if keys.get(k.key) is k.span))
        for copy in expand(block, diagnostics):
            if copy.name in bad:
                continue
            if isinstance(copy, n.Section):
                copy = attrs.evolve(copy, items=tuple(i for i in copy.items if i.name not in bad))
            out.append(copy)
    return out


def _follow_sections(ns: dict[str, Decl], sections: set[str]) -> None:
    """Move the items of each redeclared section right after it: the section keeps the
    place it had, and so is listed with its items (its new items would otherwise
    come after every inherited declaration)."""
    if not sections:
        return
    entries = list(ns.items())
    moved = {k for k, d in entries if d.kind == "item" and d.section in sections}
    out: list[tuple[str, Decl]] = []
    for name, decl in entries:
        if name in moved:
            continue
        out.append((name, decl))
        if name in sections:
            out += [(k, d) for k, d in entries if k in moved and d.section == name]
    ns.clear()
    ns.update(out)


def _placement_options(
    node: n.Item | n.Section, section: str | None, diagnostics: Diagnostics
) -> None:
    """E0104 for placement options that conflict or mean nothing: `in` on an item
    inside a section block (`section` names it), `after` or `before` on an item
    without `in`, and both `after` and `before`."""
    if isinstance(node, n.Item):
        if node.section_in is not None and section is not None:
            diagnostics.error(
                "E0104",
                message("E0104.in_and_block.message", item=node.name, section=section),
                node.section_in.span,
                label=message("E0104.in_and_block.label"),
                help=message("E0104.in_and_block.help", section=section),
            )
        elif node.section_in is None:
            for option in (node.after, node.before):
                if option is not None:
                    word = "after" if option is node.after else "before"
                    diagnostics.error(
                        "E0104",
                        message("E0104.place_without_in.message", item=node.name, option=word),
                        option.span,
                        label=message("E0104.place_without_in.label"),
                        help=message("E0104.place_without_in.help", option=word),
                    )
    if node.after is not None and node.before is not None:
        diagnostics.error(
            "E0104",
            message("E0104.after_and_before.message", name=node.name),
            node.before.span,
            label=message("E0104.after_and_before.label"),
            help=message("E0104.after_and_before.help"),
        )


def _put(ns: dict[str, Decl], name: str, decl: Decl) -> None:
    """Insert or replace, keeping the old place; a replaced item keeps its section."""
    old = ns.get(name)
    if old is not None and decl.kind == "item" and old.kind == "item" and decl.section is None:
        decl = Decl("item", decl.node, old.section)
    ns[name] = decl


def _lexically_within(path: Path, root: Path) -> bool:
    """`path` stays inside `root` once `..` is folded away (links are not followed)."""
    folded = Path(os.path.normpath(path))
    return folded == root or root in folded.parents


def _folder(path: Path) -> str:
    """A folder as shown in diagnostics, with a trailing slash: `./`, `packs/bank/`."""
    shown = _display(path)
    return shown if shown.endswith(("/", "\\")) else shown + "/"


def _display(path: Path) -> str:
    """A path as shown in diagnostics: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
