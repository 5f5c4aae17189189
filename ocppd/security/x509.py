"""X.509 facts the certificate store needs, with the ``cryptography`` package.

Written against the API of cryptography 38 (Debian bookworm's python3-cryptography) and
newer: no ``x509.verification`` (42), no ``verify_directly_issued_by`` (40); a signature
is checked here with the issuer's public key, and validity times are read through
:func:`not_before` / :func:`not_after`, which use the ``*_utc`` properties where they
exist (42+, where the naive ones are deprecated).

``cryptography`` (about 11 MB resident) is imported inside the functions that need it, on a
certificate's path: a charger with an empty store never loads it (docs/performance.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509

HASHES = {"SHA256": hashlib.sha256, "SHA384": hashlib.sha384, "SHA512": hashlib.sha512}


class CertificateProblem(ValueError):
    """A certificate (or chain, or CSR answer) that cannot be used; the text says why."""


@dataclass(frozen=True, slots=True)
class HashData:
    """The whitepaper's CertificateHashDataType (edition 3, §6.1; OCSP's CertID, RFC 6960):
    hashes of the issuer's DER name and of its public key's BIT STRING value, in hex, and the
    serial number in hex without leading zeroes. Compared case-insensitively (CiString)."""

    algorithm: str
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str

    def matches(self, other: HashData) -> bool:
        return (
            self.algorithm == other.algorithm
            and self.issuer_name_hash.lower() == other.issuer_name_hash.lower()
            and self.issuer_key_hash.lower() == other.issuer_key_hash.lower()
            and self.serial_number.lstrip("0").lower() == other.serial_number.lstrip("0").lower()
        )


def load_chain(pem: str | bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM text, in order; CertificateProblem if there is none or one
    is unreadable."""
    from cryptography import x509

    data = pem.encode() if isinstance(pem, str) else pem
    marker = b"-----BEGIN CERTIFICATE-----"
    if marker not in data:
        raise CertificateProblem("no PEM certificate")
    chain: list[x509.Certificate] = []
    for block in data.split(marker)[1:]:
        end = block.find(b"-----END CERTIFICATE-----")
        if end < 0:
            raise CertificateProblem("a PEM certificate without its END line")
        text = marker + block[: end + len(b"-----END CERTIFICATE-----")] + b"\n"
        try:
            chain.append(x509.load_pem_x509_certificate(text))
        except ValueError as exc:
            raise CertificateProblem(f"unreadable certificate: {exc}") from exc
    return chain


def pem(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM).decode()


def fingerprint(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import hashes

    return cert.fingerprint(hashes.SHA256()).hex()


def not_before(cert: x509.Certificate) -> datetime:
    utc = getattr(cert, "not_valid_before_utc", None)
    if isinstance(utc, datetime):
        return utc
    return cert.not_valid_before.replace(tzinfo=UTC)  # cryptography < 42


def not_after(cert: x509.Certificate) -> datetime:
    utc = getattr(cert, "not_valid_after_utc", None)
    if isinstance(utc, datetime):
        return utc
    return cert.not_valid_after.replace(tzinfo=UTC)  # cryptography < 42


def valid_at(cert: x509.Certificate, when: datetime) -> bool:
    return not_before(cert) <= when <= not_after(cert)


def is_ca(cert: x509.Certificate) -> bool:
    from cryptography import x509

    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def strong_enough(key: object) -> bool:
    """[SEC A00.FR.501-503] RSA/DSA keys of 2048 bits or more, EC keys of 224 or more."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    if isinstance(key, rsa.RSAPublicKey | dsa.DSAPublicKey):
        return key.key_size >= 2048
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.curve.key_size >= 224
    return isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s key made ``cert``'s signature (and the names chain)."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

    if cert.issuer != issuer.subject:
        return False
    key = issuer.public_key()
    algorithm = cert.signature_hash_algorithm
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if algorithm is None:
                return False
            pss = cert.signature_algorithm_oid == x509.oid.SignatureAlgorithmOID.RSASSA_PSS
            pad: padding.AsymmetricPadding = (
                padding.PSS(padding.MGF1(algorithm), padding.PSS.AUTO)
                if pss
                else padding.PKCS1v15()
            )
            key.verify(cert.signature, cert.tbs_certificate_bytes, pad, algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if algorithm is None:
                return False
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm))
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return False
    except InvalidSignature:
        return False
    return True


def self_signed(cert: x509.Certificate) -> bool:
    return signed_by(cert, cert)


def public_key_bits(cert: x509.Certificate) -> bytes:
    """The value of the subjectPublicKey BIT STRING (without tag, length and the unused-bits
    octet): what OCSP's issuerKeyHash is taken over (RFC 6960 §4.1.1)."""
    from cryptography.hazmat.primitives import serialization

    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _, body = _der_item(spki, 0)  # SEQUENCE
    start, end = body
    algorithm_end = _der_item(spki, start)[1][1]  # AlgorithmIdentifier
    (tag, (bits_start, bits_end)) = _der_item(spki, algorithm_end)
    if tag != 0x03 or bits_end > end:
        raise CertificateProblem("unexpected SubjectPublicKeyInfo")
    return spki[bits_start + 1 : bits_end]  # skip the unused-bits octet


def _der_item(data: bytes, at: int) -> tuple[int, tuple[int, int]]:
    """The tag at ``at`` and the (start, end) of its content."""
    tag = data[at]
    length = data[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    return tag, (start, start + length)


def hash_data(
    cert: x509.Certificate, issuer: x509.Certificate | None, algorithm: str = "SHA256"
) -> HashData:
    """The CertificateHashData of ``cert``; ``issuer`` is its issuer's certificate (None: the
    certificate is its own issuer, as a root is)."""
    digest = HASHES[algorithm]
    name = cert.issuer.public_bytes()
    key = public_key_bits(issuer if issuer is not None else cert)
    return HashData(
        algorithm=algorithm,
        issuer_name_hash=digest(name).hexdigest(),
        issuer_key_hash=digest(key).hexdigest(),
        serial_number=format(cert.serial_number, "X"),
    )
