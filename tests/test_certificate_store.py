"""The certificate store on its own: plain ``def`` tests on files in a temporary directory.

Hash data is checked against an OCSP request built by ``cryptography`` (RFC 6960's CertID,
which the whitepaper's edition 3 names as the definition), not against our own code.
"""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.x509.oid import NameOID

from ocppd.security.store import (
    KEEP_REPLACED,
    CertificateStore,
    Deleted,
    Installed,
    RootKind,
)
from ocppd.security.x509 import CertificateProblem, HashData, fingerprint
from tests.pki import FAR, ca_cert, ocsp_ids, root, sign_csr, to_pem

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
SERIAL = "T-0001"


class Wall:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def store(tmp_path: Path, wall: Wall) -> CertificateStore:
    return CertificateStore(tmp_path / "certs", now=wall)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_root_is_kept_0600_in_a_0700_directory_owned_by_the_daemon(store):
    ca = trustme.CA()
    outcome, _ = store.install_root(
        RootKind.CENTRAL_SYSTEM, ca.cert_pem.bytes().decode(), max_count=5
    )
    assert outcome is Installed.ACCEPTED
    [kept] = store.roots(RootKind.CENTRAL_SYSTEM)
    assert _mode(kept.path) == 0o600 and _mode(kept.path.parent) == 0o700
    assert kept.path.stat().st_uid == os.getuid()
    assert store.trust() == to_pem(ca_cert(ca))


def test_a_damaged_root_file_is_left_out_of_what_tls_trusts(store):
    ca = trustme.CA()
    store.install_root(RootKind.CENTRAL_SYSTEM, ca.cert_pem.bytes().decode(), max_count=5)
    [kept] = store.roots(RootKind.CENTRAL_SYSTEM)
    damaged = kept.path.with_name("0" * 64 + ".pem")
    for text in (
        b"\xff\xfe",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        b"",
    ):
        damaged.write_bytes(text)
        assert len(store.roots(RootKind.CENTRAL_SYSTEM)) == 1
        assert store.trust() == to_pem(ca_cert(ca))
    kept.path.unlink()
    assert store.trust() is None


def test_installed_ids_are_the_ocsp_cert_ids(store):
    ca = trustme.CA()
    store.install_root(RootKind.MANUFACTURER, ca.cert_pem.bytes().decode(), max_count=5)
    [ids] = store.ids(RootKind.MANUFACTURER)
    cert = ca_cert(ca)
    assert (ids.issuer_name_hash, ids.issuer_key_hash, ids.serial_number) == ocsp_ids(cert, cert)
    assert ids.algorithm == "SHA256"
    assert store.ids(RootKind.CENTRAL_SYSTEM) == []


def test_what_is_not_a_usable_root_is_invalid_and_nothing_is_kept(store):
    leaf, _ = root("not a CA", ca=False)
    expired, _ = root("expired", not_after=NOW - timedelta(days=1))
    cases = ["no certificate", to_pem(leaf), to_pem(expired), to_pem(leaf) + to_pem(expired)]
    for text in cases:
        outcome, why = store.install_root(RootKind.CENTRAL_SYSTEM, text, max_count=5)
        assert outcome is Installed.INVALID, why
    assert store.count() == 0


def test_the_store_refuses_more_than_its_length_and_a_repeat_costs_nothing(store):
    first, second = trustme.CA(), trustme.CA()
    one = first.cert_pem.bytes().decode()
    assert store.install_root(RootKind.CENTRAL_SYSTEM, one, max_count=1)[0] is Installed.ACCEPTED
    assert store.install_root(RootKind.CENTRAL_SYSTEM, one, max_count=1)[0] is Installed.ACCEPTED
    other = second.cert_pem.bytes().decode()
    assert store.install_root(RootKind.MANUFACTURER, other, max_count=1)[0] is Installed.FULL
    assert store.count() == 1


def test_with_the_additional_check_a_new_root_must_be_signed_by_the_old_which_stays_as_fallback(
    store,
):
    old, old_key = root("CPO root 1")
    assert (
        store.install_root(RootKind.CENTRAL_SYSTEM, to_pem(old), max_count=5, replace_signed=True)[
            0
        ]
        is Installed.ACCEPTED
    )
    stranger, _ = root("someone else")
    outcome, _ = store.install_root(
        RootKind.CENTRAL_SYSTEM, to_pem(stranger), max_count=5, replace_signed=True
    )
    assert outcome is Installed.NOT_SIGNED_BY_OLD
    new, _ = root("CPO root 2", signer=(old, old_key))
    outcome, _ = store.install_root(
        RootKind.CENTRAL_SYSTEM, to_pem(new), max_count=5, replace_signed=True
    )
    assert outcome is Installed.ACCEPTED
    roots = {r.fingerprint: r.fallback for r in store.roots(RootKind.CENTRAL_SYSTEM)}
    assert roots == {fingerprint(new): False, fingerprint(old): True}
    assert to_pem(old) in (store.trust() or "") and to_pem(new) in (store.trust() or "")
    assert store.drop_fallback()
    assert [r.fingerprint for r in store.roots(RootKind.CENTRAL_SYSTEM)] == [fingerprint(new)]


