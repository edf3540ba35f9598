#!/usr/bin/env python3
"""Checks fault_proxy.py against a real TCP sink: bytes forwarded exactly, a cut after N bytes
(client sees a reset, the sink exactly N bytes), the cut limited to K connections, the bandwidth
cap, the black hole, and the counters. Run by scripts/test; prints one line per check."""
import os, socket, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))


class Sink:
    """Accepts connections, counts what each one sends, answers 'got N' when the client half-closes."""
    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received = []
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            connection, _ = self.server.accept()
            threading.Thread(target=self.serve, args=(connection,), daemon=True).start()

    def serve(self, connection):
        total = 0
        try:
            while data := connection.recv(65536):
                total += len(data)
            connection.sendall(f"got {total}".encode())
        except OSError:
            pass
        self.received.append(total)
        connection.close()


def send(port, size):
    """Sends `size` bytes and half-closes; the sink's answer, or 'reset' when the link was cut."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            payload = os.urandom(size)
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            return s.recv(100).decode() or "closed"
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    except socket.timeout:
        return "timeout"


def command(port, line):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(line.encode() + b"\n")
        return s.makefile().readline().strip()


def main():
    sink = Sink()
    work = tempfile.mkdtemp()
    port_file, control_file = os.path.join(work, "port"), os.path.join(work, "control")
    proxy = subprocess.Popen([sys.executable, os.path.join(HERE, "fault_proxy.py"), "--target", f"127.0.0.1:{sink.port}",
                              "--port-file", port_file, "--control-port-file", control_file], stdout=subprocess.DEVNULL)
    failures = 0

    def check(name, condition, detail=""):
        nonlocal failures
        failures += not condition
        print(f"fault-proxy selftest: {'ok  ' if condition else 'FAIL'} {name} {detail}")

    try:
        for _ in range(100):
            if os.path.exists(port_file):
                break
            time.sleep(0.05)
        port, control_port = int(open(port_file).read()), int(open(control_file).read())
        check("passes bytes exactly", send(port, 1_000_000) == "got 1000000")
        check("reset-after", command(control_port, "reset-after 100000") == "ok")
        command(control_port, "reset-connections 1")
        answer = send(port, 1_000_000)
        time.sleep(0.2)
        check("the connection is cut after N bytes", answer in ("reset", "closed") and sink.received[-1] == 100000,
              f"({answer}, sink got {sink.received[-1]})")
        check("the cut applies to K connections only", send(port, 300_000) == "got 300000")
        command(control_port, "bandwidth 500000")
        start = time.monotonic()
        answer = send(port, 500_000)
        elapsed = time.monotonic() - start
        check("bandwidth cap", answer == "got 500000" and 0.8 < elapsed < 3, f"(500 kB at 500 kB/s took {elapsed:.2f} s)")
        command(control_port, "pass")
        command(control_port, "blackhole on")
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"hello")
            try:
                got = s.recv(10)
                check("black hole answers nothing", False, f"(got {got!r})")
            except socket.timeout:
                check("black hole answers nothing", True)
        command(control_port, "pass")
        stats = command(control_port, "stats")
        check("stats", '"resets": 1' in stats and '"connections": 5' in stats, stats)
    finally:
        proxy.terminate()
        proxy.wait()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
