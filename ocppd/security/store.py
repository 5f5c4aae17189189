"""The certificate store: root certificates and the charger's own key and certificate, on disk.

Layout under ``<state_dir>/certs`` (directories 0700, files 0600, written by the daemon's
user, each file replaced atomically: a power cut leaves the old file or the new one)::

    csms/<sha256>.pem                  CentralSystemRootCertificate, one per file
    csms/<sha256>.fallback.pem         the root a new one replaced (AdditionalRootCertificateCheck)
    manufacturer/<sha256>.pem          ManufacturerRootCertificate
    charger/<key id>.key               a private key made here; it never leaves the charger
    charger/<key id>.pem               the certificate chain signed for that key (leaf first)

A key without a certificate is a CSR waiting for its CertificateSigned. The charger
uses the newest certificate (by notBefore) that is valid now [SEC A02.FR.08-09] and
keeps the ones it replaced for a month [A02.FR.10]; :meth:`CertificateStore.prune`
forgets older ones. The store is plain Python over small files (no trio): callers in
async code call it inline, the way they would read a config file. ``cryptography`` is
imported where a certificate or key is read or made: an empty store never loads it.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from ocppd.security.x509 import (
    CertificateProblem,
    HashData,
    fingerprint,
    hash_data,
    is_ca,
    load_chain,
    not_after,
    not_before,
    pem,
    signed_by,
    strong_enough,
    valid_at,
)

if TYPE_CHECKING:
    from cryptography import x509

log = logging.getLogger(__name__)

KEEP_REPLACED = timedelta(days=30)  # [SEC A02.FR.10] old charger certificates, as a fallback
RENEW_BEFORE = timedelta(days=30)  # [SEC A03.FR.02] a new key one month before expiry
MAX_UNANSWERED = 4  # keys kept whose CSR has no certificate yet


class RootKind(StrEnum):
    """The kinds of root the central system installs (the whitepaper's CertificateUse)."""

    CENTRAL_SYSTEM = "csms"
    MANUFACTURER = "manufacturer"


class Installed(Enum):
    """How an InstallCertificate ended, in the store's words."""

    ACCEPTED = "accepted"
    INVALID = "invalid"  # unreadable, expired, not a CA, too weak a key
    FULL = "full"  # CertificateStoreMaxLength reached [M05.FR.03]
    NOT_SIGNED_BY_OLD = "not signed by the root it replaces"  # [M05.FR.10]
    FAILED = "failed"  # the disk refused
    UNAUTHENTICATED = "a manufacturer root needs a TLS link"  # profile 0 or 1: see certificates.py


class Deleted(Enum):
    ACCEPTED = "accepted"
    NOT_FOUND = "not found"
    IN_USE = "in use"  # the root the open connection was verified with [M04.FR.06]
    OWN = "the charger's own certificate"  # [M04.FR.05]
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Root:
    kind: RootKind
    cert: x509.Certificate
    path: Path
    fallback: bool

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.cert)


@dataclass(frozen=True, slots=True)
class Identity:
    """One certificate of the charger's: the chain (leaf first) and where its files are."""

    key_id: str
    chain: tuple[x509.Certificate, ...]
    cert_path: Path
    key_path: Path

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]

    def __repr__(self) -> str:  # never the key: only where it is and what it is for
        return (
            f"<Identity {self.key_id} {self.leaf.subject.rfc4514_string()} "
            f"{not_before(self.leaf):%Y-%m-%d}..{not_after(self.leaf):%Y-%m-%d}>"
        )


