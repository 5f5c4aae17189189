"""A01: the basic-auth password is one key in both versions (the 1.6 AuthorizationKey, the 2.0.1
SecurityCtrlr.BasicAuthPassword). Each version's CSMS writes it in its own form; what either
wrote is read back after a restart; 1.6's ChangeConfiguration keeps the whitepaper's hex."""

from __future__ import annotations

import pytest

from ocppd.features.core.keys import V16_RULES, V201_RULES, core_keys
from ocppd.model.keys import ChangeResult, Keys

SPECS = core_keys(phases={1: 3}, measurands=frozenset(), profiles=("Core",), security_profile=1)


@pytest.mark.parametrize(
    "password",
    [
        "Passw0rd-for-2.0.1",  # a 2.0.1 passwordString
        "A*-_=:+|@.bcdefgh",  # every special character it allows
        "ab" * 20,  # 40 characters
        "0123456789abcdef" * 2,  # the 1.6 hex form is one of them
    ],
)
def test_a_password_either_version_wrote_is_read_back_after_a_restart(password):
    keys = Keys(SPECS, persisted={"AuthorizationKey": password})
    assert keys.get_str("AuthorizationKey") == password


@pytest.mark.parametrize(
    "bad",
    [
        "short",
        "x" * 15,
        "x" * 41,
        "with space in it!" * 2,  # printable, but 34 characters: no 1.6 hex key's text
        "Ünïcödé-password-1",
        "tab\tinside-password",
    ],
)
def test_what_no_version_allows_is_refused_and_never_read_back(bad):
    keys = Keys(SPECS, persisted={"AuthorizationKey": bad})
    assert keys.get_str("AuthorizationKey") == ""
    result, _value, why = keys.check_change("AuthorizationKey", bad)
    assert result is ChangeResult.REJECTED
    assert bad not in why  # the refusal never repeats the secret


def test_the_text_of_a_1_6_hex_key_is_read_back_but_2_0_1_refuses_it():
    """A 1.6 hex key of printable text is kept as that text (features/core/keys.py
    basic_auth_password), which may be no passwordString: kept, read back after a restart,
    but a 2.0.1 SetVariables of it is refused (V201_RULES)."""
    text = "with space in it!"
    keys = Keys(SPECS, persisted={"AuthorizationKey": text})
    assert keys.get_str("AuthorizationKey") == text
    assert V201_RULES["AuthorizationKey"](text) is not None
    assert V201_RULES["AuthorizationKey"]("Passw0rd-for-2.0.1") is None
    assert V201_RULES["AuthorizationKey"]("0123456789abcdef" * 2) is None


def test_1_6_change_configuration_keeps_the_hex_rule():
    rule = V16_RULES["AuthorizationKey"]
    assert rule("0123456789abcdef" * 2) is None
    assert rule("Passw0rd-for-2.0.1") is not None
    assert rule("zz" * 16) is not None
