"""Throwaway certificates for the TLS tests: a CA, a server cert for 127.0.0.1, a client cert."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from codex_otel.testing import ServerTls


@dataclass(frozen=True)
class Pem:
    certificate: bytes
    private_key: bytes


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(subject: str, issuer: Pem | None, *, ca: bool = False, server: bool = False) -> Pem:
    """A certificate with the extensions a real CA writes: Python 3.13 and later verify
    strictly (RFC 5280), refusing one without an Authority Key Identifier or Key Usage."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    if issuer is None:
        issuer_name, signing_key = _name(subject), key
        issuer_public_key = key.public_key()
    else:
        issuer_cert = x509.load_pem_x509_certificate(issuer.certificate)
        issuer_name = issuer_cert.subject
        signing_key = serialization.load_pem_private_key(issuer.private_key, None)  # type: ignore[assignment]
        issuer_public_key = issuer_cert.public_key()  # type: ignore[assignment]
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    elif not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    certificate = builder.sign(signing_key, hashes.SHA256())  # type: ignore[arg-type]
    return Pem(
        certificate=certificate.public_bytes(serialization.Encoding.PEM),
        private_key=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


@dataclass(frozen=True)
class Certificates:
    """Everything a TLS test needs, written as PEM files into `folder`."""

    folder: Path
    ca: Pem
    server: Pem
    client: Pem
    other_ca: Pem  # signed nothing here: trusting it must fail

    @classmethod
    def create(cls, folder: Path) -> Certificates:
        ca = _issue("codex-otel test CA", None, ca=True)
        certs = cls(
            folder=folder,
            ca=ca,
            server=_issue("127.0.0.1", ca, server=True),
            client=_issue("codex-otel test client", ca),
            other_ca=_issue("some other CA", None, ca=True),
        )
        files = {
            "ca.pem": certs.ca.certificate,
            "other-ca.pem": certs.other_ca.certificate,
            "client.pem": certs.client.certificate,
            "client-key.pem": certs.client.private_key,
        }
        for name, data in files.items():
            (folder / name).write_bytes(data)
        return certs

    def server_tls(self, *, mutual: bool = False) -> ServerTls:
        return ServerTls(
            certificate=self.server.certificate,
            private_key=self.server.private_key,
            client_ca=self.ca.certificate if mutual else None,
        )