class CertificateStore:
    """Roots by kind and the charger's identities, in ``directory``; ``now`` is the wall clock
    (an aware datetime) that judges validity. ``bootstrap_ca`` is the config file's
    ``ca_file``: the Central System roots until the store has its own."""

    def __init__(
        self, directory: Path, now: Callable[[], datetime], bootstrap_ca: Path | None = None
    ) -> None:
        self.directory = directory
        self.now = now
        self.bootstrap_ca = bootstrap_ca

    def __repr__(self) -> str:
        try:
            counts = {kind.value: len(self.roots(kind)) for kind in RootKind}
            return f"<CertificateStore {self.directory} roots={counts} own={self.identity()!r}>"
        except OSError:
            return f"<CertificateStore {self.directory} unreadable>"

    # --- files ---

    def _dir(self, name: str) -> Path:
        path = self.directory / name
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        """Write ``path`` atomically, 0600 from the start (a key is never readable by others,
        not even for a moment)."""
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)  # an old tmp file may have had another mode
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    # --- roots ---

    def roots(self, kind: RootKind) -> list[Root]:
        found = []
        for path in sorted(self._dir(kind.value).glob("*.pem")):
            try:
                cert = load_chain(path.read_bytes())[0]
            except CertificateProblem as exc:
                log.warning("certificate store: %s is unreadable (%s); ignored", path, exc)
                continue
            found.append(Root(kind, cert, path, path.name.endswith(".fallback.pem")))
        return found

    def has_roots(self, kind: RootKind) -> bool:
        """Whether a root of ``kind`` is installed, without reading one (``cryptography``
        stays unloaded: UpdateFirmware asks this on every call)."""
        return any(self._dir(kind.value).glob("*.pem"))

    def count(self) -> int:
        """Root/CA certificates installed (what CertificateStoreMaxLength bounds)."""
        return sum(len(self.roots(kind)) for kind in RootKind)

    def install_root(
        self, kind: RootKind, text: str, *, max_count: int, replace_signed: bool = False
    ) -> tuple[Installed, str]:
        """Install a root [SEC M05]. ``replace_signed`` is AdditionalRootCertificateCheck: one
        Central System root at a time, and a new one must be signed by the one it replaces,
        which is kept as a fallback until a connection with the new one works
        [M05.FR.08-13]. The text says what happened, for the log."""
        try:
            chain = load_chain(text)
        except CertificateProblem as exc:
            return Installed.INVALID, str(exc)
        if len(chain) != 1:
            return Installed.INVALID, f"{len(chain)} certificates where one was expected"
        cert = chain[0]
        if not valid_at(cert, self.now()):
            return Installed.INVALID, "not valid now (expired or not yet valid)"
        if not is_ca(cert):
            return Installed.INVALID, "not a CA certificate (basicConstraints CA:TRUE missing)"
        if not strong_enough(cert.public_key()):
            return Installed.INVALID, "its key is too weak (A00.FR.501-503)"
        present = self.roots(kind)
        if any(r.fingerprint == fingerprint(cert) for r in present):
            return Installed.ACCEPTED, "already installed"
        current = [r for r in present if not r.fallback]
        replacing = replace_signed and kind is RootKind.CENTRAL_SYSTEM and current
        if replacing:
            old = current[0]
            if not signed_by(cert, old.cert):
                return Installed.NOT_SIGNED_BY_OLD, "not signed by the installed root"
        elif self.count() >= max_count:
            return Installed.FULL, f"the store holds {max_count} certificates already"
        try:
            if replacing:
                for r in present:
                    if r.fallback:
                        r.path.unlink()
                for r in current:
                    r.path.rename(r.path.with_name(f"{r.fingerprint}.fallback.pem"))
            self._write(self._dir(kind.value) / f"{fingerprint(cert)}.pem", pem(cert).encode())
        except OSError as exc:
            return Installed.FAILED, f"cannot write the store: {exc.strerror or exc}"
        kept = ", the old root kept as fallback" if replacing else ""
        return Installed.ACCEPTED, "installed" + kept

    def drop_fallback(self) -> bool:
        """A connection verified with the new Central System root worked: forget the old one
        [M05.FR.12]. True if there was one."""
        dropped = False
        for r in self.roots(RootKind.CENTRAL_SYSTEM):
            if r.fallback:
                r.path.unlink(missing_ok=True)
                dropped = True
        return dropped

    def trust(self) -> str | None:
        """The Central System roots in PEM (fallback included [M05.FR.13]): what TLS verifies
        the central system with. None when there is none (the config file's ca_file then).
        Read with the stdlib's ssl, not ``cryptography``: the dial never loads that (the files
        are the PEM the store wrote; one OpenSSL cannot read is skipped, as :meth:`roots` does)."""
        texts = []
        for path in sorted(self._dir(RootKind.CENTRAL_SYSTEM.value).glob("*.pem")):
            try:
                text = path.read_bytes().decode("ascii")
                ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=text)
            except (ValueError, ssl.SSLError) as exc:  # not ASCII, empty, not a certificate
                log.warning("certificate store: %s is unreadable (%s); ignored", path, exc)
                continue
            texts.append(text)
        return "".join(texts) if texts else None

    def trusted(self) -> list[x509.Certificate]:
        """The Central System roots TLS verifies with: the store's, else the bootstrap file's."""
        roots = [r.cert for r in self.roots(RootKind.CENTRAL_SYSTEM)]
        if roots or self.bootstrap_ca is None:
            return roots
        try:
            return load_chain(self.bootstrap_ca.read_bytes())
        except (OSError, CertificateProblem) as exc:
            log.warning("certificate store: ca_file %s unusable: %s", self.bootstrap_ca, exc)
            return []

    def _issuer_of(self, cert: x509.Certificate) -> x509.Certificate | None:
        if signed_by(cert, cert):
            return None
        candidates = [r.cert for kind in RootKind for r in self.roots(kind)] + self.trusted()
        return next((c for c in candidates if signed_by(cert, c)), None)

    def ids(self, kind: RootKind, algorithm: str = "SHA256") -> list[HashData]:
        return [hash_data(r.cert, self._issuer_of(r.cert), algorithm) for r in self.roots(kind)]

    def delete(self, wanted: HashData, in_use: Iterable[str] = ()) -> tuple[Deleted, str]:
        """Delete the root ``wanted`` names [M04]. Never the charger's own certificate
        [M04.FR.05], never a root in ``in_use`` (fingerprints) [M04.FR.06]."""
        for own in self.identities():
            issuer = own.chain[1] if len(own.chain) > 1 else self._issuer_of(own.leaf)
            if hash_data(own.leaf, issuer, wanted.algorithm).matches(wanted):
                return Deleted.OWN, "the charger's own certificate cannot be deleted"
        used = set(in_use)
        for kind in RootKind:
            for r in self.roots(kind):
                if not hash_data(r.cert, self._issuer_of(r.cert), wanted.algorithm).matches(wanted):
                    continue
                if r.fingerprint in used:
                    return Deleted.IN_USE, "the connection open now was verified with it"
                try:
                    r.path.unlink()
                except OSError as exc:
                    return Deleted.FAILED, f"cannot delete it: {exc.strerror or exc}"
                return Deleted.ACCEPTED, f"{kind.value} root {r.fingerprint[:16]} deleted"
        return Deleted.NOT_FOUND, "no such certificate"

    def issuers_among(self, leaf_der: bytes, fingerprints: Iterable[str]) -> set[str]:
        """Which of these Central System roots (fingerprints) signed the server certificate
        ``leaf_der`` directly: the roots in use for the open connection. With intermediates
        between them none matches, and every root the connection trusted counts as in use."""
        from cryptography import x509

        wanted = set(fingerprints)
        trusted = [c for c in self.trusted() if fingerprint(c) in wanted]
        try:
            leaf = x509.load_der_x509_certificate(leaf_der)
        except ValueError:
            return {fingerprint(c) for c in trusted}
        direct = {fingerprint(c) for c in trusted if signed_by(leaf, c)}
        return direct or {fingerprint(c) for c in trusted}

    # --- the charger's own key and certificate ---

    def new_request(self, serial_number: str, organization: str) -> str:
        """A new key pair, made here and kept here (0600) [A02.FR.02, A02.FR.05], and the PEM
        CSR for it: CN = the charge point's serial number [A00.FR.511], O = CpoName
        [A02.FR.13]. EC P-256 (A00.FR.503), signed with SHA-256 (A00.FR.506)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, serial_number),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            ]
        )
        builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
        csr = builder.sign(key, hashes.SHA256())
        key_id = _key_id(key.public_key())
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._write(self._dir("charger") / f"{key_id}.key", key_pem)
        self._forget_unanswered(keep=key_id)
        return csr.public_bytes(serialization.Encoding.PEM).decode()

    def _forget_unanswered(self, keep: str) -> None:
        """Keys whose CSR got no certificate pile up if the CA never answers: keep the
        newest few (a late CertificateSigned for one of them is still taken)."""
        waiting = [
            p
            for p in self._dir("charger").glob("*.key")
            if not p.with_suffix(".pem").exists() and p.stem != keep
        ]
        waiting.sort(key=lambda p: p.stat().st_mtime_ns)
        for stale in waiting[: max(0, len(waiting) - (MAX_UNANSWERED - 1))]:
            stale.unlink(missing_ok=True)

    def accept_signed(self, text: str, serial_number: str) -> Identity:
        """Take a CertificateSigned chain for a key of ours [A02.FR.06]: readable, leaf first,
        for a key made here, CN = our serial number, each certificate signed by the next,
        the last one signed by an installed Central System root, no certificate expired,
        the leaf's key strong enough. A leaf whose notBefore is still ahead is kept and used
        from then [A02.FR.08]. CertificateProblem says what is wrong; nothing is kept then."""
        from cryptography.x509.oid import NameOID

        chain = load_chain(text)
        leaf = chain[0]
        key_id = _key_id(leaf.public_key())
        key_path = self._dir("charger") / f"{key_id}.key"
        if not key_path.exists():
            raise CertificateProblem("the certificate is not for a key this charger made")
        names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names or names[0].value != serial_number:
            raise CertificateProblem(f"its CN is not this charge point's serial {serial_number}")
        if not strong_enough(leaf.public_key()):
            raise CertificateProblem("its key is too weak")
        now = self.now()
        for cert in chain:
            if not_after(cert) < now:
                raise CertificateProblem(f"expired: {cert.subject.rfc4514_string()}")
        for cert, issuer in itertools.pairwise(chain):
            if not signed_by(cert, issuer):
                raise CertificateProblem(
                    f"{cert.subject.rfc4514_string()} is not signed by the next in the chain"
                )
        top = chain[-1]
        roots = self.trusted()
        if not any(signed_by(top, r) or fingerprint(top) == fingerprint(r) for r in roots):
            raise CertificateProblem("not part of the CPO hierarchy: no installed root signed it")
        cert_path = self._dir("charger") / f"{key_id}.pem"
        installed = {fingerprint(r) for r in roots}
        kept = tuple(c for c in chain if fingerprint(c) not in installed)  # the roots are here
        self._write(cert_path, "".join(pem(c) for c in kept).encode())
        return Identity(key_id, kept, cert_path, key_path)

    def identities(self) -> list[Identity]:
        """Every certificate of the charger's (a key with its chain), oldest first."""
        found = []
        for cert_path in self._dir("charger").glob("*.pem"):
            key_path = cert_path.with_suffix(".key")
            try:
                chain = tuple(load_chain(cert_path.read_bytes()))
            except CertificateProblem as exc:
                log.warning("certificate store: %s is unreadable (%s); ignored", cert_path, exc)
                continue
            if key_path.exists():
                found.append(Identity(cert_path.stem, chain, cert_path, key_path))
        return sorted(found, key=lambda i: not_before(i.leaf))

    def identity(self) -> Identity | None:
        """The certificate to present now: the newest (by notBefore) valid one [A02.FR.08-09]."""
        now = self.now()
        valid = [i for i in self.identities() if valid_at(i.leaf, now)]
        return valid[-1] if valid else None

    def renewal_due(self) -> datetime | None:
        """When a new key is due: a month before the certificate in use expires [A03.FR.02].
        None without one, or when a newer one waits for its notBefore."""
        current = self.identity()
        if current is None:
            return None
        if any(not_before(i.leaf) > not_before(current.leaf) for i in self.identities()):
            return None
        return not_after(current.leaf) - RENEW_BEFORE

    def prune(self) -> list[str]:
        """Forget the charger's certificates that expired, or that a newer one replaced more
        than a month ago [A02.FR.10], with their keys. The key ids removed."""
        now = self.now()
        mine = self.identities()
        current = self.identity()
        gone = []
        for identity in mine:
            if current is not None and identity.key_id == current.key_id:
                continue
            newer = [i for i in mine if not_before(identity.leaf) < not_before(i.leaf) <= now]
            replaced_long_ago = any(now - not_before(i.leaf) > KEEP_REPLACED for i in newer)
            if not_after(identity.leaf) < now or replaced_long_ago:
                identity.cert_path.unlink(missing_ok=True)
                identity.key_path.unlink(missing_ok=True)
                gone.append(identity.key_id)
        return gone


def _key_id(public_key: object) -> str:
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashes_hex(der)[:24]


def hashes_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
