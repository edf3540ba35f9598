#!/usr/bin/env python3
"""A virtual PIV card (NIST SP 800-73-4) for tests: it "inserts" itself into vsmartcard's
virtual reader in pcscd (vpcd protocol on localhost:35963) and answers like a PIV token, with
switches for the awkward behaviour of real tokens.

    virtual_piv.py --dir DIR [--port 35963] [--pin 123456] [--tries 3] [--no-extended]
                   [--sign-delay-ms N] [--block-at-zero-as-6983] [--9a rsa2048|p256] [--9c rsa2048|p256]

DIR receives cert-9a.pem / cert-9c.pem (made on first start, kept after) and state.json (the PIN
tries left, so a test reads the card's own counter). The card leaves the reader (closes the
connection) on SIGTERM. Keys are generated per DIR; nothing here is a secret.

vpcd protocol: every message is a 2-byte big-endian length, then the payload. A 1-byte payload is
a control: 0 power off, 1 power on, 2 reset, 4 "send your ATR"; anything else is a C-APDU, answered
with an R-APDU.
"""
import argparse, datetime, json, os, signal, socket, struct, sys, time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, utils
from cryptography.x509.oid import NameOID

PIV_AID = bytes.fromhex("A000000308000010000100")
ATR = bytes.fromhex("3BF81300008131FE15597562696B657934D4")  # a YubiKey-like ATR (T=1)
SLOTS = {0x9A: bytes.fromhex("5FC105"), 0x9C: bytes.fromhex("5FC10A")}
ALGORITHMS = {"rsa2048": 0x07, "p256": 0x11}


def tlv(tag, value):
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82, n >> 8, n & 0xFF])
    return tag + length + value


def parse_tlvs(data):
    items, i = {}, 0
    while i < len(data):
        tag = data[i:i + 1]
        i += 1
        first = data[i]
        i += 1
        if first < 0x80:
            n = first
        else:
            k = first & 0x7F
            n = int.from_bytes(data[i:i + k], "big")
            i += k
        items[tag] = data[i:i + n]
        i += n
    return items


