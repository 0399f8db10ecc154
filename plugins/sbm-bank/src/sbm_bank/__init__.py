"""SBM industry pack for retail banking: the `bank.branch` standard, `queue_minutes`,
visit validators and a sample wave of visits (`sbm_bank.sample`)."""

from pathlib import Path

__version__ = "0.1.0"

#: The folder holding the pack's standards (shipped inside the package, so in the wheel).
STANDARDS = Path(__file__).resolve().parent / "standards"
