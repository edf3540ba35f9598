"""Starting, waiting for and stopping the daemons the scripts drive (gatewayd, hubd, helpers).

A daemon runs in a session of its own (a Ctrl-C on the script reaches the script, which then
stops the daemon itself), its output in a log file. Readiness is a condition — gatewayd's
GET /v1/status answering 200, a TCP port accepting — polled until a deadline, never a fixed sleep.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import time

import unixhttp


class StartFailure(Exception):
    """The daemon exited during start-up (`exit_code`), or was not ready by the deadline
    (`exit_code` None; `last_error` says what the last probe saw)."""

    def __init__(self, exit_code=None, last_error=None, timeout=None):
        self.exit_code, self.last_error, self.timeout = exit_code, last_error, timeout
        super().__init__(f"exited with code {exit_code} during startup" if exit_code is not None
                         else f"not ready after {timeout:.0f} s ({last_error})")


class NotYet(Exception):
    """Raised by a probe: not ready yet, for the reason given (kept verbatim as the last error)."""


class StillRunning(Exception):
    """The process did not go away after SIGKILL."""


class Process:
    """One daemon process: started in its own session, output (stdout and stderr) in `log_path`."""

    def __init__(self, command, log_path):
        self.command = command
        self.log_path = log_path
        self.proc = None
        self._log = None

    def start(self):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def poll(self):
        return self.proc.poll()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_until(self, probe, timeout, interval):
        """Calls `probe()` until it returns something other than None (returned with the seconds
        it took). What `probe` raises (NotYet, OSError, HTTPException) is remembered as the last
        error. Raises StartFailure when the process exits or `timeout` passes first."""
        start = time.monotonic()
        last_error = "no answer"
        while True:
            code = self.proc.poll()
            if code is not None:
                raise StartFailure(exit_code=code, last_error=last_error, timeout=timeout)
            try:
                result = probe()
                if result is not None:
                    return result, time.monotonic() - start
            except NotYet as error:
                last_error = str(error)
            except (OSError, http.client.HTTPException) as error:
                last_error = f"{type(error).__name__}: {error}"
            if time.monotonic() - start >= timeout:
                raise StartFailure(last_error=last_error, timeout=timeout)
            time.sleep(interval)

    def kill9(self, timeout=10):
        """SIGKILL; returns the exit code it already had if it had died by itself, else None."""
        code = self.proc.poll()
        if code is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise StillRunning(f"pid {self.proc.pid} still there {timeout} s after SIGKILL")
        self.close_log()
        return code

    def terminate(self, timeout):
        """SIGTERM, then SIGKILL after `timeout` s; returns (exit code, or None if it had to be
        killed, seconds)."""
        start = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None, time.monotonic() - start
        self.close_log()
        return code, time.monotonic() - start

    def close_log(self):
        if self._log:
            self._log.close()
            self._log = None

    def log_tail(self, lines=25):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join("    | " + line for line in text[-lines:])


# --- gatewayd ---------------------------------------------------------------------------------

def gatewayd_serve(binary, data_dir=None, config=None):
    """The command line of `gatewayd serve`."""
    command = [binary, "serve"]
    if data_dir:
        command += ["--data-dir", data_dir]
    if config:
        command += ["--config", config]
    return command


def socket_path(data_dir):
    """Where gatewayd listens under its data directory."""
    return os.path.join(data_dir, "run", "gatewayd.sock")


def status_probe(sock_path, timeout=2.0):
    """A probe for Process.wait_until: gatewayd's GET /v1/status body once it answers 200."""
    def probe():
        if not os.path.exists(sock_path):
            raise NotYet("socket never appeared")
        try:
            status, body = unixhttp.request(sock_path, "GET", "/v1/status", timeout=timeout)
        except (OSError, http.client.HTTPException) as error:
            raise NotYet(f"GET /v1/status: {type(error).__name__}: {error}")
        if status != 200:
            raise NotYet(f"GET /v1/status answered {status}: {body[:200]!r}")
        return body
    return probe


def wait_gatewayd_ready(process, sock_path, timeout, interval=0.03):
    """Until gatewayd answers GET /v1/status with 200: (status as a dict, seconds)."""
    body, seconds = process.wait_until(status_probe(sock_path), timeout, interval)
    try:
        status = json.loads(body)
    except ValueError:
        status = {}
    return status if isinstance(status, dict) else {}, seconds


# --- TCP daemons (hubd, the fault proxy) -----------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_port(process, port, timeout, interval=0.01):
    """Until 127.0.0.1:port accepts a connection; returns the monotonic time it did."""
    process.wait_until(lambda: True if port_open(port) else None, timeout, interval)
    return time.monotonic()


def wait_for(condition, timeout, interval=0.1):
    """Until `condition()` is true: True, or False when `timeout` s passed first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
