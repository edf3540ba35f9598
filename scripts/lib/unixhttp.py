"""HTTP/1.1 to gatewayd's local API over its Unix socket, for the scripts (standard library only)."""

import http.client
import socket


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over an AF_UNIX stream socket; keeps alive like any HTTPConnection."""

    def __init__(self, path, timeout=30.0):
        super().__init__("gateway", timeout=timeout)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.unix_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def request(sock_path, method, path, body=None, headers=None, timeout=30.0):
    """One request on a fresh connection. Returns (status, body bytes) only when the whole
    response was received; raises OSError or http.client.HTTPException on any transport failure
    (a caller that retries then treats the answer as lost)."""
    conn = UnixHTTPConnection(sock_path, timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()  # raises IncompleteRead if the body is cut short
        return resp.status, data
    finally:
        conn.close()
