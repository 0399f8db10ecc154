"""SBM industry pack for hotels.

Ships the standard `hotel.stay` ("Проживание в отеле"), whose timestamps are `datetime`
fields, the timing functions `minutes_late` and `room_ready` for standards that keep
timestamps as text (see :mod:`sbm_hotel.timing`), a validator for the order and UTC
offsets of the timestamps a standard measures between, and a seeded generator of a
sample wave (:mod:`sbm_hotel.sample`).
"""

from pathlib import Path

__version__ = "0.1.0"

#: The folder of `.sbm` files this pack ships.
STANDARDS = Path(__file__).parent / "standards"
