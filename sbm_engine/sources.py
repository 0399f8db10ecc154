"""Reading a standard's files: regular files only, bounded in size, UTF-8.

Every `.sbm` file the engine reads (the file checked, its imports, its bases, the
files searched for a base's id, a pack's standards) comes through `read_source`, so
no standard can make a check hang on a named pipe, read a device such as
`/dev/zero` until memory runs out, or load a file of unbounded size. The file's
type is checked before it is opened (a device is never opened) and again on the
opened descriptor (what is read is what was checked, even if the path changed in
between); the open does not block, so a pipe swapped in meanwhile cannot stall it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .messages import language, message

#: The largest file read as a standard: 8 MiB. A 1,000-item standard is about 100 KB,
#: so this leaves ample room while bounding the memory and time one file can take.
MAX_STANDARD_BYTES = 8 * 1024 * 1024

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # opening a pipe must not wait for a writer
    | getattr(os, "O_NOCTTY", 0)  # a terminal must not become ours
    | getattr(os, "O_BINARY", 0)  # Windows: no newline translation below ours
)

_KINDS = (
    (stat.S_ISDIR, "folder"),
    (stat.S_ISFIFO, "pipe"),
    (stat.S_ISCHR, "character_device"),
    (stat.S_ISBLK, "block_device"),
    (stat.S_ISSOCK, "socket"),
)


class SourceError(OSError):
    """A file that is not read as a standard; `reason` completes "FILE ..." in a message."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path} {reason}")
        self.path = path
        self.reason = reason


class NotUtf8(SourceError):
    """A file that is not UTF-8 text: where the first bad byte is, and what it looks like.

    `text` is the file decoded with replacement characters, so that a diagnostic can
    show the line; `guess` names the encoding the bytes look like, if one fits.
    """

    def __init__(self, path: Path, data: bytes, start: int) -> None:
        self.text = data.decode("utf-8-sig", errors="replace")
        before = data[:start].decode("utf-8-sig", errors="replace")
        self.line = before.count("\n") + 1
        self.column = len(before) - (before.rfind("\n") + 1) + 1
        self.guess = guess_encoding(data)
        reason = (
            message("source.not_utf8_guessed", line=self.line, column=self.column, guess=self.guess)
            if self.guess
            else message("source.not_utf8", line=self.line, column=self.column)
        )
        super().__init__(path, reason)


def guess_encoding(data: bytes) -> str | None:
    """The encoding a non-UTF-8 standard was most likely saved in, for the hint.

    Russian Windows editors save in Windows-1251 and some old tools in KOI8-R; both
    decode any bytes, so the one whose non-ASCII characters are mostly Cyrillic
    letters (with lower case the more common) is named, given a few of them.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    best: tuple[float, str] | None = None
    for codec, name in (("cp1251", "Windows-1251 (cp1251)"), ("koi8_r", "KOI8-R")):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        wide = [c for c in text if ord(c) > 127]
        if len(wide) < 4:  # too few to tell Cyrillic from a Latin accent
            continue
        cyrillic = sum("\u0400" <= c <= "\u04ff" for c in wide) / len(wide)
        lower = sum("\u0430" <= c <= "\u044f" for c in wide) / len(wide)
        score = cyrillic + lower
        if cyrillic > 0.8 and (best is None or score > best[0]):
            best = (score, name)
    return best[1] if best else None


def read_source_bytes(path: Path, limit: int = MAX_STANDARD_BYTES) -> bytes:
    """The bytes of `path` if it is a regular file of at most `limit` bytes.

    Raises `SourceError` otherwise, and for any error of the file system.
    """
    try:
        _require_regular(path, os.stat(path))
        fd = os.open(path, _OPEN_FLAGS)
    except SourceError:
        raise
    except OSError as err:
        raise SourceError(path, message("source.unreadable", reason=err.strerror or err)) from err
    try:
        info = os.fstat(fd)
        _require_regular(path, info)
        if info.st_size > limit:
            raise _too_large(path, limit)
        # The size in the file's metadata is not trusted (files in /proc say 0):
        # read one byte past the limit to know it was exceeded.
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise _too_large(path, limit)
        return b"".join(chunks)
    except SourceError:
        raise
    except OSError as err:
        raise SourceError(path, message("source.unreadable", reason=err.strerror or err)) from err
    finally:
        os.close(fd)


def read_source(path: Path, limit: int = MAX_STANDARD_BYTES, *, keep_newlines: bool = False) -> str:
    """The text of a standard's file from `read_source_bytes`; raises `SourceError`.

    UTF-8, with a byte-order mark at the start (which some Windows editors write)
    dropped; newlines made `\\n` as `Path.read_text` does, unless `keep_newlines`
    (the formatter, which must see a CRLF file as one to rewrite).
    """
    data = read_source_bytes(path, limit)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise NotUtf8(path, data, err.start) from err
    return text if keep_newlines else text.replace("\r\n", "\n").replace("\r", "\n")


def _require_regular(path: Path, info: os.stat_result) -> None:
    if stat.S_ISREG(info.st_mode):
        return
    kind = next((name for test, name in _KINDS if test(info.st_mode)), "special")
    raise SourceError(path, _not_regular(kind))


def _not_regular(kind: str) -> str:
    return {
        "folder": lambda: message("source.not_regular.folder"),
        "pipe": lambda: message("source.not_regular.pipe"),
        "character_device": lambda: message("source.not_regular.character_device"),
        "block_device": lambda: message("source.not_regular.block_device"),
        "socket": lambda: message("source.not_regular.socket"),
        "special": lambda: message("source.not_regular.special"),
    }[kind]()


def _too_large(path: Path, limit: int) -> SourceError:
    return SourceError(path, message("source.too_large", size=size_text(limit)))


def size_text(n: int) -> str:
    """A size for messages: `8 MiB`, or bytes when not a whole number of MiB."""
    if n % (1024 * 1024) == 0:
        return message("source.size.mib", count=n // (1024 * 1024))
    digits = f"{n:,}".replace(",", "\u202f" if language() == "ru" else ",")
    return message("source.size.bytes", count=n, digits=digits)
