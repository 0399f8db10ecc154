"""The sample waves bundled with the packs (`plugins/*/sample/wave.jsonl`, used by the
README's first command) are exactly what each pack's seeded generator produces, and
score with the share of rejects the generator planted."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

import sbm_engine

ROOT = Path(__file__).parent.parent
PACKS = {
    "bank": "bank.branch",
    "salon": "salon.visit",
    "restaurant": "restaurant.service",
    "hotel": "hotel.stay",
}


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_the_bundled_wave_is_the_generators_output(pack: str) -> None:
    sample = pytest.importorskip(f"sbm_{pack}.sample")
    path = ROOT / "plugins" / f"sbm-{pack}" / "sample" / "wave.jsonl"
    committed = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    generated = json.loads(json.dumps(list(sample.generate()), ensure_ascii=False))
    assert committed == generated, f"regenerate it: sbm-{pack}-sample -o {path.relative_to(ROOT)}"


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_the_bundled_wave_scores_with_the_planted_rejects(pack: str) -> None:
    importlib.import_module(f"sbm_{pack}")  # skip cleanly if the pack is not installed
    path = ROOT / "plugins" / f"sbm-{pack}" / "sample" / "wave.jsonl"
    records = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    outcomes = list(sbm_engine.load(PACKS[pack]).score_many(records))
    rejected = [o for o in outcomes if not o.ok]
    assert len(outcomes) == 300
    assert 1 <= len(rejected) <= 10  # the generators plant 4 to 6 bad records
