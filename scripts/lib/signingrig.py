"""gatewayd with two virtual PIV cards, set up as the commune's box signs (the leader's token in
"Virtual PCD 00 00", the commune's in "Virtual PCD 00 01"), for scripts/crash-signing and
scripts/bench-signing: the test PKI and images, the configuration, the cards, and the local API's
signing sessions.
"""

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

import daemons
import unixhttp
from samples import seal_png, signature_png
from testpki import signing_pki

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
EMULATOR = os.path.join(REPO, "tools", "virtual-piv", "virtual_piv.py")
PIN = "123456"  # the emulator's default; a test card's
READY_TIMEOUT = 30.0   # daemon start until GET /v1/status answers 200
CARD_TIMEOUT = 20.0    # a card until it is in its reader (the emulator retries for 10 s)

CONFIG = """\
# Written by scripts/lib/signingrig.py (the lead's manual flow of issue 13).
[agency]
code = "000.00.20.H14"
name = "UBND xã Hòa Tiến"
tax_code = "0101234567"
[intake]
default_recipients = ["000.00.20.H13"]
[signing]
clock = "trust_local_clock"
numbering = "per_notation"
default_notation = "QĐ-UBND"
seal_image = "{work}/seal.png"
[[signing.leaders]]
name = "Nguyễn Văn An"
title = "CHỦ TỊCH"
identity = "CCCD:001085012345"
signature_image = "{work}/leader.png"
"""


class Abort(Exception):
    """The run cannot go on (a card or the daemon does not start): reported, exit 2."""


def prepare(work):
    """The PKI, the seal and signature images and gatewayd.toml in `work`; returns (pki, config
    path) with pki as testpki.signing_pki gives it ({NAME: (pem, key)})."""
    pki = signing_pki(os.path.join(work, "pki"))
    with open(os.path.join(work, "seal.png"), "wb") as f:
        f.write(seal_png())
    with open(os.path.join(work, "leader.png"), "wb") as f:
        f.write(signature_png())
    config = os.path.join(work, "gatewayd.toml")
    with open(config, "w", encoding="utf-8") as f:
        f.write(CONFIG.format(work=work))
    return pki, config


