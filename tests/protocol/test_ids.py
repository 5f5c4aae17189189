"""Message ids: unique, short enough, and different after a restart."""

from __future__ import annotations

import re

import pytest

from ocppd.protocol.ids import MessageIds


def test_ids_are_unique_and_at_most_36_characters_across_two_instances():
    first, second = MessageIds(), MessageIds()
    ids = [ids.next() for ids in (first, second) for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert max(map(len, ids)) <= 36


def test_ids_are_a_random_hex_prefix_and_a_counter_from_one():
    ids = MessageIds()
    assert re.fullmatch(r"[0-9a-f]{12}", ids.prefix)
    assert [ids.next() for _ in range(3)] == [f"{ids.prefix}-{n}" for n in (1, 2, 3)]


def test_a_new_instance_gets_a_new_prefix():
    # 48 random bits: a repeat in 20 draws would be a broken random source
    assert len({MessageIds().prefix for _ in range(20)}) == 20


def test_prefix_can_be_fixed_for_tests_but_not_so_long_that_ids_overflow():
    assert MessageIds("t").next() == "t-1"
    with pytest.raises(ValueError):
        MessageIds("p" * 25)
    with pytest.raises(ValueError):
        MessageIds("")


def test_repr_shows_prefix_and_count():
    ids = MessageIds("cafe")
    ids.next()
    assert repr(ids) == "MessageIds(prefix='cafe', issued=1)"
