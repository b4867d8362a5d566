"""A test PKI made by the tests themselves (issue 14): certificate
authorities, server and client certificates (valid, expired, from
another CA), written as PEM files; private keys mode 0600, as nrmd
requires of every key file."""

import datetime
import hashlib
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _key(kind):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def write_key(path, key):
    path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    os.chmod(path, 0o600)


def write_cert(path, cert):
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


class CA:
    """A self-signed certificate authority that issues certificates."""

    def __init__(self, cn):
        self.key = _key("ec")
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .sign(self.key, hashes.SHA256()))

    def write(self, path):
        write_cert(path, self.cert)
        return path

    def issue(self, cn, kind="ec", server=False, expired=False):
        """(key, cert): a leaf for a server (localhost, 127.0.0.1) or a
        client; expired: it ended yesterday."""
        key = _key(kind)
        now = datetime.datetime.now(datetime.timezone.utc)
        start, end = now - datetime.timedelta(days=1), \
            now + datetime.timedelta(days=2)
        if expired:
            start, end = now - datetime.timedelta(days=10), \
                now - datetime.timedelta(days=1)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server \
            else ExtendedKeyUsageOID.CLIENT_AUTH
        b = (x509.CertificateBuilder()
             .subject_name(_name(cn)).issuer_name(self.cert.subject)
             .public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(start).not_valid_after(end)
             .add_extension(x509.BasicConstraints(ca=False,
                                                  path_length=None),
                            critical=True)
             .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if server:
            b = b.add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
        return key, b.sign(self.key, hashes.SHA256())

    def issue_files(self, directory, name, **kw):
        """Write <name>-key.pem (0600) and <name>-cert.pem; returns
        (cert path, key path, SHA-256 hex of the certificate's DER)."""
        key, cert = self.issue(name, **kw)
        kp, cp = directory / (name + "-key.pem"), \
            directory / (name + "-cert.pem")
        write_key(kp, key)
        write_cert(cp, cert)
        return cp, kp, fingerprint(cert)


def fingerprint(cert):
    """SHA-256 of a certificate's DER, as lowercase hex."""
    return hashlib.sha256(
        cert.public_bytes(serialization.Encoding.DER)).hexdigest()
