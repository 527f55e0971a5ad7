"""After the served index is loaded, the garbage collector stops rescanning what lives as long
as it (service/runtime.settle_heap), having first collected what was already garbage."""

import gc
import weakref
from collections.abc import Iterator

import pytest

from service.runtime import settle_heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_garbage_is_collected_and_the_living_heap_frozen(unfrozen_afterwards: None) -> None:
    a, b, kept = Node(), Node(), Node()
    a.other, b.other = b, a  # a cycle: only the garbage collector can free it
    dead = weakref.ref(a)
    del a, b
    settle_heap()
    assert dead() is None
    assert gc.get_freeze_count() > 0
    assert not any(o is kept for o in gc.get_objects())  # frozen objects are not tracked
