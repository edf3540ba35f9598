"""A process's memory from /proc: one figure (VmRSS, VmHWM …) or a sampler of its peak RSS; and
its CPU time."""

import os
import threading


def cpu_seconds(pid):
    """User + system CPU time of the process (all its threads, those ended included), in seconds,
    from /proc/PID/stat (clock ticks, 10 ms here); None when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After "pid (comm)": state is field 3, utime 14 and stime 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status(pid, key):
    """A kB figure of /proc/PID/status (VmRSS, VmHWM, RssAnon, RssFile), in bytes; None when gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class RSSSampler(threading.Thread):
    """Samples VmRSS every `interval` s until `stop` is set: the peak over the whole run (with
    what it was made of) and the peak since the last take_window()."""

    def __init__(self, pid, interval=0.1):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.window_peak = 0
        self.peak = self.anon = self.file = 0

    def run(self):
        while not self.stop.is_set():
            rss = proc_status(self.pid, "VmRSS")
            if rss is not None:
                with self.lock:
                    self.window_peak = max(self.window_peak, rss)
                if rss > self.peak:
                    # What the peak is made of: the process's own memory, or mapped files (the
                    # binary and its libraries, shared and reclaimable).
                    self.peak = rss
                    self.anon = proc_status(self.pid, "RssAnon") or 0
                    self.file = proc_status(self.pid, "RssFile") or 0
            self.stop.wait(self.interval)

    def take_window(self):
        """Peak sampled RSS since the last call."""
        with self.lock:
            peak, self.window_peak = self.window_peak, 0
        return peak
