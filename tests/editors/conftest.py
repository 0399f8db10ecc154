"""What the editor tests share: the shipped `.sbm` files, Node.js, and npm packages
installed once per lock file.

Node.js and npm come from the machine, else from Debian's packages (`debian.program`:
installed when the tests run as root, skipped otherwise, failed on CI). The npm
packages a test needs (the TextMate engine of `tests/editors/package.json`, the
extension's own dependencies and its packaging tool) are installed with `npm ci` from
their lock file into a cache folder named after a hash of the package's manifest, its
lock file and Node's major version, so a second run reuses them and a changed lock file
gets a fresh install. The folder is
`$SBM_TEST_CACHE/npm`, else `$XDG_CACHE_HOME/sbm-engine-tests/npm`, else
`~/.cache/sbm-engine-tests/npm`; deleting it is always safe.

Tests that need Node.js or npm carry the `editors` mark (registered below, so the suite
runs without it declared elsewhere): `pytest -m editors` runs them, `-m "not editors"`
leaves them out.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import pytest
from debian import program

ROOT = Path(__file__).resolve().parent.parent.parent
HERE = Path(__file__).resolve().parent
EXTENSION = ROOT / "editors" / "vscode"
GRAMMAR = EXTENSION / "syntaxes" / "sbm.tmLanguage.json"

#: Folders of the checkout that hold no shipped standard (when git is not there to ask).
_NOT_SHIPPED = {".git", ".venv", "node_modules", "build", "dist", "artifacts"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "editors: needs Node.js and npm packages (the VS Code grammar and extension)"
    )


def shipped_standards() -> list[Path]:
    """Every `.sbm` file of the repository: what git tracks or would track (a new file
    not yet added, unless ignored), else every one on disk."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.sbm"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout.decode()
        files = [ROOT / name for name in listed.split("\0") if name]
    except (OSError, subprocess.SubprocessError):
        files = [
            path
            for path in ROOT.rglob("*.sbm")
            if not _NOT_SHIPPED.intersection(path.relative_to(ROOT).parts)
        ]
    return sorted(path for path in files if path.is_file())


@pytest.fixture(scope="session")
def standards() -> list[Path]:
    files = shipped_standards()
    # the corpus the grammar and lexer are measured on must not silently shrink to nothing
    assert len(files) >= 10, files
    assert ROOT / "tests" / "conformance" / "demo_branch.sbm" in files
    return files


# ---- texts the tests spell out token by token ------------------------------------------------
#
# `SAMPLE` is valid SBM (a test parses it) with every kind of token: each keyword group,
# every declaration, calls, `visit`, escapes in strings, Cyrillic names and text, every
# operator and punctuation mark; the soft keywords where they are keywords (`const`,
# `scale NAME points`, `penalty`) and where they are names (a scale, a tag, a coefficient
# and a value named so, the function `points(…)`), and bands with `<=` and `when`.
# `INVALID` holds characters outside the language.

SAMPLE = r"""import "common/scales.sbm"
# Комментарий: a note
standard demo.sample "Проба \"кавычки\" и \\ слэш" extends library.base version "1" {
    industry "bank"
    scale да_нет { да = 1 alias "yes", нет = 0 }
    section приветствие "Встреча" weight 2 when visit.scenario == "вклад" {
        item улыбка "Улыбка" answer да_нет tags вежливость critical
        item wait "Ожидание" answer number 0..240 optional score = if value <= 5 then 1 else 0
    }
    item note "Заметка" answer text
    field scenario "Сценарий" one of { "вклад", "кредит" }
    coefficient c1 "Итог" = weighted_mean(улыбка: 0.5, wait: 2) * 2 - 1 / 4 + 0
    coefficient c2 = not (answer(улыбка) != 1) and c1 > 0 or c1 < 1
    coefficient c3 = weighted_mean(tagged вежливость) + avg(items) + avg(sections)
    rollup share_ok = share(c1 >= 0.5)
    target c1 0.85
    bands c1 { good >= 0.9, poor }
    example "e" {
        visit { scenario = "вклад" }
        answers { улыбка = да, wait = -3 }
        expect c1 == 1
    }
    const limit = 13
    scale points points { low = 1, high = 5 }
    scale demerits penalty { none = 0, minor = 2 }
    item fines "Штрафы" answer demerits tags penalty
    coefficient penalty = points(fines) + max_points(items) - limit + points
    bands penalty { A <= 13 when points(fines) <= limit, B <= 27, C when c1 >= 0.5, D }
}
"""

