"""Who a driver is, beyond the identifier: how the identifier came (the kind of token) and
the further identifiers it came with. Version-neutral words; each OCPP version says them in
its own (2.0.1: ``ocppd/features/v201/authorization.py``), 1.6 ignores them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TokenKind(StrEnum):
    """How a driver's identifier came to the charger. Each OCPP version says it in its own
    words (2.0.1: ``features/v201/words.py``); 1.6 has none (its idTag is the identifier
    alone) and ignores it."""

    CARD = "card"  # a proximity card or tag, ISO/IEC 14443 (what RFID readers read)
    VICINITY_CARD = "vicinity-card"  # a vicinity card, ISO/IEC 15693
    KEY_CODE = "key-code"  # a code typed in (a PIN)
    LOCAL = "local"  # an identifier the charger made itself
    MAC_ADDRESS = "mac-address"  # the EV's MAC address (plug and charge without a card)
    CONTRACT = "contract"  # an e-mobility contract identifier (eMAID, ISO 15118)
    CENTRAL = "central"  # an identifier the central system made
    NONE = "none"  # no authorisation at all (the charger lets anyone charge)


@dataclass(frozen=True, slots=True)
class Origin:
    """How a driver's identifier came, beyond the identifier itself: the kind of token, and
    the further identifiers it came with ((identifier, type) as the central system gave
    them). An authorisation carries it into the transaction it starts; an OCPP version that
    has words for it says it."""

    kind: TokenKind = TokenKind.CARD
    extra: tuple[tuple[str, str], ...] = ()


# a card with nothing more known: the origin where nobody said otherwise
DEFAULT_ORIGIN = Origin()
