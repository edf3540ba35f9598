"""A pcscd of the script's own, for scripts that insert virtual cards on a shared machine.

pcscd's virtual readers (vsmartcard's vpcd on TCP 35963/35964) are one per machine: a script's
card and another run's (`swift test`, a second checkout's script) would meet in the same reader,
and the daemon under test would then type its PIN into a stranger's card. `enter(argv)` re-runs
the script under `unshare --mount --net --pid` (root only): a network namespace of its own
(loopback up, so vpcd's ports are free), a mount namespace with an empty /run/pcscd, where a pcscd
of its own (`pcscd -f`) listens (gatewayd finds it at the usual socket path), and a PID namespace,
so that nothing inside can signal the machine's pcscd. The pcscd ends with the script (unshare
--kill-child takes the namespace along).
"""

import atexit
import os
import subprocess
import sys
import time

MARK = "PRIVATE_PCSCD_INSIDE"


def enter(argv):
    """Re-executes the script in fresh namespaces (never returns), unless it already is there:
    then starts the private pcscd and returns its process."""
    if os.environ.get(MARK) == "1":
        return _start()
    if os.geteuid() != 0:
        sys.exit(f"{os.path.basename(argv[0])}: --private-pcscd needs root (unshare --mount --net)")
    os.environ[MARK] = "1"
    # --pid and --mount-proc too: a `pkill pcscd` inside (HotPlugTests restarts pcscd so) must
    # see only this pcscd, never the machine's.
    os.execvp("unshare", ["unshare", "--mount", "--net", "--pid", "--mount-proc", "--fork", "--kill-child", "--propagation", "private",
                          sys.executable, os.path.realpath(argv[0]), *argv[1:]])


def _start():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    os.makedirs("/run/pcscd", exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run/pcscd"], check=True)
    log = open("/run/pcscd/pcscd.log", "wb")
    process = subprocess.Popen(["pcscd", "-f"], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    atexit.register(lambda: process.poll() is None and process.terminate())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listening = subprocess.run(["ss", "-Hltn", "sport = :35963"], capture_output=True, text=True).stdout
        if "LISTEN" in listening:
            return process
        if process.poll() is not None:
            break
        time.sleep(0.05)
    sys.exit("private pcscd: the virtual reader does not listen on :35963 (is vsmartcard-vpcd installed?)")
