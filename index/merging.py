"""When segments are merged: a tiered policy, as Lucene's. Segments fall in tiers by the order
of magnitude of their passage count; once a tier holds `FACTOR` segments they are merged into
one (of the next tier, usually). A publish thus merges only small segments most of the time,
the index keeps at most about `FACTOR - 1` segments per power of ten, and each passage is
copied about once per tier over its life. `depeche index --optimize` merges them all."""

import math
from collections.abc import Sequence

FACTOR = 10


def tier(passages: int) -> int:
    """A segment's tier: the order of magnitude of its passage count (0 for 0 to 9)."""
    return int(math.log10(passages)) if passages > 0 else 0


def to_merge(sizes: Sequence[int]) -> list[int]:
    """The positions of the segments (of `sizes` passages each) to merge now: those of the
    lowest tier holding `FACTOR` segments or more; none when no tier is full."""
    tiers: dict[int, list[int]] = {}
    for position, size in enumerate(sizes):
        tiers.setdefault(tier(size), []).append(position)
    full = sorted(t for t, members in tiers.items() if len(members) >= FACTOR)
    return tiers[full[0]] if full else []
