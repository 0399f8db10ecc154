"""Make the pack importable from `src/` when it is not installed.

Why here and not only in `pyproject.toml` (`pythonpath = ["src"]`): that setting
applies only when pytest uses this pack's configuration; when the pack's tests run
together with others (`pytest plugins/sbm-bank plugins/sbm-example` from the
repository), the repository's configuration is the one in force.
"""

import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))
