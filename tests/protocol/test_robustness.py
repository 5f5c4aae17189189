"""Whatever the central system sends, Rpc.receive answers with an event and never raises."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from ocppd.protocol.ids import MessageIds
from ocppd.protocol.rpc import Answered, Failed, Ignored, IncomingCall, Reply, Rpc
from ocppd.protocol.v16.codec import ACTIONS
from ocppd.protocol.v16.dialect import V16

from . import examples

LONE_SURROGATE = "\ud800"
ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    1e308,
    10**400,
    "",
    "x" * 600,
    LONE_SURROGATE,
    "2026-11-21T10:00:00Z",
    "Accepted",
    [],
    [None],
    {},
    {"a": {"b": []}},
]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place inside a payload: keys of objects and indices of arrays."""
    found = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        found.append((*prefix, key))
        if isinstance(item, dict | list):
            found += paths(item, (*prefix, key))
    return found


def replaced(payload: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    result = copy.deepcopy(payload)
    target: Any = result
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return result


def test_every_odd_value_at_every_place_of_every_example_never_raises():
    for action in sorted(ACTIONS):
        for table, frame in ((examples.REQUESTS, 2), (examples.RESPONSES, 3)):
            for path in paths(table[action]):
                for odd in ODD_VALUES:
                    payload = replaced(table[action], path, odd)
                    rpc = Rpc(MessageIds("f"), V16, ACTIONS)
                    if frame == 2:
                        event = rpc.receive(json.dumps([2, "cs-1", action, payload]))
                        expected: Any = IncomingCall | Reply
                    else:
                        rpc.call_payload(action, {})
                        event = rpc.receive(json.dumps([3, "f-1", payload]))
                        expected = Answered | Failed
                    if odd == LONE_SURROGATE:
                        expected = Ignored
                    assert isinstance(event, expected), (action, path, odd, event)
                    if isinstance(event, Reply):
                        event.text.encode("utf-8")  # what we send can be sent


def mutate(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """`value` with one random part replaced, removed or added."""
    if depth > 8 or rng.random() < 0.15 or not isinstance(value, dict | list) or not value:
        return rng.choice(ODD_VALUES)
    value = copy.copy(value)
    if isinstance(value, list):
        index = rng.randrange(len(value))
        value[index] = mutate(value[index], rng, depth + 1)
        return value
    key = rng.choice(list(value))
    choice = rng.random()
    if choice < 0.6:
        value[key] = mutate(value[key], rng, depth + 1)
    elif choice < 0.8:
        del value[key]
    else:
        value[rng.choice(["x", "status", "type", "idTag"])] = rng.choice(ODD_VALUES)
    return value


def test_mutated_calls_and_results_for_every_action_never_raise():
    rng = random.Random(20261121)
    outcomes: set[type] = set()
    for action in sorted(ACTIONS):
        for _ in range(40):
            rpc = Rpc(MessageIds("f"), V16, ACTIONS)
            payload = mutate(examples.REQUESTS[action], rng)
            event = rpc.receive(json.dumps([2, "cs-1", action, payload]))
            outcomes.add(type(event))
            if isinstance(event, Ignored):
                assert "surrogate" in event.reason
            else:
                assert isinstance(event, IncomingCall | Reply)
            rpc.call_payload(action, {})
            result = mutate(examples.RESPONSES[action], rng)
            event = rpc.receive(json.dumps([3, "f-1", result]))
            outcomes.add(type(event))
            if isinstance(result, dict) and "\\ud800" not in json.dumps(result):
                assert isinstance(event, Answered | Failed)
                assert rpc.outstanding is None
            else:  # a malformed CALLRESULT: our call keeps waiting for its timeout
                assert isinstance(event, Ignored)
                assert rpc.outstanding is not None
    # the mutations are neither all harmless nor all fatal
    assert outcomes == {IncomingCall, Reply, Answered, Failed, Ignored}
