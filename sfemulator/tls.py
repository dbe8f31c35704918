"""A local certificate authority and server certificate, kept in the data folder and reused.

Clients trust `ca.pem` (requests: `verify=`; browsers: import it once). The server certificate
covers 127.0.0.1, ::1, localhost and *.localhost. Files are regenerated only when missing,
unreadable or close to expiry; a lock file keeps parallel starts from racing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import ipaddress
import logging
import os
import ssl
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"
DNS_NAMES = ("localhost", "*.localhost")
IP_ADDRESSES = ("127.0.0.1", "::1")
_RENEW_BEFORE = dt.timedelta(days=7)


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`explicit`, else `$SFEMULATOR_DATA`, else `var/sfemulator` under the current directory."""
    chosen = explicit or os.environ.get("SFEMULATOR_DATA") or Path.cwd() / "var" / "sfemulator"
    path = Path(chosen)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with open(folder / ".tls.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """Return (ca, server cert, server key) paths, creating or renewing what is needed."""
    with _locked(folder):
        ca_key, ca_cert = _load_pair(folder / CA_KEY_FILE, folder / CA_FILE)
        if ca_key is None or ca_cert is None:
            ca_key, ca_cert = _new_ca()
            _write_key(folder / CA_KEY_FILE, ca_key)
            _write(folder / CA_FILE, ca_cert.public_bytes(serialization.Encoding.PEM))
            log.info("created a new local CA in %s", folder)
        key, cert = _load_pair(folder / KEY_FILE, folder / CERT_FILE)
        if key is None or cert is None or cert.issuer != ca_cert.subject:
            key, cert = _new_server_cert(ca_key, ca_cert)
            _write_key(folder / KEY_FILE, key)
            _write(folder / CERT_FILE, cert.public_bytes(serialization.Encoding.PEM))
    return folder / CA_FILE, folder / CERT_FILE, folder / KEY_FILE


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    return context


def _load_pair(
    key_path: Path, cert_path: Path
) -> tuple[ec.EllipticCurvePrivateKey | None, x509.Certificate | None]:
    """Read a key and certificate; None for both when absent, broken or expiring soon."""
    if not key_path.exists() or not cert_path.exists():
        return None, None
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except ValueError as error:
        log.warning("regenerating unreadable %s: %s", cert_path.name, error)
        return None, None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return None, None
    if cert.not_valid_after_utc - _RENEW_BEFORE < dt.datetime.now(dt.timezone.utc):
        return None, None
    return key, cert


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    # Write then rename so a reader never sees half a file.
    temporary = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    _write(path, key.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()), mode=0o600)


def _new_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Forcebridge sfemulator local CA"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Forcebridge")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _new_server_cert(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in DNS_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in IP_ADDRESSES]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        # Browsers refuse server certificates valid for more than 825 days.
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert
