"""Where transactions begin and end (ocppd/model/txpoints.py), row by row."""

from __future__ import annotations

import pytest

from ocppd.model.txpoints import CLASSIC, Moment, TxPoint, TxPoints, holds

P = TxPoint
EV, AUTH, PPC, ENERGY = P.EV_CONNECTED, P.AUTHORIZED, P.POWER_PATH_CLOSED, P.ENERGY_TRANSFER

NOTHING = Moment(plugged=False, authorized=False)
CABLE = Moment(plugged=True, authorized=False, energy=True)
DRIVER = Moment(plugged=False, authorized=True)
BOTH = Moment(plugged=True, authorized=True)
FLOWING = Moment(plugged=True, authorized=True, energy=True)


@pytest.mark.parametrize(
    ("point", "moment", "expected"),
    [
        (EV, CABLE, True),
        (EV, DRIVER, False),
        (AUTH, DRIVER, True),
        (AUTH, CABLE, False),
        (PPC, BOTH, True),
        (PPC, CABLE, False),  # the EV asking is not enough: nobody is authorised
        (PPC, DRIVER, False),
        (ENERGY, BOTH, False),  # authorised and plugged, the EV does not ask yet
        (ENERGY, FLOWING, True),
        (ENERGY, CABLE, False),
        (EV, NOTHING, False),
    ],
)
def test_holds(point: TxPoint, moment: Moment, expected: bool) -> None:
    assert holds(point, moment) is expected


@pytest.mark.parametrize(
    ("start", "moment", "begins"),
    [
        ({PPC}, BOTH, True),
        ({PPC}, CABLE, False),
        ({PPC}, DRIVER, False),
        ({EV}, CABLE, True),
        ({AUTH}, DRIVER, True),
        ({AUTH}, CABLE, False),
        ({ENERGY}, BOTH, False),
        ({ENERGY}, FLOWING, True),
        ({EV, AUTH}, DRIVER, True),  # the first reached
        ({EV, AUTH}, CABLE, True),
    ],
)
def test_a_transaction_begins_at_the_first_start_point_reached(
    start: set[TxPoint], moment: Moment, begins: bool
) -> None:
    assert TxPoints(start=frozenset(start)).begins(moment) is begins


@pytest.mark.parametrize(
    ("stop", "with_authorization", "at_unplug", "at_unplug_before_energy", "ev_pause"),
    [
        ({PPC}, True, False, False, False),  # StopTxOnEVSideDisconnect decides
        ({EV}, False, True, True, False),
        ({AUTH}, True, False, False, False),
        ({ENERGY}, True, True, False, True),
        ({EV, AUTH}, True, True, True, False),
    ],
)
def test_a_transaction_ends_when_the_first_stop_point_no_longer_holds(
    stop: set[TxPoint],
    with_authorization: bool,
    at_unplug: bool,
    at_unplug_before_energy: bool,
    ev_pause: bool,
) -> None:
    points = TxPoints(stop=frozenset(stop))
    assert points.ends_with_authorization() is with_authorization
    assert points.ends_at_unplug(energy_flowed=True) is at_unplug
    # a point that never held cannot stop holding
    assert points.ends_at_unplug(energy_flowed=False) is at_unplug_before_energy
    assert points.ends_when_ev_pauses(energy_flowed=True) is ev_pause
    assert points.ends_when_ev_pauses(energy_flowed=False) is False


def test_the_classic_rule_is_1_6s() -> None:
    assert CLASSIC.start == CLASSIC.stop == frozenset({PPC})
    assert CLASSIC.authorization
    assert CLASSIC.begins(BOTH) and not CLASSIC.begins(CABLE) and not CLASSIC.begins(DRIVER)


def test_a_list_may_not_be_empty() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TxPoints(start=frozenset())
