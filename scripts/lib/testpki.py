"""Test PKIs made with openssl: a CA and the certificates it issues (never for production).

    python3 scripts/lib/testpki.py relay DIR [--office]

writes the relay's test PKI into DIR (for the shell scripts): ca.pem/ca.key, hub.pem (localhost,
127.0.0.1; serverAuth), box.pem (CN=000.00.20.H13; clientAuth) and with --office office.pem
(CN=000.00.00.H41, the province office's client certificate for hubd's office API).
"""

import argparse
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


def main():
    parser = argparse.ArgumentParser(description="the relay's test PKI, made with openssl")
    parser.add_argument("kind", choices=["relay"])
    parser.add_argument("directory")
    parser.add_argument("--office", action="store_true", help="also the province office's client certificate")
    args = parser.parse_args()
    relay_pki(args.directory, office=args.office)
    return 0


if __name__ == "__main__":
    sys.exit(main())
