"""The Qt binding must not leak references: the app emits signals for as long as it runs.

PySide6 6.12.0 dropped a reference to ``None`` on every ``processEvents()`` and to ``True`` on
every Python ``emit()``; on Python 3.11 (no immortal objects) the app then aborted with
"deallocating None" after a few thousand signals. pyproject.toml excludes that release; this
test catches the next one that does the same.
"""

from __future__ import annotations

import sys

from pytestqt.qtbot import QtBot

from desktop import background
from desktop.qt import QApplication, QObject, Signal


class _Emitter(QObject):
    fired = Signal(object)


def test_emitting_and_processing_events_keeps_reference_counts(qtbot: QtBot, qapp: QApplication) -> None:
    emitter = _Emitter()
    received: list[object] = []
    emitter.fired.connect(received.append)
    counts = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
    for i in range(200):
        emitter.fired.emit(i)
        qapp.processEvents()
    assert len(received) == 200
    after = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
    assert all(abs(b - a) < 50 for a, b in zip(counts, after, strict=True)), (counts, after)


def test_many_background_operations_deliver_every_result(qtbot: QtBot) -> None:
    results: list[int] = []
    for i in range(300):
        background.run_op(None, lambda _p, i=i: i * 2, on_success=results.append)
    qtbot.waitUntil(lambda: background.active_count() == 0, timeout=30_000)
    assert sorted(results) == [i * 2 for i in range(300)]
