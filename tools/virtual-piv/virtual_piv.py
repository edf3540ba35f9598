#!/usr/bin/env python3
"""A virtual PIV card (NIST SP 800-73-4) for tests: it "inserts" itself into vsmartcard's virtual
reader in pcscd (vpcd protocol on localhost:35963) and answers like a PIV token, with switches for
the awkward behaviour of real tokens. OpenSC's PIV driver accepts it (scripts/check-opensc).

    virtual_piv.py --dir DIR [--port 35963] [--pin 123456] [--tries 3] [--no-extended]
                   [--sign-delay-ms N] [--block-at-zero-as-6983]
                   [--9a rsa2048|p256|p384] [--9c rsa2048|p256|p384] [--9d KIND] [--9e KIND]
                   [--import-9a KEY.pem:CERT.pem] [--import-9c …] [--import-9d …] [--import-9e …]

9A holds RSA-2048 and 9C P-256 unless told otherwise; 9D and 9E are empty unless given a kind.
--import-9x puts a given key and certificate in the slot instead (a test CA's certificate, with
the subject a test needs): they replace what the slot held in DIR, as an import on a token does.
DIR receives key-9x.pem and cert-9x.pem / cert-9x.der for each key (made on first start, kept
after), state.json (the PIN tries left, so a test reads the card's own counter, and the PIN as
changed by CHANGE REFERENCE DATA) and `connected`,
an empty file written the moment the card reaches the reader. On standard output it says
`connected` then, and `signing` when a private-key operation starts, so a test can wait for
those moments instead of sleeping. The card leaves
the reader (closes the connection) on SIGTERM. Keys are generated per DIR; nothing here is a
secret. docs/virtual-piv.md describes what the card implements.

The vpcd protocol is in vpcd.py, the TLV and FASC-N codecs in piv_codecs.py, beside this file.
"""
import argparse, datetime, hashlib, json, os, signal, sys, time, uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, utils
from cryptography.x509.oid import NameOID

# Beside this file (python puts a script's folder on sys.path).
import vpcd
from piv_codecs import fasc_n, parse_tlvs, tlv

PIV_AID = bytes.fromhex("A000000308000010000100")  # NIST RID, PIX 00001000, version 0100
NIST_RID = PIV_AID[:5]
ATR = bytes.fromhex("3BF81300008131FE15597562696B657934D4")  # a YubiKey-like ATR (T=1)

# The key kinds of --9a/--9c/--9d/--9e and their PIV algorithm identifiers (SP 800-78-4, Table 6-2).
KINDS = {"rsa2048": 0x07, "p256": 0x11, "p384": 0x14}
CURVES = {"p256": ec.SECP256R1, "p384": ec.SECP384R1}

# Key references and the data objects holding their certificates (SP 800-73-4 Part 1, Table 3).
CERTIFICATE_OBJECTS = {0x9A: bytes.fromhex("5FC105"), 0x9C: bytes.fromhex("5FC10A"),
                       0x9D: bytes.fromhex("5FC10B"), 0x9E: bytes.fromhex("5FC101")}
CHUID_OBJECT = bytes.fromhex("5FC102")
CCC_OBJECT = bytes.fromhex("5FC107")
DISCOVERY_OBJECT = bytes.fromhex("7E")

OK = b"\x90\x00"
WRONG_LENGTH = b"\x67\x00"
SECURITY_STATUS_NOT_SATISFIED = b"\x69\x82"
PIN_BLOCKED = b"\x69\x83"
NO_DATA_TO_GET = b"\x69\x85"  # GET RESPONSE with nothing pending
WRONG_DATA = b"\x6A\x80"
NOT_FOUND = b"\x6A\x82"
WRONG_P1_P2 = b"\x6A\x86"
REFERENCE_NOT_FOUND = b"\x6A\x88"
INS_NOT_SUPPORTED = b"\x6D\x00"
CLA_NOT_SUPPORTED = b"\x6E\x00"


def kind_of(key):
    if isinstance(key, rsa.RSAPrivateKey):
        return f"rsa{key.key_size}"
    return {"secp256r1": "p256", "secp384r1": "p384"}.get(key.curve.name, key.curve.name)


