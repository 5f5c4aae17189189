"""A throwaway certificate authority for the certificate tests: trustme's CA, plus what trustme
does not do (sign a CSR, make a root signed by another, a certificate with chosen dates).
Built with ``cryptography`` directly, independently of ``ocppd/security``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

FAR = datetime(2100, 1, 1, tzinfo=UTC)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def ca_key(ca: trustme.CA) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(ca.private_key_pem.bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def ca_cert(ca: trustme.CA) -> x509.Certificate:
    return x509.load_pem_x509_certificate(ca.cert_pem.bytes())


def to_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def sign_csr(
    ca: trustme.CA,
    csr_pem: str,
    *,
    not_before: datetime = LONG_AGO,
    not_after: datetime = FAR,
    subject: x509.Name | None = None,
) -> x509.Certificate:
    """What the CPO's CA does with the charger's CSR: a client certificate for its key."""
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    assert csr.is_signature_valid
    issuer = ca_cert(ca)
    return (
        x509.CertificateBuilder()
        .subject_name(subject or csr.subject)
        .issuer_name(issuer.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key(ca), hashes.SHA256())
    )


def root(
    name: str,
    *,
    signer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    ca: bool = True,
    not_before: datetime = LONG_AGO,
    not_after: datetime = FAR,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A CA certificate (self-signed, or signed by ``signer``: a new root the old one vouches
    for, as AdditionalRootCertificateCheck wants)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = (signer[0].subject, signer[1]) if signer else (subject, key)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )
    return cert, key


def ocsp_ids(cert: x509.Certificate, issuer: x509.Certificate) -> tuple[str, str, str]:
    """The CertificateHashData an OCSP request names (RFC 6960 CertID): the independent
    oracle for the store's hash data (issuerNameHash, issuerKeyHash, serialNumber)."""
    from cryptography.x509 import ocsp

    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256()).build()
    return (
        request.issuer_name_hash.hex(),
        request.issuer_key_hash.hex(),
        format(request.serial_number, "X"),
    )


def server_cert(
    issuer: x509.Certificate, issuer_key: ec.EllipticCurvePrivateKey, host: str = "127.0.0.1"
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A central system's TLS certificate for ``host`` (an IP address), issued by ``issuer``."""
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(LONG_AGO)
        .not_valid_after(FAR)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )
    return cert, key


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def signing_cert(
    issuer: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    key: Any = None,
    not_before: datetime = LONG_AGO,
    not_after: datetime = FAR,
    usage: bool = True,
) -> tuple[x509.Certificate, Any]:
    """A manufacturer's Firmware Signing certificate (an end entity, EC P-256 unless ``key``
    is given), issued by ``issuer``; ``usage`` False: a keyUsage without digitalSignature."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Maker"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Example Maker Firmware Signing"),
        ]
    )
    flags = dict.fromkeys(
        (
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    flags["content_commitment"] = not usage
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=usage, **flags),
            critical=True,
        )
        .sign(issuer_key, hashes.SHA256())
    )
    return cert, key
