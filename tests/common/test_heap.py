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