class Card:
    """One virtual PIV card in one reader; counts the `signing` lines it prints (one per
    private-key operation, printed when it starts, with --sign-delay-ms)."""

    def __init__(self, name, directory, port, key, cert, delay_ms, log_dir):
        self.name, self.directory, self.port = name, directory, port
        self.reader = f"Virtual PCD 00 0{port - 35963}"
        self.key, self.cert, self.delay_ms, self.log_dir = key, cert, delay_ms, log_dir
        self.proc = None
        self.signing = 0
        self.connected = False
        self.changed = threading.Condition()
        self.inserted = 0

    def insert(self, delay_ms=None):
        if delay_ms is not None:
            self.delay_ms = delay_ms
        self.inserted += 1
        self.signing, self.connected = 0, False
        log = open(os.path.join(self.log_dir, f"card-{self.name}-{self.inserted}.log"), "w")
        self.proc = subprocess.Popen(
            [sys.executable, EMULATOR, "--dir", self.directory, "--port", str(self.port),
             "--import-9c", f"{self.key}:{self.cert}", "--sign-delay-ms", str(self.delay_ms)],
            stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        if not self.wait(lambda: self.connected or self.proc.poll() is not None, CARD_TIMEOUT) or not self.connected:
            raise Abort(f"the {self.name} card did not reach \"{self.reader}\" (log {log.name}): " + open(log.name).read()[-500:])

    def _read(self, proc):
        for line in proc.stdout:
            with self.changed:
                if proc is not self.proc:
                    return
                word = line.strip()
                if word == "signing":
                    self.signing += 1
                elif word == "connected":
                    self.connected = True
                self.changed.notify_all()

    def wait(self, condition, timeout):
        with self.changed:
            return self.changed.wait_for(condition, timeout)

    def wait_signing(self, count, timeout):
        """True once the card has started its `count`-th private-key operation (needs a delay)."""
        return self.wait(lambda: self.signing >= count, timeout)

    def pull(self):
        """The token leaves the reader: the card's process is killed."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def tries(self):
        with open(os.path.join(self.directory, "state.json")) as f:
            return json.load(f).get("tries")


def cards(work, pki, log_dir, delay_ms=0):
    """The leader's card (:35963) and the commune's (:35964), not yet inserted."""
    return {"leader": Card("leader", os.path.join(work, "card-leader"), 35963, pki["leader"][1], pki["leader"][0], delay_ms, log_dir),
            "organization": Card("organization", os.path.join(work, "card-organization"), 35964,
                                 pki["organization"][1], pki["organization"][0], delay_ms, log_dir)}


class Daemon:
    """gatewayd serve on `data_dir` with `config`, one log per start."""

    def __init__(self, binary, data_dir, config, log_dir):
        self.binary, self.data_dir, self.config, self.log_dir = binary, data_dir, config, log_dir
        self.sock = daemons.socket_path(data_dir)
        self.process = None

    def start(self, label):
        self.process = daemons.Process(daemons.gatewayd_serve(self.binary, self.data_dir, self.config),
                                       os.path.join(self.log_dir, f"{label}.log")).start()
        try:
            daemons.wait_gatewayd_ready(self.process, self.sock, READY_TIMEOUT)
        except daemons.StartFailure as failure:
            raise Abort(f"gatewayd did not start ({failure}); log {self.process.log_path}\n" + self.process.log_tail())

    def alive(self):
        return self.process is not None and self.process.alive()

    def kill9(self):
        return self.process.kill9()

    def terminate(self):
        return self.process.terminate(10)[0]

    def call(self, method, path, body=None, headers=None, timeout=30.0):
        """(status, the answer's JSON) of one request."""
        status, data = unixhttp.request(self.sock, method, path, body=body, headers=headers, timeout=timeout)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, {"raw": data[:300].decode("utf-8", "replace")}

    def submit(self, content, meta, key):
        """Submits one document; returns its id."""
        headers = {"X-Gateway-Metadata": base64.b64encode(json.dumps(meta, ensure_ascii=False).encode()).decode(),
                   "Idempotency-Key": key, "Content-Type": "application/pdf"}
        status, answer = self.call("POST", "/v1/documents", body=content, headers=headers, timeout=120)
        if status != 201:
            raise Abort(f"POST /v1/documents answered {status}: {answer}")
        return answer["id"]

    def state(self, document_id):
        status, answer = self.call("GET", f"/v1/documents/{document_id}")
        return answer.get("state") if status == 200 else f"HTTP {status}"

    def wait_state(self, ids, state, timeout=60.0):
        """Until every document of `ids` is in `state` (intake moves them on by itself)."""
        if not daemons.wait_for(lambda: all(self.state(i) == state for i in ids), timeout):
            raise Abort(f"documents not {state} after {timeout:.0f} s: {[(i, self.state(i)) for i in ids][:5]}")

    def waiting(self, state):
        status, answer = self.call("GET", f"/v1/documents?state={state}&limit=1000")
        return [d["id"] for d in answer["documents"]] if status == 200 else []

    def open_session(self, card, role, opened_by):
        """Opens a session over every document waiting for `role`; retries while the daemon has
        not yet seen a card just inserted (`no_token`), or the card just inserted does not yet
        answer its first transaction (`token_removed` at the opening, which reads the certificate
        only: no PIN try is spent). Returns the session's first status."""
        body = json.dumps({"role": role, "reader": card.reader, "pin": PIN, "opened_by": opened_by})
        deadline = time.monotonic() + CARD_TIMEOUT
        while True:
            status, answer = self.call("POST", "/v1/signing-sessions", body=body, headers={"Content-Type": "application/json"})
            if status == 201:
                return answer
            code = answer.get("error", {}).get("code") if isinstance(answer, dict) else None
            if status == 422 and code in ("no_token", "token_removed") and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            raise Abort(f"{role} session not opened: {status} {answer}")

    def follow(self, session_id, timeout=600.0):
        """The session's status once it has ended (long polls)."""
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            status, answer = self.call("GET", f"/v1/signing-sessions/{session_id}?after={seen}&wait=20", timeout=40)
            if status != 200:
                raise Abort(f"GET /v1/signing-sessions/{session_id}: {status} {answer}")
            if answer["phase"] != "signing":
                return answer
            seen = len(answer["results"])
        raise Abort(f"session {session_id} still signing after {timeout:.0f} s")


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def object_path(data_dir, document_id, version):
    """A document's content file of one version (StoreLayout.objectName)."""
    name = document_id if version == 0 else f"{document_id}.v{version}"
    return os.path.join(data_dir, "store", "objects", name)


def pdfsig_problem(path, identities):
    """None when pdfsig finds exactly len(identities) signatures, all valid, their signers'
    subjects carrying these identities in this order (CCCD:… the leader, MST:… the commune)."""
    result = subprocess.run(["pdfsig", path], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        return f"pdfsig exit {result.returncode}: {(result.stderr or result.stdout).strip()[:200]}"
    count = result.stdout.count("\nSignature #")
    valid = result.stdout.count("Signature Validation: Signature is Valid")
    if count != len(identities) or valid != len(identities):
        return f"{count} signature(s), {valid} valid, expected {len(identities)}"
    names = [line.split(":", 1)[1] for line in result.stdout.splitlines() if "Signer full Distinguished Name" in line]
    if len(names) != len(identities) or any(identity not in name for identity, name in zip(identities, names)):
        return f"signers {names}, expected {identities} in that order"
    return None


LEADER_IDENTITY, COMMUNE_IDENTITY = "CCCD:001085012345", "MST:0101234567"