#: Typographic and single quotes and a semicolon: not SBM.
INVALID = "item a «Улыбка» answer 'x';\n"


@pytest.fixture(scope="session")
def sample() -> str:
    return SAMPLE


@pytest.fixture(scope="session")
def invalid_sample() -> str:
    return INVALID


# ---- Node.js and npm ------------------------------------------------------------------------


def _cache_root() -> Path:
    chosen = os.environ.get("SBM_TEST_CACHE")
    if chosen:
        base = Path(chosen)
    else:
        home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = Path(home) / "sbm-engine-tests"
    return base / "npm"


def _unavailable(why: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(why + " (CI runs the editor tests)")
    pytest.skip(why)


@pytest.fixture(scope="session")
def node() -> str:
    """The `node` program."""
    return program("node", "nodejs")


@pytest.fixture(scope="session")
def node_major(node: str) -> int:
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return int(version.strip().lstrip("v").split(".")[0])


@pytest.fixture(scope="session")
def npm(node: str) -> str:
    """The `npm` program."""
    return program("npm", "npm")


def _npm_ci(npm: str, package: Path, node_major: int) -> Path:
    """The `node_modules` folder of `package` (a folder with package.json and its lock
    file), installed by `npm ci` once per lock file into the cache.

    The install runs in a fresh folder that is renamed into place when complete, so a
    run interrupted half-way, or two runs at once, never leave a partial install that
    looks finished. Install scripts are not run: none of these packages needs one to be
    used from JavaScript or to package an extension."""
    manifest = (package / "package.json").read_bytes()
    lock = (package / "package-lock.json").read_bytes()
    key = hashlib.sha256(manifest + b"\0" + lock + f"\0node{node_major}".encode()).hexdigest()
    key = key[:16]
    root = _cache_root()
    done = root / f"{package.parent.name}-{package.name}-{key}"
    if (done / "node_modules").is_dir():
        return done / "node_modules"
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".install-", dir=root))
    try:
        shutil.copy(package / "package.json", work)
        shutil.copy(package / "package-lock.json", work)
        command = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
        try:
            proc = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            _unavailable(f"`npm ci` in {package} took more than 15 minutes")
        if proc.returncode != 0:
            _unavailable(f"`npm ci` failed in {package} (no network?):\n{proc.stderr[-2000:]}")
        try:
            work.rename(done)
        except OSError:  # another run finished first: use its install
            if not (done / "node_modules").is_dir():
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return done / "node_modules"


# ---- the TextMate engine ------------------------------------------------------------------

#: (line, start, end, text, scopes) with 0-based lines and UTF-16 columns
Token = tuple[int, int, int, str, tuple[str, ...]]


@pytest.fixture(scope="session")
def textmate_modules(npm: str, node_major: int) -> Path:
    """node_modules with vscode-textmate and vscode-oniguruma (`tests/editors/package.json`)."""
    return _npm_ci(npm, HERE, node_major)


@pytest.fixture(scope="session")
def extension_modules(npm: str, node_major: int) -> Path:
    """node_modules of the VS Code extension: its dependencies and the packaging tool."""
    return _npm_ci(npm, EXTENSION, node_major)


@pytest.fixture(scope="session")
def tokenize(node: str, textmate_modules: Path) -> Callable[..., dict[Path, list[Token]]]:
    """Tokenize files with the extension's grammar, as VS Code does: per file, its tokens."""

    def run(*files: Path, grammar: Path = GRAMMAR) -> dict[Path, list[Token]]:
        env = {**os.environ, "NODE_PATH": str(textmate_modules)}
        proc = subprocess.run(
            [node, str(HERE / "tokenize.js"), str(grammar), *map(str, files)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        raw: dict[str, list[list[Any]]] = json.loads(proc.stdout)
        return {
            Path(file): [(t[0], t[1], t[2], t[3], tuple(t[4])) for t in tokens]
            for file, tokens in raw.items()
        }

    return run
