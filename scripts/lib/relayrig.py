"""The relay rig the scripts share (bench-relay, flood-test): hubd and gatewayd on loopback with
the test PKI of testpki.relay_pki, each daemon in its own directory with its log, and the
documents sealed beforehand by the commune's organization certificate (the box checks a "signed"
claim at intake against [trust] and [agency] tax_code, issue 14).

Every daemon started is in STARTED, so that a script stops them all whatever failed.
"""

import base64
import glob
import json
import os
import subprocess
import time

import daemons
import unixhttp
from rss import proc_status
from testpki import BOX_CODE

HUB_CODE = "000.00.00.H41"
# Every hubd and gatewayd started, so that a failed step does not leave one running.
STARTED = []


class Started:
    """A daemon of the run (hubd or gatewayd): its peak memory, and SIGTERM with a time limit."""

    process = None
    stop_timeout = 15

    def peak_rss(self):
        return proc_status(self.process.pid, "VmHWM") if self.process else None

    def stop(self):
        if self.process and self.process.alive():
            self.process.terminate(timeout=self.stop_timeout)


class Hub(Started):
    """A hubd with its own fresh data directory."""

    def __init__(self, binary, work, name, pki, port):
        self.binary, self.port = binary, port
        self.base = os.path.join(work, name)
        os.makedirs(self.base)
        self.handoff = os.path.join(self.base, "handoff")
        self.config = os.path.join(self.base, "hubd.toml")
        with open(self.config, "w") as f:
            f.write(f"""[server]
listen = "127.0.0.1:{port}"
certificate = "{pki}/hub.pem"
key = "{pki}/hub.key"
client_ca = "{pki}/ca.pem"

[hub]
code = "{HUB_CODE}"
name = "UBND tỉnh Quảng Trị"
data_directory = "{self.base}/data"
handoff_directory = "{self.handoff}"

[[agency]]
code = "{HUB_CODE}"
name = "UBND tỉnh Quảng Trị"
served = false

[[agency]]
code = "{BOX_CODE}"
name = "UBND xã Hòa Tiến"
served = true
""")
        self.process = None

    def start(self):
        """Starts hubd; returns the monotonic time its port accepted a connection."""
        self.process = daemons.Process([self.binary, "serve", "--config", self.config],
                                       os.path.join(self.base, "hubd.log")).start()
        STARTED.append(self)
        try:
            return daemons.wait_port(self.process, self.port, timeout=60)
        except daemons.StartFailure:
            raise RuntimeError(f"hubd did not start (log: {self.base}/hubd.log)")

    def handoff_count(self):
        try:
            return sum(1 for e in os.scandir(self.handoff) if e.name.endswith(".edxml"))
        except FileNotFoundError:
            return 0

    def wait_handoff(self, count, timeout):
        """(time of the first hand-off file, time when there are `count`), monotonic."""
        first = None
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            present = self.handoff_count()
            if present and first is None:
                first = now
            if present >= count:
                return first, now
            if now > deadline or self.process.poll() is not None:
                raise RuntimeError(f"{present} of {count} hand-off files after {now - deadline + timeout:.0f} s")
            time.sleep(0.02)



