"""SBM pack template: the `example.service` standard and the `wait_score` function."""

from pathlib import Path

#: The folder holding the pack's standards (shipped inside the package, so in the wheel).
STANDARDS = Path(__file__).resolve().parent / "standards"
