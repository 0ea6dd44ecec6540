"""Start-up's objects frozen out of the cyclic collector (common.heap), and let go again when the
heap is settled anew: a window closed since (objects in reference cycles) is collected, not kept
for the process's life."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from common.heap import settle_heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of this worker's tests as they were


def test_what_is_alive_is_frozen_and_let_go_when_the_heap_is_settled_again() -> None:
    node = Node()
    ref = weakref.ref(node)
    settle_heap()
    assert gc.get_freeze_count() > 0
    del node
    gc.collect()
    assert ref() is not None  # frozen: a full collection does not look at it
    settle_heap()  # the next window is up: the one closed since is collected
    assert ref() is None


def test_garbage_of_start_up_is_collected_not_frozen() -> None:
    node = Node()
    ref = weakref.ref(node)
    del node
    settle_heap()
    assert ref() is None


def test_overlapping_pauses_leave_the_collector_running_whichever_ends_first() -> None:
    """Server threads pause the collector for their pushes at once: the collector stays paused
    while any of them runs and runs again once the last one ends, in either order (review: a
    pause that started during another's and ended after it used to leave it off for good)."""
    import gc
    from contextlib import ExitStack

    from common.heap import collector_paused

    assert gc.isenabled()
    for first_to_end in (0, 1):
        pauses = [ExitStack(), ExitStack()]
        for pause in pauses:
            pause.enter_context(collector_paused())
            assert not gc.isenabled()
        pauses[first_to_end].close()
        assert not gc.isenabled()  # the other push still runs
        pauses[1 - first_to_end].close()
        assert gc.isenabled()


def test_a_collector_paused_by_overlapping_bursts_still_frees_cycles(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Bursts that keep overlapping never all end: one that ends while another runs collects the
    young generations once enough was allocated, so garbage cycles are freed meanwhile."""
    import gc
    import weakref
    from contextlib import ExitStack

    import common.heap
    from common.heap import collector_paused

    monkeypatch.setattr(common.heap, "COLLECT_WHILE_PAUSED_AFTER", 1)

    class Node:
        pass

    with collector_paused():
        ending = ExitStack()
        ending.enter_context(collector_paused())
        cycle = Node()
        cycle.me = cycle  # type: ignore[attr-defined]
        gone = weakref.ref(cycle)
        del cycle
        assert gone() is not None  # only the collector frees a cycle
        ending.close()
        assert gone() is None
        assert not gc.isenabled()
    assert gc.isenabled()
