"""Signed firmware [SEC L01]: the Firmware Signing certificate judged against the installed
Manufacturer roots, and the signature over a downloaded file checked with its key.

The certificate [L01.FR.12, L01.FR.23]: one PEM certificate (the manufacturer "SHALL NOT
use intermediate certificates for the firmware signing certificate", L01 remark), valid
now, its key strong enough (A00.FR.501-503), its keyUsage (when present) allowing
digitalSignature (A00.FR.512), signed by an installed ManufacturerRootCertificate that is
itself valid now. Revocation is not checked: the charger has no way to ask the
manufacturer's CA (the whitepaper's "online verification" is the central system's, A00.FR.706).

The signature [L01.FR.04]: over the entire file, hashed with SHA-256. The whitepaper names
"RSA-PSS or ECSchnorr" for signing. RSA keys: RSA-PSS (MGF1 with SHA-256, any salt length).
EC keys: ECDSA, since EC-Schnorr has no standard encoding and no implementation in OpenSSL
or ``cryptography``, while ECDSA is what the whitepaper names for certificates (A00.FR.505)
and what ``openssl dgst -sha256 -sign`` makes with an EC key; the signature in DER (what
OpenSSL writes), or the raw r||s of the same key size. An RSA PKCS#1 v1.5 signature is
refused: the text says PSS. ``docs/security.md`` shows how a maker signs a package.

``cryptography`` is imported inside the functions: only a signed update loads it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ocppd.security.x509 import (
    CertificateProblem,
    load_chain,
    signed_by,
    strong_enough,
    valid_at,
)

if TYPE_CHECKING:
    from cryptography import x509

MAX_SIGNATURE = 800  # [SEC §6.9] FirmwareType.signature is string[0..800]
CHUNK = 1 << 20


class SignatureProblem(ValueError):
    """A firmware file whose signature does not hold; the text says why."""


def signing_certificate(
    pem: str, roots: Iterable[x509.Certificate], now: datetime
) -> x509.Certificate:
    """The Firmware Signing certificate of a SignedUpdateFirmware, if it may be used
    (see the module); CertificateProblem says why not, also for a certificate
    ``cryptography`` cannot handle (an unknown key or signature algorithm)."""
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        return _signing_certificate(pem, roots, now)
    except CertificateProblem:
        raise
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CertificateProblem(f"an unusable signing certificate: {exc}") from exc


def _signing_certificate(
    pem: str, roots: Iterable[x509.Certificate], now: datetime
) -> x509.Certificate:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    chain = load_chain(pem)
    if len(chain) != 1:
        raise CertificateProblem(
            f"{len(chain)} certificates where one was expected (no intermediates, L01)"
        )
    cert = chain[0]
    if not valid_at(cert, now):
        raise CertificateProblem("the signing certificate is expired or not yet valid")
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise CertificateProblem(f"a {type(key).__name__} signing key (RSA or EC only)")
    if not strong_enough(key):
        raise CertificateProblem("the signing certificate's key is too weak")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        pass
    else:
        if not usage.digital_signature:
            raise CertificateProblem("the signing certificate's keyUsage forbids signing")
    trusted = [r for r in roots if valid_at(r, now)]
    if not trusted:
        raise CertificateProblem("no valid ManufacturerRootCertificate is installed")
    if not any(signed_by(cert, r) for r in trusted):
        raise CertificateProblem("not signed by an installed ManufacturerRootCertificate")
    return cert


def file_digest(path: Path) -> bytes:
    """SHA-256 of the whole file, read in chunks (a package may be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.digest()


def verify_file(cert: x509.Certificate, path: Path, signature: str) -> None:
    """Check ``signature`` (base64, as SignedUpdateFirmware carries it) over the file at
    ``path`` with ``cert``'s key [L01.FR.04, L01.FR.12]. SignatureProblem if it does not
    hold; OSError if the file cannot be read."""
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import (
        Prehashed,
        encode_dss_signature,
    )

    if not signature.strip():
        raise SignatureProblem("no signature")
    if len(signature) > MAX_SIGNATURE:
        raise SignatureProblem(f"a signature of {len(signature)} characters")
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureProblem(f"the signature is not base64: {exc}") from exc
    digest = file_digest(path)
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SignatureProblem(f"the signing certificate's key is unusable: {exc}") from exc
    prehashed = Prehashed(hashes.SHA256())
    try:
        if isinstance(key, rsa.RSAPublicKey):
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
            key.verify(raw, digest, pss, prehashed)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            size = (key.curve.key_size + 7) // 8
            forms = [raw]  # DER, as OpenSSL writes it
            if len(raw) == 2 * size:  # or the raw r||s
                r, s = int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big")
                forms.append(encode_dss_signature(r, s))
            for form in forms:
                try:
                    key.verify(form, digest, ec.ECDSA(prehashed))
                    return
                except (InvalidSignature, ValueError):
                    continue
            raise InvalidSignature
        else:
            raise SignatureProblem(f"a {type(key).__name__} cannot sign firmware here")
    except InvalidSignature as exc:
        raise SignatureProblem("the signature does not match the file") from exc
    except ValueError as exc:  # a malformed DER signature
        raise SignatureProblem(f"an unreadable signature: {exc}") from exc