class Card:
    def __init__(self, args):
        self.args = args
        self.dir = args.dir
        os.makedirs(self.dir, exist_ok=True)
        self.keys = {0x9A: self.key("9a", getattr(args, "slot_9a")), 0x9C: self.key("9c", getattr(args, "slot_9c"))}
        self.state_path = os.path.join(self.dir, "state.json")
        if os.path.exists(self.state_path):
            self.tries = json.load(open(self.state_path))["tries"]
        else:
            self.tries = args.tries
            self.save()
        self.power_on()

    def key(self, slot, kind):
        path = os.path.join(self.dir, f"key-{slot}.pem")
        if os.path.exists(path):
            key = serialization.load_pem_private_key(open(path, "rb").read(), None)
        else:
            key = rsa.generate_private_key(65537, 2048) if kind == "rsa2048" else ec.generate_private_key(ec.SECP256R1())
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
        return key, ALGORITHMS[kind], open(os.path.join(self.dir, f"cert-{slot}.der"), "rb").read()

    def save(self):
        json.dump({"tries": self.tries}, open(self.state_path, "w"))

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
        return head + b"\x90\x00"

    def handle(self, apdu):
        if len(apdu) < 4:
            return b"\x67\x00"
        cla, ins, p1, p2, data, le, extended = self.parse(apdu)
        if extended and self.args.no_extended:
            return b"\x67\x00"
        if ins != 0xC0:
            self.pending = b""
        if cla & 0x10:  # command chaining: keep the piece, answer OK
            self.chain += data
            return b"\x90\x00"
        data, self.chain = self.chain + data, b""
        if ins not in (0x87, 0xC0):
            self.pin_always = False  # some tokens drop the 9C authorisation on any other command
        if ins == 0xA4:
            if p1 == 0x04 and data and PIV_AID.startswith(data[:9]):
                self.selected = True
                return self.answer(tlv(b"\x61", tlv(b"\x4F", PIV_AID[5:]) + tlv(b"\x79", tlv(b"\x4F", PIV_AID[:9]))), le, extended)
            return b"\x6A\x82"
        if ins == 0xC0:
            if not self.pending:
                return b"\x69\x85"
            return self.answer(self.pending, le, extended)
        if not self.selected:
            return b"\x6A\x82"  # the PIV application is not selected at power-on
        if ins == 0xCB and p1 == 0x3F and p2 == 0xFF:
            tag = parse_tlvs(data).get(b"\x5C", b"")
            for slot, obj in SLOTS.items():
                if tag == obj:
                    cert = self.keys[slot][2]
                    return self.answer(tlv(b"\x53", tlv(b"\x70", cert) + tlv(b"\x71", b"\x00") + b"\xFE\x00"), le, extended)
            if tag == bytes.fromhex("5FC102"):
                return self.answer(tlv(b"\x53", tlv(b"\x30", bytes(25)) + tlv(b"\x34", bytes(range(16))) + b"\xFE\x00"), le, extended)
            return b"\x6A\x82"
        if ins == 0x20 and p2 == 0x80:
            if not data:
                if self.verified:
                    return b"\x90\x00"
                return b"\x69\x83" if self.tries == 0 else bytes([0x63, 0xC0 | self.tries])
            if self.tries == 0:
                return b"\x69\x83"
            if len(data) != 8:
                return b"\x6A\x80"
            if data == self.args.pin.encode().ljust(8, b"\xFF"):
                self.tries = self.args.tries
                self.save()
                self.verified = True
                self.pin_always = True
                return b"\x90\x00"
            self.tries -= 1
            self.save()
            self.verified = False
            if self.tries == 0 and self.args.block_at_zero_as_6983:
                return b"\x69\x83"
            return bytes([0x63, 0xC0 | self.tries])
        if ins == 0x87:
            slot = p2
            if slot not in self.keys:
                return b"\x6A\x88"
            key, algorithm, _ = self.keys[slot]
            if p1 != algorithm:
                return b"\x6A\x86"
            if not self.verified or (slot == 0x9C and not self.pin_always):
                return b"\x69\x82"
            template = parse_tlvs(data).get(b"\x7C")
            if template is None:
                return b"\x6A\x80"
            challenge = parse_tlvs(template).get(b"\x81")
            if challenge is None:
                return b"\x6A\x80"
            if self.args.sign_delay_ms:
                time.sleep(self.args.sign_delay_ms / 1000)
            if algorithm == 0x07:
                if len(challenge) != 256:
                    return b"\x6A\x80"
                numbers = key.private_numbers()
                signature = pow(int.from_bytes(challenge, "big"), numbers.d, numbers.public_numbers.n).to_bytes(256, "big")
            else:
                if len(challenge) != 32:
                    return b"\x6A\x80"
                signature = key.sign(challenge, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
            if slot == 0x9C:
                self.pin_always = False
            return self.answer(tlv(b"\x7C", tlv(b"\x82", signature)), le, extended)
        return b"\x6D\x00"


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
    parser.add_argument("--9a", dest="slot_9a", choices=ALGORITHMS, default="rsa2048")
    parser.add_argument("--9c", dest="slot_9c", choices=ALGORITHMS, default="p256")
    args = parser.parse_args()
    card = Card(args)
    # A parent may have started us with signals blocked (Foundation's Process passes its thread's
    # mask on): unblock them, or SIGTERM would never take the card out.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    connection = socket.create_connection((args.host, args.port), timeout=None)
    signal.signal(signal.SIGTERM, lambda *_: (connection.close(), sys.exit(0)))

    def reply(data):
        connection.sendall(struct.pack(">H", len(data)) + data)

    while True:
        head = connection.recv(2, socket.MSG_WAITALL)
        if len(head) < 2:
            return
        (length,) = struct.unpack(">H", head)
        message = connection.recv(length, socket.MSG_WAITALL) if length else b""
        if length == 1:
            if message[0] in (0, 1, 2):
                card.power_on()
            elif message[0] == 4:
                reply(ATR)
            continue
        reply(card.handle(message))


if __name__ == "__main__":
    main()
