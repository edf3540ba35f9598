"""Test PKIs made with openssl: a CA and the certificates it issues (never for production).

    python3 scripts/lib/testpki.py relay DIR [--office]
    python3 scripts/lib/testpki.py signing DIR

`relay` writes the relay's test PKI into DIR (for the shell scripts): ca.pem/ca.key, hub.pem
(localhost, 127.0.0.1; serverAuth), box.pem (CN=000.00.20.H13; clientAuth) and with --office
office.pem (CN=000.00.00.H41, the province office's client certificate for hubd's office API).

`signing` writes the signing tokens' test PKI (`signing_pki`): a CA and the certificates of a
commune leader, of the commune, of another commune, and a leader's expired one, each NAME.pem with
its P-256 key NAME.key, ready for the virtual card's `--import-9c NAME.key:NAME.pem`.
"""

import argparse
import datetime
import os
import subprocess
import sys

BOX_CODE = "000.00.20.H13"
OFFICE_CODE = "000.00.00.H41"


def openssl(*arguments):
    subprocess.run(["openssl", *arguments], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class TestPKI:
    """A CA in `directory` (NAME.key, NAME.pem), and what it issues (NAME.key, NAME.pem beside it).

    `key` is "ec" (P-256, SEC 1 key files, as the relay's TLS uses) or "rsa" (RSA-2048, PKCS #8)."""

    def __init__(self, directory, key="ec", days=30, ca_name="ca", ca_subject="/CN=CA thử nghiệm/O=Sở TT&TT",
                 ca_extensions=()):
        self.directory, self.key, self.days = directory, key, str(days)
        os.makedirs(directory, exist_ok=True)
        self.ca_key, self.ca_pem = self.path(ca_name + ".key"), self.path(ca_name + ".pem")
        self.new_key(self.ca_key)
        extensions = [word for extension in ca_extensions for word in ("-addext", extension)]
        openssl("req", "-x509", "-new", "-key", self.ca_key, "-days", self.days, "-utf8", "-subj", ca_subject,
                *extensions, "-out", self.ca_pem)

    def path(self, name):
        return os.path.join(self.directory, name)

    def new_key(self, path):
        if self.key == "ec":
            openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path)
        else:
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path)

    def issue(self, name, subject, extensions):
        """NAME.key and NAME.pem, signed by the CA; `extensions` as openssl's -extfile text."""
        key, csr, ext, pem = (self.path(name + suffix) for suffix in (".key", ".csr", ".ext", ".pem"))
        self.new_key(key)
        openssl("req", "-new", "-key", key, "-utf8", "-subj", subject, "-out", csr)
        with open(ext, "w") as f:
            f.write(extensions)
        openssl("x509", "-req", "-in", csr, "-CA", self.ca_pem, "-CAkey", self.ca_key, "-CAcreateserial",
                "-days", self.days, "-extfile", ext, "-out", pem)
        return pem, key


