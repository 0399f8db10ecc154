"""SBM industry pack for hotels.

Ships the standard `hotel.stay` ("Проживание в отеле"), the timing functions
`minutes_between`, `minutes_late` and `room_ready` (see :mod:`sbm_hotel.timing`), a
validator that rejects visits with unreadable timestamps, and a seeded generator of a
sample wave (:mod:`sbm_hotel.sample`).
"""

from pathlib import Path

__version__ = "0.1.0"

#: The folder of `.sbm` files this pack ships.
STANDARDS = Path(__file__).parent / "standards"