class Box(Started):
    """gatewayd with [upstream] pointing at `url`."""

    stop_timeout = 30

    def __init__(self, binary, work, name, pki, url, parallel_uploads=None):
        self.binary = binary
        self.base = os.path.join(work, name)
        os.makedirs(self.base)
        self.data = os.path.join(self.base, "data")
        self.socket = os.path.join(self.data, "run", "gatewayd.sock")
        self.config = os.path.join(self.base, "gatewayd.toml")
        with open(self.config, "w") as f:
            f.write(f"""data_dir = "{self.data}"

[agency]
code = "{BOX_CODE}"
name = "UBND xã Hòa Tiến"
tax_code = "0101234567"

[trust]
anchors = ["{pki}/signing/ca.pem"]

[intake]
# The large-package run needs a document above the 100 MB default.
max_document_size = "2 GB"

[upstream]
url = "{url}"
ca_file = "{pki}/ca.pem"
certificate = "{pki}/box.pem"
key = "{pki}/box.key"
retry_base = "100ms"
retry_cap = "1s"
""" + ("" if parallel_uploads is None else f"parallel_uploads = {parallel_uploads}\n"))
        self.process = None

    def start(self):
        self.process = daemons.Process(daemons.gatewayd_serve(self.binary, config=self.config),
                                       os.path.join(self.base, "gatewayd.log")).start()
        STARTED.append(self)
        try:
            daemons.wait_gatewayd_ready(self.process, self.socket, timeout=60, interval=0.05)
        except daemons.StartFailure:
            raise RuntimeError(f"gatewayd did not start (log: {self.base}/gatewayd.log)")

    def request(self, method, path, body=None, headers=None):
        return unixhttp.request(self.socket, method, path, body=body, headers=headers, timeout=600)

    def status(self):
        code, body = self.request("GET", "/v1/status")
        if code != 200:
            raise ValueError(f"status {code}")
        return json.loads(body)

    def states(self):
        return self.status().get("documents_by_state", {})

    def submit(self, path, number):
        with open(path, "rb") as body:
            return self.submit_bytes(body, number, os.path.getsize(path))

    def submit_bytes(self, body, number, size=None):
        meta = {"file_name": f"Quyết định {number}.pdf", "recipients": [HUB_CODE], "signed": True,
                "subject": f"Về việc đo thông lượng chuyển tiếp, văn bản số {number}",
                "number": str(number), "notation": "QĐ-UBND", "priority": 0}
        headers = {"X-Gateway-Metadata": base64.b64encode(json.dumps(meta, ensure_ascii=False).encode()).decode(),
                   "Idempotency-Key": f"bench-relay-{number}", "Content-Type": "application/octet-stream",
                   "Content-Length": str(len(body) if size is None else size)}
        code, answer = self.request("POST", "/v1/documents", body=body, headers=headers)
        if code != 201:
            raise RuntimeError(f"submission {number}: HTTP {code} {answer[:300]!r}")
        return json.loads(answer)["id"]

    def packages(self):
        return sorted(glob.glob(os.path.join(self.data, "store", "packages", "*.edxml")))

    def wait_queued(self, count, timeout):
        """Until `count` packages are built and no document is still before the relay."""
        deadline = time.monotonic() + timeout
        while True:
            states = self.states()
            waiting = states.get("queued", 0) + states.get("sending", 0)
            if waiting == count and len(self.packages()) == count:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"not all queued after {timeout} s: {states}")
            time.sleep(0.5)

    def wait_delivered(self, count, timeout, interval=0.05):
        """(time of the first delivery, time when `count` are delivered), monotonic."""
        first = None
        deadline = time.monotonic() + timeout
        while True:
            states = self.states()
            now = time.monotonic()
            delivered = states.get("delivered", 0)
            if delivered and first is None:
                first = now
            if delivered >= count:
                return first, now
            bad = {k: v for k, v in states.items() if k in ("rejected", "failed") and v}
            if bad:
                raise RuntimeError(f"documents refused: {states} (log: {self.base}/gatewayd.log)")
            if now > deadline:
                raise RuntimeError(f"not all delivered after {timeout} s: {states}")
            time.sleep(interval)



def seal(gatewayd, pki, source, target):
    """`source` PDF sealed (an invisible PAdES signature) by the commune's organization certificate
    of the signing test PKI in `pki`/signing, into `target`; `source` removed."""
    signing = os.path.join(pki, "signing")
    subprocess.run([gatewayd, "sign", source, "--signer", "key:" + os.path.join(signing, "organization.key"),
                    "--cert", os.path.join(signing, "organization.pem"), "--trust", os.path.join(signing, "ca.pem"), "--out", target],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # warnings kept out of the figures
    os.remove(source)
    return target
