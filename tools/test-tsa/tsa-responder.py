#!/usr/bin/env python3
"""A local RFC 3161 timestamp authority for the tests: `openssl ts -reply` behind an HTTP
responder on loopback. The timestamping itself is openssl's (an implementation independent of
ours); this script only carries the request and the reply.

    tsa-responder.py --config tsa.cnf [--port 0] [--mode ok|garbage|reject|other-nonce]

Prints "PORT <n>" on its first line of stdout once it listens. Modes other than ok make the
answers the signer must refuse: not DER, a rejection status, a reply to another request (so the
nonce and imprint do not match).
"""
import argparse
import http.server
import os
import subprocess
import sys
import tempfile


def reply(config, query):
    with tempfile.TemporaryDirectory() as work:
        query_path, reply_path = os.path.join(work, "q.tsq"), os.path.join(work, "r.tsr")
        with open(query_path, "wb") as f:
            f.write(query)
        subprocess.run(["openssl", "ts", "-reply", "-config", config, "-queryfile", query_path, "-out", reply_path],
                       check=True, capture_output=True)
        with open(reply_path, "rb") as f:
            return f.read()


def other_query():
    # A fresh request over other bytes, with its own nonce.
    with tempfile.TemporaryDirectory() as work:
        data = os.path.join(work, "other")
        with open(data, "wb") as f:
            f.write(b"not the signature")
        return subprocess.run(["openssl", "ts", "-query", "-data", data, "-sha256", "-cert"],
                              check=True, capture_output=True).stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", default="ok", choices=["ok", "garbage", "reject", "other-nonce"])
    options = parser.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            query = self.rfile.read(length)
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(415)
                return
            if options.mode == "garbage":
                body = b"\x30\x03\x02\x01"  # truncated DER
            elif options.mode == "reject":
                # TimeStampResp { PKIStatusInfo { status rejection(2), statusString { "test refusal" } } }
                text = b"test refusal"
                string = b"\x0c" + bytes([len(text)]) + text
                free_text = b"\x30" + bytes([len(string)]) + string
                status = b"\x02\x01\x02" + free_text
                info = b"\x30" + bytes([len(status)]) + status
                body = b"\x30" + bytes([len(info)]) + info
            elif options.mode == "other-nonce":
                body = reply(options.config, other_query())
            else:
                body = reply(options.config, query)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", options.port), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