def relay_pki(directory, office=False):
    """The relay's PKI on loopback: CA, hub (localhost), box CN=000.00.20.H13, and the province
    office CN=000.00.00.H41 when asked. Returns the directory."""
    pki = TestPKI(directory)
    pki.issue("hub", "/CN=localhost/O=UBND tỉnh Quảng Trị",
              "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    pki.issue("box", f"/CN={BOX_CODE}/O=UBND xã Hòa Tiến",
              "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
    if office:
        pki.issue("office", f"/CN={OFFICE_CODE}/O=UBND tỉnh Quảng Trị",
                  "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
    return directory


# The signing tokens' certificates, as Vietnamese CAs issue them: a person's carries a personal
# identifier (CCCD:) in UID (0.9.2342.19200300.100.1.1), an organization's its tax code (MST:).
COMMUNE = "UBND xã Hòa Tiến"
LEADER_NAME = "Nguyễn Văn An"
LEADER_IDENTITY = "CCCD:001085012345"
COMMUNE_IDENTITY = "MST:0101234567"
OTHER_COMMUNE = "UBND xã Bình Minh"
OTHER_COMMUNE_IDENTITY = "MST:0109876543"
PROVINCE = "UBND tỉnh Quảng Trị"
PROVINCE_IDENTITY = "MST:3200000000"
SIGNING_EXTENSIONS = ("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n"
                      "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")


def signing_ca(directory):
    """The CA of the signing tokens' certificates (ca.pem, ca.key in `directory`), P-256, 30 days."""
    return TestPKI(directory, ca_subject="/C=VN/O=Ban Cơ yếu Chính phủ (thử nghiệm)/CN=CA ký số thử nghiệm",
                   ca_extensions=("basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"))


def person_subject(common_name, identity, organization):
    return f"/C=VN/O={organization}/CN={common_name}/UID={identity}"


def ocsp_extension(url):
    """The extension line naming `url` as the certificate's OCSP responder (AIA), to add to
    SIGNING_EXTENSIONS: what a verifier asks about the certificate's revocation."""
    return f"authorityInfoAccess=OCSP;URI:{url}\n"


def leader_certificate(pki, name="leader", common_name=LEADER_NAME, identity=LEADER_IDENTITY, organization=COMMUNE,
                       extensions=SIGNING_EXTENSIONS):
    """A leader's (a person's) certificate: CN the name, UID the CCCD number, O the commune.
    Returns (NAME.pem, NAME.key)."""
    return pki.issue(name, person_subject(common_name, identity, organization), extensions)


def organization_certificate(pki, name="organization", common_name=COMMUNE, identity=COMMUNE_IDENTITY, organization=None,
                             extensions=SIGNING_EXTENSIONS):
    """An organization's certificate (the seal): CN and O the organization, UID its tax code.
    Returns (NAME.pem, NAME.key)."""
    return pki.issue(name, person_subject(common_name, identity, organization or common_name), extensions)


def ocsp_index_line(pem):
    """The line of openssl's CA database (index.txt) that `openssl ocsp -index` answers "good"
    from for the certificate `pem`: V, its expiry, its serial."""
    out = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-serial", "-enddate"], check=True,
                         capture_output=True, text=True).stdout
    fields = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    expiry = datetime.datetime.strptime(" ".join(fields["notAfter"].split()), "%b %d %H:%M:%S %Y GMT")
    return "\t".join(["V", expiry.strftime("%y%m%d%H%M%SZ"), "", fields["serial"], "unknown", "/CN=serial " + fields["serial"]])


def ocsp_responder_command(pki, certificates, port):
    """`openssl ocsp` as the CA's responder on 127.0.0.1:`port` (the CA signs the answers), every
    certificate of `certificates` (PEM paths) good. It serves one connection at a time and says
    "waiting for OCSP client connections" once listening: wait for that line rather than
    connecting to probe (a connection that closes without a request stalls it)."""
    index = pki.path("ocsp-index.txt")
    with open(index, "w") as f:
        f.write("".join(ocsp_index_line(pem) + "\n" for pem in certificates))
    return ["openssl", "ocsp", "-index", index, "-port", str(port), "-rsigner", pki.ca_pem, "-rkey", pki.ca_key,
            "-CA", pki.ca_pem, "-nmin", "10", "-ignore_err"]


def expired_leader_certificate(pki, name="leader-expired", common_name=LEADER_NAME, identity=LEADER_IDENTITY, organization=COMMUNE,
                               days_ago=30):
    """The leader's certificate as it was: valid for a year that ended `days_ago` days ago.
    openssl sets only future validity without a CA database; past dates come from Python's
    cryptography (the virtual card needs it anyway), signed by the same CA key. Returns (NAME.pem, NAME.key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID
    key_path, pem_path = pki.path(name + ".key"), pki.path(name + ".pem")
    pki.new_key(key_path)
    key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
    ca_key = serialization.load_pem_private_key(open(pki.ca_key, "rb").read(), None)
    ca = x509.load_pem_x509_certificate(open(pki.ca_pem, "rb").read())
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                         x509.NameAttribute(NameOID.COMMON_NAME, common_name), x509.NameAttribute(NameOID.USER_ID, identity)])
    ended = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(ended - datetime.timedelta(days=365)).not_valid_after(ended)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
                   .sign(ca_key, hashes.SHA256()))
    with open(pem_path, "wb") as f:
        f.write(certificate.public_bytes(serialization.Encoding.PEM))
    return pem_path, key_path


def signing_pki(directory):
    """The signing tokens' test PKI in `directory`: ca, leader, organization, other-organization,
    province (the sender of documents that come down) and leader-expired (NAME.pem, NAME.key each). Returns {NAME: (pem, key)} with "ca" as (pem, key) too."""
    pki = signing_ca(directory)
    return {
        "ca": (pki.ca_pem, pki.ca_key),
        "leader": leader_certificate(pki),
        "organization": organization_certificate(pki),
        "other-organization": organization_certificate(pki, "other-organization", OTHER_COMMUNE, OTHER_COMMUNE_IDENTITY),
        "province": organization_certificate(pki, "province", PROVINCE, PROVINCE_IDENTITY),
        "leader-expired": expired_leader_certificate(pki),
    }


def main():
    parser = argparse.ArgumentParser(description="test PKIs, made with openssl")
    parser.add_argument("kind", choices=["relay", "signing"])
    parser.add_argument("directory")
    parser.add_argument("--office", action="store_true", help="relay: also the province office's client certificate")
    args = parser.parse_args()
    if args.kind == "relay":
        relay_pki(args.directory, office=args.office)
    else:
        signing_pki(args.directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
