"""What a finished run does with a late Ctrl-C: once its outputs are in place, the `sbm`
process ignores SIGINT and SIGTERM until it exits, so a signal in its last moments
cannot turn a finished run into one killed by the signal (exit -2, the outputs in
place but the status saying otherwise). A program that called a command in-process
(tests, an embedding application) gets its own handlers back."""

from __future__ import annotations

import signal

import pytest

from sbm_engine.cli import common


@pytest.mark.parametrize("owns_process", [True, False])
def test_after_the_commit_late_signals_are_ignored_only_by_sbm_itself(
    owns_process: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "owns_process", owns_process)
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with common.stopping_on_signals(), common.outputs_together():
            pass  # the outputs are committed on leaving
        after = {sig: signal.getsignal(sig) for sig in before}
        expected = dict.fromkeys(before, signal.SIG_IGN) if owns_process else before
        assert after == expected
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def test_an_unfinished_run_gets_its_handlers_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "owns_process", True)
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    with common.stopping_on_signals():
        pass  # nothing committed
    assert {sig: signal.getsignal(sig) for sig in before} == before