class Card:
    def __init__(self, args):
        self.args = args
        self.dir = args.dir
        os.makedirs(self.dir, exist_ok=True)
        kinds = {0x9A: args.slot_9a, 0x9C: args.slot_9c, 0x9D: args.slot_9d, 0x9E: args.slot_9e}
        imports = {0x9A: args.import_9a, 0x9C: args.import_9c, 0x9D: args.import_9d, 0x9E: args.import_9e}
        for slot, given in imports.items():
            if given:
                kinds[slot] = self.import_key(f"{slot:x}", given)
        self.keys = {slot: self.key(f"{slot:x}", kind) for slot, kind in kinds.items() if kind}
        self.objects = self.data_objects()
        self.state_path = os.path.join(self.dir, "state.json")
        if os.path.exists(self.state_path):
            state = json.load(open(self.state_path))
            # A card plugged back in keeps the PIN it was changed to (CHANGE REFERENCE DATA).
            self.tries, self.pin = state["tries"], state.get("pin", args.pin)
        else:
            self.tries, self.pin = args.tries, args.pin
            self.save()
        self.power_on()

    def import_key(self, slot, given):
        """Writes KEY.pem's key and CERT.pem's first certificate as the slot's files; returns the kind."""
        key_path, separator, cert_path = given.rpartition(":")
        if not separator or not key_path:
            sys.exit(f"--import-{slot}: KEY.pem:CERT.pem, not {given}")
        key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
        cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
        if kind_of(key) not in KINDS:
            sys.exit(f"--import-{slot}: a {kind_of(key)} key; the card holds {', '.join(KINDS)}")
        if cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != \
                key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
            sys.exit(f"--import-{slot}: {cert_path} is not the certificate of {key_path}'s key")
        open(os.path.join(self.dir, f"key-{slot}.pem"), "wb").write(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        open(os.path.join(self.dir, f"cert-{slot}.pem"), "wb").write(cert.public_bytes(serialization.Encoding.PEM))
        open(os.path.join(self.dir, f"cert-{slot}.der"), "wb").write(cert.public_bytes(serialization.Encoding.DER))
        return kind_of(key)

    def key(self, slot, kind):
        """(private key, algorithm identifier, certificate DER) of a slot, made on first start."""
        path = os.path.join(self.dir, f"key-{slot}.pem")
        if os.path.exists(path):
            key = serialization.load_pem_private_key(open(path, "rb").read(), None)
            if kind_of(key) != kind:
                sys.exit(f"{path} holds a {kind_of(key)} key, not {kind}: use a fresh --dir")
        else:
            key = rsa.generate_private_key(65537, 2048) if kind == "rsa2048" else ec.generate_private_key(CURVES[kind]())
            open(path, "wb").write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Nguyễn Văn An"),
                              x509.NameAttribute(NameOID.ORGANIZATION_NAME, "UBND xã Hòa Tiến"),
                              x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")])
            now = datetime.datetime.now(datetime.timezone.utc)
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                    .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                    .not_valid_after(now + datetime.timedelta(days=365)).sign(key, hashes.SHA256()))
            open(os.path.join(self.dir, f"cert-{slot}.pem"), "wb").write(cert.public_bytes(serialization.Encoding.PEM))
            open(os.path.join(self.dir, f"cert-{slot}.der"), "wb").write(cert.public_bytes(serialization.Encoding.DER))
        return key, KINDS[kind], open(os.path.join(self.dir, f"cert-{slot}.der"), "rb").read()

    def data_objects(self):
        """The GET DATA answers, by object tag; an object missing here answers 6A82."""
        authentication_cert = x509.load_der_x509_certificate(self.keys[0x9A][2])
        # The card's GUID: stable per DIR (it follows the 9A certificate), distinct between cards,
        # so OpenSC, which takes the token serial number from it, tells the cards apart.
        guid = uuid.UUID(bytes=hashlib.sha256(authentication_cert.tbs_certificate_bytes).digest()[:16], version=4).bytes
        # A non-federal issuer's FASC-N (the PIV-I convention: agency, system and credential number
        # all 9s), which tells readers to identify the card by its GUID instead.
        fascn = fasc_n("9999", "9999", "999999", "0", "1", "0000000000", "3", "0000", "1")
        expiry = authentication_cert.not_valid_after_utc.strftime("%Y%m%d").encode()
        # CHUID (Part 1, Table 9). The issuer signature (3E) is left empty as on tokens whose CHUID
        # was set by their owner; a real issuer's CMS signature would need an issuer PKI.
        chuid = tlv(b"\x30", fascn) + tlv(b"\x34", guid) + tlv(b"\x35", expiry) + tlv(b"\x3E", b"") + tlv(b"\xFE", b"")
        # CCC (Part 1, Table 8): card identifier = GSC-RID A000000116, manufacturer FF, card type 02
        # (Java card), 14 bytes of card id; versions 21, data model 10; the other mandatory tags empty.
        card_identifier = bytes.fromhex("A000000116FF02") + guid[:14]
        ccc = (tlv(b"\xF0", card_identifier) + tlv(b"\xF1", b"\x21") + tlv(b"\xF2", b"\x21") + tlv(b"\xF3", b"")
               + tlv(b"\xF4", b"\x00") + tlv(b"\xF5", b"\x10") + b"".join(tlv(bytes([t]), b"") for t in b"\xF6\xF7\xFA\xFB\xFC\xFD\xFE"))
        objects = {CHUID_OBJECT: tlv(b"\x53", chuid), CCC_OBJECT: tlv(b"\x53", ccc),
                   # Discovery (Part 1, Table 18) is not wrapped in 53: the AID, and the PIN usage
                   # policy 40 00 (the PIV application PIN only, no global PIN).
                   DISCOVERY_OBJECT: tlv(b"\x7E", tlv(b"\x4F", PIV_AID) + tlv(b"\x5F\x2F", b"\x40\x00"))}
        for slot, (_, _, cert) in self.keys.items():
            # 70 certificate, 71 CertInfo 00 (not compressed), FE error detection code (empty).
            objects[CERTIFICATE_OBJECTS[slot]] = tlv(b"\x53", tlv(b"\x70", cert) + tlv(b"\x71", b"\x00") + tlv(b"\xFE", b""))
        return objects

    def save(self):
        # Written whole then renamed: a test reading the counter never sees half a file.
        with open(self.state_path + ".new", "w") as file:
            json.dump({"tries": self.tries, "pin": self.pin}, file)
        os.replace(self.state_path + ".new", self.state_path)

    def power_on(self):
        self.selected = False
        self.verified = False
        self.pin_always = False  # 9C: one signature per VERIFY
        self.chain = b""
        self.pending = b""

    # -- APDU parsing (short and extended) --
    def parse(self, apdu):
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[4:]
        data, le, extended = b"", None, False
        if len(body) == 1:
            le = body[0] or 256
        elif len(body) > 1:
            if body[0] == 0 and len(body) >= 3:
                extended = True
                if len(body) == 3:
                    le = int.from_bytes(body[1:3], "big") or 65536
                else:
                    lc = int.from_bytes(body[1:3], "big")
                    data = body[3:3 + lc]
                    if len(body) == 5 + lc:
                        le = int.from_bytes(body[3 + lc:], "big") or 65536
            else:
                lc = body[0]
                data = body[1:1 + lc]
                if len(body) == 2 + lc:
                    le = body[1 + lc] or 256
        return cla, ins, p1, p2, data, le, extended

    def answer(self, data, le, extended):
        """Sends data within Le; the rest waits for GET RESPONSE (61xx), as tokens do."""
        limit = (le or 256) if not extended else (le or 65536)
        limit = min(limit, 256) if not extended else limit
        head, self.pending = data[:limit], data[limit:]
        if self.pending:
            return head + bytes([0x61, min(len(self.pending), 256) & 0xFF])
        return head + OK

    def handle(self, apdu):
        if len(apdu) < 4:
            return WRONG_LENGTH
        cla, ins, p1, p2, data, le, extended = self.parse(apdu)
        if extended and self.args.no_extended:
            return WRONG_LENGTH
        if cla not in (0x00, 0x10):  # interindustry class only; 10 = "more of this command follows"
            return CLA_NOT_SUPPORTED
        if ins != 0xC0:
            self.pending = b""
        if cla & 0x10:  # command chaining: keep the piece, answer OK
            self.chain += data
            return OK
        data, self.chain = self.chain + data, b""
        if ins not in (0x87, 0xC0):
            self.pin_always = False  # some tokens drop the 9C authorisation on any other command
        if ins == 0xA4:
            return self.select(p1, data, le, extended)
        if ins == 0xC0:
            if not self.pending:
                return NO_DATA_TO_GET
            return self.answer(self.pending, le, extended)
        if not self.selected:
            return NOT_FOUND  # the PIV application is not selected at power-on
        try:
            if ins == 0xCB:
                return self.get_data(p1, p2, data, le, extended)
            if ins == 0x20:
                return self.verify(p1, p2, data)
            if ins == 0x24:
                return self.change_reference_data(p1, p2, data)
            if ins == 0x87:
                return self.general_authenticate(p1, p2, data, le, extended)
        except ValueError:  # malformed TLVs, or a point not on the curve
            return WRONG_DATA
        return INS_NOT_SUPPORTED

    def select(self, p1, data, le, extended):
        # The full AID or a right-truncated one (at least the RID) selects the PIV application.
        if p1 == 0x04 and len(data) >= len(NIST_RID) and PIV_AID.startswith(data):
            self.selected = True
            # Application property template (Part 2, Table 3): 4F the PIX with its version, 79 the
            # coexistent tag allocation authority, which holds NIST's RID.
            template = tlv(b"\x4F", PIV_AID[5:]) + tlv(b"\x79", tlv(b"\x4F", NIST_RID))
            return self.answer(tlv(b"\x61", template), le, extended)
        return NOT_FOUND  # another application: the PIV application stays selected

    def get_data(self, p1, p2, data, le, extended):
        if (p1, p2) != (0x3F, 0xFF):
            return WRONG_P1_P2
        tag = parse_tlvs(data).get(b"\x5C")
        if tag is None:
            return WRONG_DATA
        if tag not in self.objects:
            return NOT_FOUND
        return self.answer(self.objects[tag], le, extended)

    def verify(self, p1, p2, data):
        if p2 != 0x80:
            return REFERENCE_NOT_FOUND  # only the PIV application PIN: no global PIN on this card
        if p1 == 0xFF and not data:  # Part 2 §3.2.1: resets the PIN's security status (a log-out)
            self.verified = False
            return OK
        if p1 != 0x00:
            return WRONG_P1_P2
        if not data:
            if self.verified:
                return OK
            return PIN_BLOCKED if self.tries == 0 else bytes([0x63, 0xC0 | self.tries])
        if self.tries == 0:
            return PIN_BLOCKED
        if len(data) != 8:
            return WRONG_DATA
        if not self.check_pin(data):
            return self.wrong_pin()
        self.verified = True
        self.pin_always = True
        return OK

    def check_pin(self, padded):
        """Whether `padded` (8 bytes) is the PIN; a right one restores the tries."""
        if padded != self.pin.encode().ljust(8, b"\xFF"):
            return False
        self.tries = self.args.tries
        self.save()
        return True

    def wrong_pin(self):
        """One try spent: 63Cx with the tries left (6983 at zero with --block-at-zero-as-6983)."""
        self.tries -= 1
        self.save()
        self.verified = False
        if self.tries == 0 and self.args.block_at_zero_as_6983:
            return PIN_BLOCKED
        return bytes([0x63, 0xC0 | self.tries])

    def change_reference_data(self, p1, p2, data):
        """CHANGE REFERENCE DATA of the application PIN (Part 2 §3.2.2): the current PIN then the
        new one, each padded to 8 bytes. A wrong current PIN costs a try as VERIFY's does; the new
        one must be 6 to 8 digits (Part 2 §3.2.1's PIN format), else 6A80 and nothing changes."""
        if p2 != 0x80:
            return REFERENCE_NOT_FOUND
        if p1 != 0x00:
            return WRONG_P1_P2
        if self.tries == 0:
            return PIN_BLOCKED
        if len(data) != 16:
            return WRONG_DATA
        new = data[8:].rstrip(b"\xFF")
        if not 6 <= len(new) <= 8 or not new.isdigit() or b"\xFF" in new:
            return WRONG_DATA
        if not self.check_pin(data[:8]):
            return self.wrong_pin()
        self.pin = new.decode()
        self.save()
        self.verified = True  # the current PIN was verified by this command
        return OK

    def general_authenticate(self, p1, slot, data, le, extended):
        """Signature (81 challenge) with any key, or ECDH (85 exponentiation, the other party's
        point) with an ECC key; the result comes back in 7C { 82 … } (Part 2 §3.2.4)."""
        if slot not in self.keys:
            return REFERENCE_NOT_FOUND
        key, algorithm, _ = self.keys[slot]
        if p1 != algorithm:
            return WRONG_P1_P2
        # 9E (card authentication) works without the PIN; 9C needs a VERIFY right before each use.
        if slot != 0x9E and (not self.verified or (slot == 0x9C and not self.pin_always)):
            return SECURITY_STATUS_NOT_SATISFIED
        template = parse_tlvs(data).get(b"\x7C")
        if template is None:
            return WRONG_DATA
        items = parse_tlvs(template)
        challenge, point = items.get(b"\x81"), items.get(b"\x85")
        if challenge is not None and algorithm == 0x07:
            numbers = key.private_numbers()
            value = int.from_bytes(challenge, "big")
            if len(challenge) != 256 or value >= numbers.public_numbers.n:
                return WRONG_DATA
            # Raw RSA (the host pads), by the Chinese remainder theorem: some 4 times faster than
            # pow(value, d, n), which would otherwise weigh on every benchmark of the host side.
            p, q = numbers.p, numbers.q
            m1, m2 = pow(value, numbers.dmp1, p), pow(value, numbers.dmq1, q)
            result = (m2 + (numbers.iqmp * (m1 - m2) % p) * q).to_bytes(256, "big")
        elif challenge is not None:
            if len(challenge) != key.curve.key_size // 8:
                return WRONG_DATA
            # The challenge is the digest, already cut to the field size; the hash named here only
            # tells the library its length.
            digest = hashes.SHA256() if len(challenge) == 32 else hashes.SHA384()
            result = key.sign(challenge, ec.ECDSA(utils.Prehashed(digest)))
        elif point is not None and algorithm != 0x07:
            peer = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, point)
            result = key.exchange(ec.ECDH(), peer)
        else:
            return WRONG_DATA
        if self.args.sign_delay_ms:  # a slow token's private-key operation
            print("signing", flush=True)
            time.sleep(self.args.sign_delay_ms / 1000)
        if slot == 0x9C:
            self.pin_always = False
        return self.answer(tlv(b"\x7C", tlv(b"\x82", result)), le, extended)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=35963)
    parser.add_argument("--pin", default="123456")
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--no-extended", action="store_true", help="refuse extended APDUs (6700), as many tokens do")
    parser.add_argument("--sign-delay-ms", type=int, default=0)
    parser.add_argument("--block-at-zero-as-6983", action="store_true", help="answer 6983 on the last wrong PIN instead of 63C0")
    parser.add_argument("--9a", dest="slot_9a", choices=KINDS, default="rsa2048", help="PIV authentication key")
    parser.add_argument("--9c", dest="slot_9c", choices=KINDS, default="p256", help="digital signature key (PIN always)")
    parser.add_argument("--9d", dest="slot_9d", choices=KINDS, help="key management key (default: empty slot)")
    parser.add_argument("--9e", dest="slot_9e", choices=KINDS, help="card authentication key, no PIN (default: empty slot)")
    for slot in ("9a", "9c", "9d", "9e"):
        parser.add_argument(f"--import-{slot}", metavar="KEY.pem:CERT.pem",
                            help=f"put this key and certificate in slot {slot.upper()} (replaces --{slot})")
    args = parser.parse_args()
    card = Card(args)
    # A parent may have started us with signals blocked (Foundation's Process passes its thread's
    # mask on): unblock them, or SIGTERM would never take the card out.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    vpcd.serve(card, args.host, args.port, args.dir, ATR)

if __name__ == "__main__":
    main()
