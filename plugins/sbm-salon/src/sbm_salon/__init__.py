"""SBM industry pack for beauty salons: the `salon.visit` standard, `appointment_delay`,
visit validators and a sample wave of visits (`sbm_salon.sample`)."""

from pathlib import Path

__version__ = "0.1.0"

#: The folder holding the pack's standards (shipped inside the package, so in the wheel).
STANDARDS = Path(__file__).resolve().parent / "standards"