def test_delete_finds_by_hash_data_and_never_deletes_a_root_in_use(store):
    ca = trustme.CA()
    store.install_root(RootKind.CENTRAL_SYSTEM, ca.cert_pem.bytes().decode(), max_count=5)
    [ids] = store.ids(RootKind.CENTRAL_SYSTEM)
    in_use = {fingerprint(ca_cert(ca))}
    assert store.delete(ids, in_use)[0] is Deleted.IN_USE
    unknown = HashData("SHA256", ids.issuer_name_hash, ids.issuer_key_hash, "ABC")
    assert store.delete(unknown)[0] is Deleted.NOT_FOUND
    lower = HashData(
        "SHA256", ids.issuer_name_hash.upper(), ids.issuer_key_hash, ids.serial_number.lower()
    )
    assert store.delete(lower)[0] is Deleted.ACCEPTED  # CiString: case does not matter
    assert store.count() == 0


def _csr_subject(csr_pem: str) -> dict[str, str]:
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    assert csr.is_signature_valid
    return {a.oid._name: str(a.value) for a in csr.subject}


def _own_setup(store: CertificateStore) -> trustme.CA:
    ca = trustme.CA()
    store.install_root(RootKind.CENTRAL_SYSTEM, ca.cert_pem.bytes().decode(), max_count=5)
    return ca


def test_a_csr_has_the_serial_as_cn_and_the_cpo_as_o_and_its_key_stays_here_0600(store):
    csr = store.new_request(SERIAL, "Example CPO")
    assert _csr_subject(csr) == {"commonName": SERIAL, "organizationName": "Example CPO"}
    assert "PRIVATE KEY" not in csr
    [key] = list((store.directory / "charger").glob("*.key"))
    assert _mode(key) == 0o600 and b"PRIVATE KEY" in key.read_bytes()
    assert store.identity() is None  # no certificate yet


def test_a_signed_certificate_for_our_key_is_taken_and_used(store):
    ca = _own_setup(store)
    cert = sign_csr(ca, store.new_request(SERIAL, "Example CPO"))
    identity = store.accept_signed(to_pem(cert) + ca.cert_pem.bytes().decode(), SERIAL)
    assert store.identity() == identity
    assert identity.leaf == cert
    assert _mode(identity.cert_path) == 0o600


@pytest.mark.parametrize(
    "problem",
    ["foreign key", "wrong CN", "unknown CA", "expired", "broken chain", "garbage"],
)
def test_a_certificate_that_is_not_valid_is_discarded(store, problem):
    ca = _own_setup(store)
    csr = store.new_request(SERIAL, "Example CPO")
    if problem == "foreign key":
        text = to_pem(
            sign_csr(
                ca,
                CertificateStore(store.directory.parent / "other", store.now).new_request(
                    SERIAL, "X"
                ),
            )
        )
    elif problem == "wrong CN":
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "T-9999")])
        text = to_pem(sign_csr(ca, csr, subject=name))
    elif problem == "unknown CA":
        text = to_pem(sign_csr(trustme.CA(), csr))
    elif problem == "expired":
        text = to_pem(sign_csr(ca, csr, not_after=NOW - timedelta(seconds=1)))
    elif problem == "broken chain":
        text = to_pem(sign_csr(ca, csr)) + trustme.CA().cert_pem.bytes().decode()
    else:
        text = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"
    with pytest.raises(CertificateProblem):
        store.accept_signed(text, SERIAL)
    assert store.identities() == []


def test_the_newest_valid_certificate_wins_from_its_not_before_and_the_old_is_kept_a_month(
    store, wall
):
    ca = _own_setup(store)
    first = store.accept_signed(to_pem(sign_csr(ca, store.new_request(SERIAL, "CPO"))), SERIAL)
    later = NOW + timedelta(days=2)
    second = store.accept_signed(
        to_pem(sign_csr(ca, store.new_request(SERIAL, "CPO"), not_before=later)), SERIAL
    )
    assert store.identity() == first  # the new one is not valid yet [A02.FR.08]
    assert store.renewal_due() is None  # a newer one is waiting
    wall.now = later + timedelta(seconds=1)
    assert store.identity() == second
    assert store.prune() == []  # the old one is kept as a fallback [A02.FR.10]
    wall.now = later + KEEP_REPLACED + timedelta(seconds=1)
    assert store.prune() == [first.key_id]
    assert not first.key_path.exists() and not first.cert_path.exists()
    assert store.identity() == second


def test_renewal_is_due_a_month_before_expiry(store):
    ca = _own_setup(store)
    expiry = NOW + timedelta(days=90)
    store.accept_signed(
        to_pem(sign_csr(ca, store.new_request(SERIAL, "CPO"), not_after=expiry)), SERIAL
    )
    assert store.renewal_due() == expiry - timedelta(days=30)


def test_a_chain_through_an_intermediate_is_taken(store):
    top, top_key = root("CPO root")
    store.install_root(RootKind.CENTRAL_SYSTEM, to_pem(top), max_count=5)
    sub, sub_key = root("CPO sub-CA", signer=(top, top_key))
    csr = x509.load_pem_x509_csr(store.new_request(SERIAL, "CPO").encode())
    from cryptography.hazmat.primitives import hashes

    leaf = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(sub.subject)
        .public_key(csr.public_key())
        .serial_number(4095)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(FAR)
        .sign(sub_key, hashes.SHA256())
    )
    identity = store.accept_signed(to_pem(leaf) + to_pem(sub), SERIAL)
    assert identity.chain == (leaf, sub)
    assert format(leaf.serial_number, "X") == "FFF"  # the whitepaper's example


def test_keys_whose_csr_was_never_answered_do_not_pile_up(store):
    for _ in range(7):
        store.new_request(SERIAL, "CPO")
    assert len(list((store.directory / "charger").glob("*.key"))) == 4
