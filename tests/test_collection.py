"""The collector's pause (mermaidgen/collection.py): what is built inside leaves it as old
data, so that the first young collection afterwards does not scan it all."""

from __future__ import annotations

import gc

from mermaidgen.collection import paused_collection


def _build() -> list:
    return [[i] for i in range(20_000)]  # lists: objects the collector tracks


def test_what_is_built_inside_leaves_as_old_data() -> None:
    gc.collect()
    with paused_collection():
        kept = _build()
    assert gc.isenabled()
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    # without the move they are young (or, after the young scan they cause, middle-aged)
    assert id(kept[0]) in oldest and id(kept[-1]) in oldest


def test_objects_frozen_by_someone_else_stay_frozen() -> None:
    gc.collect()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with paused_collection():
            _build()
        # a frozen object that dies meanwhile (its last reference dropped) leaves the
        # permanent generation, so the count may go down by a few (CI saw 2 of 330,576);
        # thawing it would empty it
        assert frozen * 0.99 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()


def test_a_nested_pause_leaves_the_collector_off_until_the_outermost_ends() -> None:
    with paused_collection():
        with paused_collection():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
