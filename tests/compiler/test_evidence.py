"""Evidence an answer calls for (photos, attachments, a comment) is checked on both
backends and never counts in a score: the pattern `docs/language.md` gives under
"Evidence: photos and attachments"."""

from __future__ import annotations

import sbm_engine
from sbm_engine.testing import assert_batch_agrees

TEXT = """\
standard t.evidence {
    scale yes_no { yes = 1, no = 0 }
    item clean "Зал чистый" answer yes_no
    item clean_photos "Фото зала, штук" answer number 2..10 unscored
        when answer(clean) == no
    item clean_note "Что было не так" answer text when answer(clean) == no
}
"""


def test_a_no_needs_its_photos_and_note_and_a_yes_needs_neither() -> None:
    std = sbm_engine.loads(TEXT)
    records = [
        {"visit_id": "dirty", "answers": {"clean": "no", "clean_photos": 3, "clean_note": "x"}},
        {"visit_id": "no photos", "answers": {"clean": "no", "clean_note": "x"}},
        {"visit_id": "one photo", "answers": {"clean": "no", "clean_photos": 1, "clean_note": "x"}},
        {"visit_id": "no note", "answers": {"clean": "no", "clean_photos": 2}},
        {"visit_id": "clean", "answers": {"clean": "yes"}},
    ]
    dirty, no_photos, one_photo, no_note, clean = assert_batch_agrees(std, records)
    assert dirty.ok
    assert dirty.items == {"clean": 0.0, "clean_photos": None, "clean_note": None}
    assert [(e.item, e.code) for e in no_photos.errors] == [("clean_photos", "missing")]
    assert [(e.item, e.code) for e in one_photo.errors] == [("clean_photos", "out_of_range")]
    assert [(e.item, e.code) for e in no_note.errors] == [("clean_note", "missing")]
    assert clean.ok and not clean.warnings and clean.items["clean"] == 1.0
